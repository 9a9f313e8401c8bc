import PuenteAccess
import PuenteCore
import PuenteReference
import PuenteServices
import PuenteStatistics

/// The dashboard's pages, rendered on the server from the statistics engine: plain HTML with inline
/// SVG, one small stylesheet and one optional script, no fonts or outside resources. Every figure goes
/// through the same disclosure control as the API, and every chart links to its data in the API.
struct DashboardPages: Sendable {
    enum Page: String, CaseIterable, Sendable {
        case overview = "/", returns = "/returns", movements = "/movements", quality = "/quality", imports = "/imports"
        case region = "/region", mirror = "/region/mirror"

        var title: Bilingual {
            switch self {
            case .overview: Bilingual("Resumen", "Overview")
            case .returns: Bilingual("Retornos", "Returns")
            case .movements: Bilingual("Movimientos fronterizos", "Border movements")
            case .quality: Bilingual("Calidad de los datos", "Data quality")
            case .imports: Bilingual("Importaciones", "Imports")
            case .region: Bilingual("Región", "Region")
            case .mirror: Bilingual("Estadísticas espejo", "Mirror statistics")
            }
        }
    }

    let engine: StatisticsEngine
    let store: any EventStore
    let reference: ReferenceData
    let policy: DisclosurePolicy
    let labels: CodeLabels
    /// What member countries sent, for the regional page.
    let regional: RegionalStatistics?
    /// Both sides of flows, for the mirror page.
    let mirror: MirrorStatistics?
    /// A hub: its home page is the region's, and the national pages (it has no events) are not shown.
    let hub: Bool
    /// The bodies of statistics pages already drawn, per address (language and filters), each for the data
    /// it was drawn from. At most 8 MB: a few dozen of the heaviest pages (the returns page with its map is
    /// about 150 kB) and every light one.
    let cache = StateBoundCache<StatisticsEngine.DataState, PageKey, String>(capacity: 8 << 20)

    struct PageKey: Hashable, Sendable {
        var page: Page
        var state: DashboardState
    }

    init(
        engine: StatisticsEngine, store: any EventStore, reference: ReferenceData, policy: DisclosurePolicy,
        regional: RegionalStatistics? = nil, mirror: MirrorStatistics? = nil, hub: Bool = false
    ) {
        self.engine = engine
        self.store = store
        self.reference = reference
        self.policy = policy
        labels = CodeLabels(reference: reference)
        self.regional = regional
        self.mirror = mirror
        self.hub = hub
    }

    func render(_ page: Page, state: DashboardState, identity: Identity? = nil) async throws -> String {
        // A hub's home is the region's page.
        let page = hub && page == .overview ? .region : page
        let context = try await Context(pages: self, state: state)
        let showsImports = identity?.role.holds(.imports) == true
        // The statistics pages are drawn from the engine alone, so a body drawn from the same data serves
        // again. The others read imports in progress or packages received, which the data state omits.
        guard !hub, [.overview, .returns, .movements].contains(page) else {
            return layout(page, context, identity: identity, body: try await body(page, context, showsImports))
        }
        let key = PageKey(page: page, state: state)
        let data = try await engine.dataState()
        if let body = cache.value(key, state: data) { return layout(page, context, identity: identity, body: body) }
        let body = try await body(page, context, showsImports)
        // Kept only when no commit, rollback or link run came while it was drawn.
        if try await engine.dataState() == data { cache.keep(body, for: key, state: data, cost: body.utf8.count) }
        return layout(page, context, identity: identity, body: body)
    }

    private func body(_ page: Page, _ context: Context, _ showsImports: Bool) async throws -> String {
        switch page {
        case .region: try await region(context)
        case .mirror: try await mirror(context)
        case .overview: try await overview(context)
        case .returns: try await returns(context)
        case .movements: try await movements(context)
        case .quality: try await quality(context, showsImports: showsImports)
        case .imports: try await imports(context)
        }
    }

    // MARK: Per-request context

    /// What every page needs: the state, the period it resolves to, and the choices of the filter form.
    struct Context {
        let state: DashboardState
        let charts: Charts
        /// The period filter applied (nil: all periods).
        let period: String?
        let years: [String]
        let countries: [String]

        init(pages: DashboardPages, state: DashboardState) async throws {
            self.state = state
            charts = Charts(state: state)
            let byYear = try await pages.engine.run(
                StatisticsQuery(measure: .events, by: [.year, .reportingCountry]), policy: pages.policy)
            years = Set(byYear.cells.map { $0.key[0] }.filter { $0 != "_U" }).sorted()
            countries = Set(byYear.cells.map { $0.key[1] }.filter { pages.reference.geographies[$0] != nil }).sorted()
            switch state.period {
            case "all": period = nil
            case let p?: period = p
            case nil: period = years.last
            }
        }
    }

    // MARK: Panels

    /// One chart of a page: what it asks the statistics engine and how it is drawn.
    struct Panel {
        enum Kind { case columns, bars, pyramid }
        var id: String
        var title: Bilingual
        var measure: Measure
        var by: [Dimension]
        var kind: Kind
        /// Filters the measure accepts (mirror coverage takes fewer); nil for all.
        var accepted: Set<Dimension>? = nil
    }

    private func query(_ panel: Panel, _ context: Context, keepPeriod: Bool = true) -> StatisticsQuery {
        StatisticsQuery(
            measure: panel.measure, by: panel.by,
            filters: context.state.filters(period: keepPeriod ? context.period : nil, accepted: panel.accepted))
    }

    /// CSV and SDMX links of a query: the API's own answers, with the same protection.
    func downloads(_ query: StatisticsQuery, _ context: Context) -> [Download] {
        func url(_ q: StatisticsQuery, format: String) -> String {
            var items = ["measure=\(q.measure.rawValue)"]
            if !q.by.isEmpty { items.append("by=" + q.by.map(\.rawValue).joined(separator: ",")) }
            let filters = q.filters.sorted { $0.key.rawValue < $1.key.rawValue }
                .flatMap { d, codes in codes.map { "\(d.rawValue):\($0)" } }
            if !filters.isEmpty { items.append("filter=" + URLText.encode(filters.joined(separator: ","))) }
            items.append("format=\(format)")
            return "/api/v1/stats?" + items.joined(separator: "&")
        }
        var links = [Download(label: "CSV", url: url(query, format: "csv"))]
        if query.measure.isCount, !query.by.contains(.source) {
            // SDMX series need a period: add the filtered one (or years) to the breakdown.
            var sdmx = query
            if !sdmx.by.contains(where: { [.year, .quarter, .month].contains($0) }) {
                let period = context.period.flatMap(DashboardState.periodDimension) ?? .year
                sdmx.by.append(period)
            }
            links.append(Download(label: "SDMX", url: url(sdmx, format: "sdmx-csv")))
        }
        return links
    }

    private func valueHeader(_ measure: Measure, _ state: DashboardState) -> String {
        state.t(Bilingual(measure.title.es, measure.title.en))
    }

    /// Runs a panel's query and draws it.
    func draw(_ panel: Panel, _ context: Context) async throws -> String {
        let q = query(panel, context)
        let table = try await engine.run(q, policy: policy)
        let state = context.state
        let decimals = panel.measure.isWhole ? 0 : 1
        let title = state.t(panel.title)
        switch panel.kind {
        case .columns, .bars:
            let dimension = panel.by[0]
            let rows = table.cells.filter { panel.kind == .bars || $0.key[0] != "_U" }
                .map { ChartRow(code: $0.key[0], label: labels.name(dimension, $0.key[0], state), cell: $0) }
            guard !rows.isEmpty else { return empty(title, state) }
            return panel.kind == .columns
                ? context.charts.columns(
                    id: panel.id, title: title, rows: rows, valueHeader: valueHeader(panel.measure, state),
                    downloads: downloads(q, context), decimals: decimals)
                : context.charts.bars(
                    id: panel.id, title: title, rows: rows, valueHeader: valueHeader(panel.measure, state),
                    downloads: downloads(q, context), decimals: decimals)
        case .pyramid:
            // by: [age dimension, sex]
            let cells = Dictionary(table.cells.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let ages = (AgeGrouping.fiveYear.codes.filter { $0 != "_U" }).compactMap {
                age -> (String, StatisticsCell?, StatisticsCell?)? in
                let (f, m) = (cells[[age, "F"]], cells[[age, "M"]])
                return f == nil && m == nil ? nil : (labels.name(.ageGroup, age, state), f, m)
            }
            guard !ages.isEmpty else { return empty(title, state) }
            return context.charts.pyramid(
                id: panel.id, title: title, ages: ages.map { ($0.0, $0.1, $0.2) }, downloads: downloads(q, context))
        }
    }

    private func empty(_ title: String, _ state: DashboardState) -> String {
        "<figure><figcaption>\(HTML.escape(title))</figcaption><p class=\"none\">\(state.t("Sin datos para esta selección.", "No data for this selection."))</p></figure>"
    }

    // MARK: Pages

    private func overview(_ context: Context) async throws -> String {
        let state = context.state
        var html = "<section class=\"cards\">"
        for (measure, id) in [(Measure.returns, "total-returns"), (.entries, "total-entries"), (.exits, "total-exits")]
        {
            let (cell, change) = try await headline(measure, context)
            html +=
                "<div class=\"card\" id=\"\(id)\">\(HTML.escape(state.t(Bilingual(measure.title.es, measure.title.en))))"
                + "<b>\(context.charts.number(cell))</b><small>\(change)</small></div>"
        }
        html += "</section>"
        html += try await draw(
            Panel(
                id: "returns-by-month", title: Bilingual("Retornos por mes", "Returns by month"),
                measure: .returns, by: [.month], kind: .columns), context)
        html += try await draw(
            Panel(
                id: "returns-by-department",
                title: Bilingual("Retornos por departamento de residencia", "Returns by department of residence"),
                measure: .returns, by: [.department], kind: .bars), context)
        html += try await topMunicipalities(context)
        return html
    }

    /// The value of a measure for the period and its change on the previous period.
    private func headline(_ measure: Measure, _ context: Context) async throws -> (StatisticsCell, String) {
        let state = context.state
        guard let period = context.period, let dimension = DashboardState.periodDimension(period) else {
            let table = try await engine.run(
                StatisticsQuery(measure: measure, filters: state.filters(period: nil)), policy: policy)
            return (table.total, "")
        }
        // The breakdown by period carries the change on the previous one.
        let table = try await engine.run(
            StatisticsQuery(measure: measure, by: [dimension], filters: state.filters(period: nil)), policy: policy)
        let cell = table.cells.first { $0.key == [period] } ?? StatisticsCell.zero
        let previous = state.t("respecto al periodo anterior", "on the previous period")
        return (cell, cell.changePrevious.map { context.charts.change($0) + " " + previous } ?? "")
    }

    private func topMunicipalities(_ context: Context) async throws -> String {
        let state = context.state
        let dimension: Dimension = state.mapLevel == .municipality2024 ? .municipality2024 : .municipality
        let countQuery = StatisticsQuery(
            measure: .returns, by: [dimension], filters: state.filters(period: context.period))
        var rateQuery = countQuery
        rateQuery.measure = .returnsPer1000
        let counts = try await engine.run(countQuery, policy: policy)
        let rates = try await engine.run(rateQuery, policy: policy)
        let rateOf = Dictionary(rates.cells.map { ($0.key[0], $0) }, uniquingKeysWith: { a, _ in a })
        let top = counts.cells.filter { $0.key[0] != "_U" && $0.value != nil }.sorted { $0.value! > $1.value! }.prefix(
            10)
        let charts = context.charts
        let table = charts.table(
            id: "top-municipalities",
            headers: [
                state.t("Municipio", "Municipality"), state.t("Código", "Code"),
                state.t("Retornos", "Returns"), state.t("por 1 000 hab.", "per 1,000 inhabitants"),
            ],
            rows: top.map {
                [
                    labels.name(dimension, $0.key[0], state), $0.key[0], charts.number($0),
                    charts.number(rateOf[$0.key[0]], decimals: 1),
                ]
            })
        let links =
            (downloads(countQuery, context)
            + downloads(rateQuery, context).prefix(1).map {
                Download(label: state.t("CSV por 1 000 hab.", "CSV per 1,000"), url: $0.url)
            })
            .map { "<a href=\"\(HTML.escape($0.url))\" download>\(HTML.escape($0.label))</a>" }.joined(separator: " ")
        return "<section><h2>\(state.t("Municipios con más retornos", "Municipalities with most returns"))</h2>\(table)"
            + charts.estimateNote(top.compactMap { rateOf[$0.key[0]] })
            + "<p class=\"dl\">\(state.t("Descargar", "Download")): \(links)</p></section>"
    }

    private func returns(_ context: Context) async throws -> String {
        var html = try await draw(
            Panel(
                id: "returns-by-month", title: Bilingual("Retornos por mes", "Returns by month"),
                measure: .returns, by: [.month], kind: .columns), context)
        html += try await draw(
            Panel(
                id: "returns-pyramid", title: Bilingual("Retornos por sexo y edad", "Returns by sex and age"),
                measure: .returns, by: [.ageGroup, .sex], kind: .pyramid), context)
        html += try await persons(context)
        html += try await map(context)
        html += try await topMunicipalities(context)
        html += try await draw(
            Panel(
                id: "returns-by-country",
                title: Bilingual("Retornos por país desde el que se retorna", "Returns by country returned from"),
                measure: .returns, by: [.returningFrom], kind: .bars), context)
        html += try await draw(
            Panel(
                id: "returns-by-type", title: Bilingual("Retornos por tipo de retorno", "Returns by return type"),
                measure: .returns, by: [.returnType], kind: .bars), context)
        return html
    }

    /// Returns are events: the same person may be returned several times. Linked persons show how many
    /// people that was, and how many returns were of people returned before.
    private func persons(_ context: Context) async throws -> String {
        let state = context.state
        guard await engine.personFiguresAreCurrent() else {
            return "<p class=\"none\" id=\"returned-persons\">"
                + state.t(
                    "Las personas distintas aparecen cuando los registros se han vinculado (puente link persons) después de la última importación.",
                    "Distinct persons appear once records are linked (puente link persons) after the latest import.")
                + "</p>"
        }
        var html = try await draw(
            Panel(
                id: "returned-persons-by-month",
                title: Bilingual(
                    "Personas retornadas por mes (cada persona una vez al mes)",
                    "Returned persons by month (each person once a month)"),
                measure: .returnedPersons, by: [.month], kind: .columns), context)
        let share = try await engine.run(
            StatisticsQuery(measure: .repeatReturnShare, filters: state.filters(period: context.period)),
            policy: policy)
        if let value = share.total.value {
            let text = context.charts.number(value, decimals: 1)
            html +=
                "<p class=\"note\" id=\"repeat-returns\">"
                + state.t(
                    "\(text) % de los retornos fueron de personas retornadas antes.",
                    "\(text)% of returns were of persons returned before.") + "</p>"
        }
        return html
    }

    /// The choropleth of returns, or returns per 1,000 inhabitants, by municipality of residence.
    private func map(_ context: Context) async throws -> String {
        let state = context.state
        // The country whose returnees are mapped: the one filtered, or the one recording most returns.
        let byCountry = try await engine.run(
            StatisticsQuery(
                measure: .returns, by: [.reportingCountry],
                filters: state.filters(period: context.period)), policy: policy)
        let country = state.country ?? byCountry.cells.filter { $0.value != nil }.max { $0.value! < $1.value! }?.key[0]
        let level = country == "SLV" ? state.mapLevel : .municipality
        guard let country, let boundaries = BoundaryMap.of(country: country, level: level) else { return "" }
        let dimension: Dimension = level == .municipality2024 ? .municipality2024 : .municipality
        let measure: Measure = state.mapRate ? .returnsPer1000 : .returns
        let q = StatisticsQuery(measure: measure, by: [dimension], filters: state.filters(period: context.period))
        let table = try await engine.run(q, policy: policy)
        let values = Dictionary(table.cells.map { ($0.key[0], $0) }, uniquingKeysWith: { a, _ in a })
        let title =
            state.mapRate
            ? state.t(
                "Retornos por 1 000 habitantes, por municipio de residencia",
                "Returns per 1,000 inhabitants by municipality of residence")
            : state.t("Retornos por municipio de residencia", "Returns by municipality of residence")
        var switches = "<p class=\"switch\">"
        switches +=
            state.mapRate
            ? "<a href=\"\(HTML.escape(state.link("/returns", changing: ["map_value": nil])))\">\(state.t("Ver números", "Show counts"))</a>"
            : "<a href=\"\(HTML.escape(state.link("/returns", changing: ["map_value": "rate"])))\">\(state.t("Ver por 1 000 habitantes", "Show per 1,000 inhabitants"))</a>"
        if country == "SLV" {
            switches +=
                level == .municipality2024
                ? " · <a href=\"\(HTML.escape(state.link("/returns", changing: ["map": nil])))\">\(state.t("262 municipios anteriores a 2024", "262 municipalities before 2024"))</a>"
                : " · <a href=\"\(HTML.escape(state.link("/returns", changing: ["map": "municipality_2024"])))\">\(state.t("44 municipios de 2024", "44 municipalities of 2024"))</a>"
        }
        switches += "</p>"
        return switches
            + context.charts.choropleth(
                id: "returns-map", title: title, map: boundaries, values: values,
                valueHeader: valueHeader(measure, state), downloads: downloads(q, context),
                decimals: state.mapRate ? 1 : 0)
    }

    private func movements(_ context: Context) async throws -> String {
        var html = ""
        for (measure, word) in [
            (Measure.entries, Bilingual("Entradas", "Entries")), (.exits, Bilingual("Salidas", "Exits")),
        ] {
            let id = measure.rawValue
            html += try await draw(
                Panel(
                    id: "\(id)-by-month", title: Bilingual("\(word.es) por mes", "\(word.en) by month"),
                    measure: measure, by: [.month], kind: .columns), context)
            html += try await draw(
                Panel(
                    id: "\(id)-by-place",
                    title: Bilingual("\(word.es) por punto fronterizo", "\(word.en) by crossing point"),
                    measure: measure, by: [.place], kind: .bars), context)
            html += try await draw(
                Panel(
                    id: "\(id)-by-nationality",
                    title: Bilingual("\(word.es) por nacionalidad", "\(word.en) by nationality"),
                    measure: measure, by: [.nationality], kind: .bars), context)
        }
        return html
    }

    /// - Parameter showsImports: rejections per import (file names, row counts) are what the
    ///   `imports` permission guards in the API; the page shows them to the same roles only.
    private func quality(_ context: Context, showsImports: Bool) async throws -> String {
        let state = context.state
        var html = try await coverage(context)
        if showsImports { html += try await rejections(context) }
        // Mirror coverage needs the partner's exports; shown when they are loaded.
        let mirror = Panel(
            id: "mirror-coverage", title: Bilingual(Measure.mirrorCoverage.title.es, Measure.mirrorCoverage.title.en),
            measure: .mirrorCoverage, by: [.returningFrom], kind: .bars,
            accepted: [.reportingCountry, .year, .quarter, .month])
        let table = try await engine.run(query(mirror, context), policy: policy)
        html += "<h2>\(state.t("Cobertura espejo", "Mirror coverage"))</h2>"
        if table.cells.contains(where: { ($0.value ?? 0) > 0 }) {
            html += try await draw(mirror, context)
        } else {
            html +=
                "<p class=\"none\" id=\"mirror-coverage\">\(state.t("Sin datos del país socio: la cobertura espejo aparece cuando se cargan sus salidas.", "No partner data: mirror coverage appears once the partner's exits are loaded."))</p>"
        }
        return html
    }

    /// Registration coverage of each field, per source: one bar per source and field.
    private func coverage(_ context: Context) async throws -> String {
        let state = context.state
        let fields: [(Measure, Bilingual)] = [
            (.coverageSex, Bilingual("sexo", "sex")), (.coverageAge, Bilingual("edad", "age")),
            (.coverageMunicipality, Bilingual("municipio", "municipality")),
            (.coverageDocument, Bilingual("documento", "document")),
        ]
        var rows: [ChartRow] = []
        var links: [Download] = []
        for (measure, field) in fields {
            let q = StatisticsQuery(measure: measure, by: [.source], filters: state.filters(period: context.period))
            for cell in try await engine.run(q, policy: policy).cells {
                rows.append(ChartRow(code: cell.key[0], label: "\(cell.key[0]) · \(state.t(field))", cell: cell))
            }
            links += downloads(q, context).map { Download(label: "CSV (\(state.t(field)))", url: $0.url) }
        }
        let title = state.t(
            "Cobertura del registro por campo y fuente (%)", "Registration coverage by field and source (%)")
        guard !rows.isEmpty else { return empty(title, state) }
        // Fields in a fixed order per source, not sorted by value: gaps show as short bars.
        return context.charts.bars(
            id: "coverage", title: title, rows: rows, valueHeader: state.t("Cobertura (%)", "Coverage (%)"),
            downloads: links, decimals: 1, limit: rows.count, sorted: false)
    }

    /// Rejected rows per rule and import, over time.
    private func rejections(_ context: Context) async throws -> String {
        let state = context.state
        let counts = try await store.rejectionCounts(imports: 24)
        let html = "<h2>\(state.t("Filas rechazadas por regla", "Rejected rows by rule"))</h2>"
        guard !counts.isEmpty else {
            return html
                + "<p class=\"none\" id=\"rejections\">\(state.t("Ninguna importación tiene filas rechazadas.", "No import has rejected rows."))</p>"
        }
        let rules = Set(counts.map(\.rule)).sorted()
        var byImport: [Int64: (String, String, [String: Int])] = [:]
        for c in counts { byImport[c.importID, default: (c.startedAt, c.file, [:])].2[c.rule] = c.rows }
        let imports = byImport.keys.sorted()
        let rows = imports.map { id -> [String] in
            let (started, file, perRule) = byImport[id]!
            return ["\(id)", String(started.prefix(10)), file]
                + rules.map { context.charts.number(Double(perRule[$0] ?? 0)) }
        }
        let chartRows = imports.map { id in
            ChartRow(
                code: "#\(id)", label: "#\(id) \(byImport[id]!.1)",
                cell: StatisticsCell(key: ["\(id)"], value: Double(byImport[id]!.2.values.reduce(0, +))))
        }
        let table = context.charts.table(
            id: "rejections-table",
            headers: [
                state.t("Importación", "Import"), state.t("Fecha", "Date"),
                state.t("Archivo", "File"),
            ] + rules, rows: rows)
        // The table by rule is what a data officer acts on, so it is shown; the chart shows the trend.
        return html + table
            + context.charts.columns(
                id: "rejections", title: state.t("Filas rechazadas por importación", "Rejected rows per import"),
                rows: chartRows,
                labelHeader: state.t("Importación", "Import"),
                valueHeader: state.t("Filas rechazadas", "Rejected rows"),
                downloads: [
                    Download(label: "CSV", url: "/api/v1/imports/rejections?format=csv"),
                    Download(label: "JSON", url: "/api/v1/imports/rejections"),
                ])
    }

    private func imports(_ context: Context) async throws -> String {
        let state = context.state
        let records = try await store.imports(limit: 50)
        let charts = context.charts
        let statusName: [ImportStatus: Bilingual] = [
            .committed: Bilingual("confirmada", "committed"),
            .pending: Bilingual("en curso", "pending"), .rolledBack: Bilingual("revertida", "rolled back"),
        ]
        let table = charts.table(
            id: "imports-table",
            headers: [
                state.t("Importación", "Import"), state.t("Inicio (UTC)", "Started (UTC)"), state.t("Archivo", "File"),
                state.t("Perfil", "Profile"),
                state.t("Estado", "Status"), state.t("Leídas", "Read"), state.t("Aceptadas", "Accepted"),
                state.t("Rechazadas", "Rejected"),
                state.t("Duplicadas", "Duplicates"),
            ],
            rows: records.map { r in
                [
                    "\(r.id)", r.startedAt, r.request.file, r.request.profile, state.t(statusName[r.status]!),
                    charts.number(Double(r.counts.read)), charts.number(Double(r.counts.accepted)),
                    charts.number(Double(r.counts.rejected)),
                    charts.number(Double(r.counts.duplicates)),
                ]
            })
        // A pending batch counts nothing: an import running now, or one that was interrupted and waits.
        let pending = records.filter { $0.status == .pending }
        let warning =
            pending.isEmpty
            ? ""
            : "<p class=\"warning\" id=\"pending-imports\" role=\"alert\">"
                + state.t(
                    "\(pending.count) importación(es) en curso no cuentan nada: \(pending.map { "#\($0.id)" }.joined(separator: ", ")). Si ninguna importación se está ejecutando, complete cada una importando de nuevo su archivo, o retírela con puente imports rollback.",
                    "\(pending.count) pending import(s) count nothing: \(pending.map { "#\($0.id)" }.joined(separator: ", ")). Unless an import is running now, complete each by importing its file again, or remove it with puente imports rollback."
                ) + "</p>"
        return "<section><h2>\(state.t("Importaciones recientes", "Recent imports"))</h2>" + warning
            + "<p>\(state.t("Cada importación termina con leídas = aceptadas + rechazadas + duplicadas. Las filas rechazadas quedan en cuarentena para su corrección (puente rejects list).", "Every import ends with read = accepted + rejected + duplicates. Rejected rows stay in quarantine for correction (puente rejects list)."))</p>"
            + table
            + "<p class=\"dl\">\(state.t("Descargar", "Download")): <a href=\"/api/v1/imports\" download>JSON</a></p></section>"
            + (try await rejections(context))
    }

    // MARK: Layout

    private func layout(_ page: Page, _ context: Context, identity: Identity?, body: String) -> String {
        let state = context.state
        // Pages the visitor may open; the imports page is for roles that handle imports.
        let visible = Page.allCases.filter { p in
            if hub { return p == .region || p == .mirror }
            if p == .region || p == .mirror { return regional != nil }
            return p != .imports || identity?.role.holds(.imports) == true
        }
        let nav = visible.map { p in
            "<a href=\"\(HTML.escape(state.link(p.rawValue)))\"\(p == page ? " aria-current=\"page\"" : "")>\(state.t(p.title))</a>"
        }.joined()
        let other: Language = state.language == .es ? .en : .es
        let switchLanguage =
            "<a id=\"lang\" hreflang=\"\(other.rawValue)\" href=\"\(HTML.escape(state.link(page.rawValue, changing: ["lang": other == .es ? nil : "en"])))\">\(other == .es ? "Español" : "English")</a>"
        let protection =
            policy.method == .cellKey
            ? state.t(
                "Cifras protegidas por el método de la llave de celda: cada una lleva un pequeño ruido, siempre el mismo para la misma cifra; las menores que \(policy.threshold) se suprimen y se marcan con x.",
                "Figures protected by the cell key method: each carries small noise, always the same for the same figure; those below \(policy.threshold) are suppressed and marked x."
            )
            : state.t(
                "Cifras protegidas por supresión: las menores que \(policy.threshold), y las que permitirían deducirlas, se marcan con x.",
                "Figures protected by suppression: those below \(policy.threshold), and those that would reveal them, are marked x."
            )
        return """
            <!doctype html><html lang="\(state.language.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Puente — \(state.t(page.title))</title>
            <link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/dashboard.css"><script src="/assets/dashboard.js" defer></script></head><body>
            <header><strong>Puente</strong><nav>\(nav)</nav>\(account(identity, page, state))\(switchLanguage)</header>
            <main><h1>\(state.t(page.title))</h1>
            \(page == .imports || page == .region || page == .mirror || hub ? "" : filterForm(page, context))
            <p class="note">\(protection)</p>
            \(body)
            </main><footer><a href="/openapi.json">API (OpenAPI)</a> · <a href="/api/v1/sdmx/structure">SDMX</a></footer></body></html>

            """
    }

    private func account(_ identity: Identity?, _ page: Page, _ state: DashboardState) -> String {
        var links = ""
        if let role = identity?.role, !hub {
            // The work screens of the roles that have them.
            if role.holds(.cases) {
                links +=
                    "<a href=\"\(state.language == .en ? "/cases?lang=en" : "/cases")\">\(state.t("Casos", "Cases"))</a>"
            }
            if role.holds(.partnerReferrals) {
                links +=
                    "<a href=\"\(state.language == .en ? "/partner?lang=en" : "/partner")\">\(state.t("Remisiones", "Referrals"))</a>"
            }
        }
        return links + Self.account(identity, next: state.link(page.rawValue), state: state)
    }

    /// Who is logged in with a logout button (a POST form carrying the session's CSRF token), or a login
    /// link that comes back to `next`.
    static func account(_ identity: Identity?, next: String, state: DashboardState) -> String {
        guard let identity else {
            return
                "<a id=\"login\" href=\"/login?next=\(URLText.encode(next))\(state.language == .en ? "&amp;lang=en" : "")\">\(state.t("Entrar", "Log in"))</a>"
        }
        return
            "<form id=\"logout\" method=\"post\" action=\"/logout\"><span>\(HTML.escape(identity.user.username))</span>"
            + "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(identity.credential.csrfToken ?? ""))\">"
            + "<button type=\"submit\">\(state.t("Salir", "Log out"))</button></form>"
    }

    /// The filters, as a GET form so the page's address holds them.
    private func filterForm(_ page: Page, _ context: Context) -> String {
        let state = context.state
        func select(_ name: String, _ label: String, _ options: [(String, String)], selected: String?) -> String {
            "<label>\(HTML.escape(label)) <select name=\"\(name)\">"
                + options.map {
                    "<option value=\"\(HTML.escape($0.0))\"\($0.0 == (selected ?? "") ? " selected" : "")>\(HTML.escape($0.1))</option>"
                }.joined()
                + "</select></label>"
        }
        var periods: [(String, String)] = [("all", state.t("Todos", "All"))]
        for year in context.years.reversed() {
            periods.append((year, year))
            periods += (1...4).map { ("\(year)-Q\($0)", "\(year) " + state.t("T", "Q") + "\($0)") }
        }
        let countries =
            [("", state.t("Todos", "All"))] + context.countries.map { ($0, labels.name(.reportingCountry, $0, state)) }
        let departmentCountries = state.country.map { [$0] } ?? context.countries
        let departments =
            [("", state.t("Todos", "All"))]
            + departmentCountries.compactMap { reference.geographies[$0] }
            .flatMap { $0.departments.codes.map { ($0.id, $0.name) } }
        let hidden = state.parameters().filter { ["lang", "map", "map_value"].contains($0.0) }
            .map { "<input type=\"hidden\" name=\"\($0.0)\" value=\"\(HTML.escape($0.1))\">" }.joined()
        return "<form id=\"filters\" method=\"get\" action=\"\(page.rawValue)\">" + hidden
            + select("period", state.t("Periodo", "Period"), periods, selected: context.period ?? "all")
            + select("country", state.t("País que registra", "Reporting country"), countries, selected: state.country)
            + select("department", state.t("Departamento", "Department"), departments, selected: state.department)
            + select(
                "sex", state.t("Sexo", "Sex"),
                [("", state.t("Ambos", "Both")), ("F", state.t("Mujeres", "Women")), ("M", state.t("Hombres", "Men"))],
                selected: state.sex)
            + "<button type=\"submit\">\(state.t("Aplicar", "Apply"))</button></form>"
    }
}
