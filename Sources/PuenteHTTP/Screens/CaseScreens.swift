import Foundation
import PuenteAccess
import PuenteCore
import PuenteIngest
import PuenteReference
import PuenteReintegration
import PuenteServices
import PuenteStatistics

/// The work screens of reintegration: a case worker's cases, the reception form, a case with its
/// timeline, consents, referrals, plan, grants and scores, the follow-ups due, and a partner's inbox.
/// Every decision is the services', exactly as over the JSON API; a screen reads, renders and posts.
struct CaseScreens: Sendable {
    let cases: CaseService
    let referrals: ReferralService
    let consents: ConsentService
    let followUps: FollowUpService?
    let grants: GrantService
    let reception: ReceptionService
    let reference: ReferenceData
    let labels: CodeLabels
    /// Referrals other nodes made to partners working here; nil on a node without an identity.
    let incoming: ReferralExchange?

    init(store: any PuenteStore, node: NodeIdentity?, followUps: FollowUpService?, reference: ReferenceData) {
        cases = CaseService(store: store)
        referrals = ReferralService(store: store, node: node)
        incoming = node.map { ReferralExchange(store: store, node: $0) }
        consents = ConsentService(store: store)
        self.followUps = followUps
        grants = GrantService(store: store)
        reception = ReceptionService(store: store, reference: reference)
        self.reference = reference
        labels = CodeLabels(reference: reference)
    }

    func survey() throws -> FollowUpService {
        guard let followUps else {
            throw PuenteError(.storeFailure, "The survey instrument is missing from this build of Puente.")
        }
        return followUps
    }

    private func municipality(_ code: String?, _ page: ScreenPage) -> String {
        code.map { labels.name(.municipality, $0, page.state) } ?? "—"
    }

    private func sexAndAge(_ profile: CaseProfile, _ page: ScreenPage) -> String {
        let sex: String
        switch profile.sex {
        case .female: sex = page.t("Mujer", "Woman")
        case .male: sex = page.t("Hombre", "Man")
        default: sex = "—"
        }
        return sex + (profile.age.map { ", \($0)" } ?? "")
    }

    private func caseLink(_ id: Int64, _ page: ScreenPage) -> String {
        "<a href=\"\(HTML.escape(page.link("/cases/\(id)")))\">#\(id)</a>"
    }

    // MARK: Cases

    /// The cases the account sees: its own (assigned to it) by default, or the whole office's.
    /// Whose cases the list shows a case worker: their own (the default) or their office's.
    enum Scope: String, CaseIterable { case mine, office }

    func caseList(_ page: ScreenPage, actor: Actor, scope: Scope?, today: CivilDate = .today) async throws -> String {
        let mine = scope != .office && actor.role == .caseWorker
        let files = try await cases.list(
            CaseQuery(assignee: mine ? actor.name : nil, limit: 1000), by: actor)
        // New arrivals first: they wait for screening.
        let open = files.filter { $0.status != .closed }.sorted {
            ($0.status == .registered ? 0 : 1, $0.id) < ($1.status == .registered ? 0 : 1, $1.id)
        }
        let closed = files.filter { $0.status == .closed }
        func row(_ file: CaseFile) -> [String] {
            let days = today.daysSinceEpoch - file.profile.arrivalDay.daysSinceEpoch
            let who = sexAndAge(file.profile, page)
            return [
                caseLink(file.id, page), HTML.escape(page.t(CaseLabels.status(file.status))),
                file.profile.arrivalDay.description, "\(days)", HTML.escape(who),
                HTML.escape(municipality(file.profile.municipality, page)), HTML.escape(file.assignee ?? "—"),
            ]
        }
        let headers = [
            page.t("Caso", "Case"), page.t("Estado", "Status"), page.t("Llegada", "Arrival"),
            page.t("Días desde la llegada", "Days since arrival"), page.t("Sexo, edad", "Sex, age"),
            page.t("Municipio", "Municipality"), page.t("Asignado a", "Assigned to"),
        ]
        let switchScope =
            actor.role == .caseWorker
            ? "<p class=\"switch\">"
                + (mine
                    ? "<a href=\"\(HTML.escape(page.link("/cases", [("scope", "office")])))\">\(page.t("Ver todos los casos de la oficina", "See every case of the office"))</a>"
                    : "<a href=\"\(HTML.escape(page.link("/cases")))\">\(page.t("Ver solo mis casos", "See my cases only"))</a>")
                + "</p>" : ""
        return switchScope
            + "<p><a class=\"button\" href=\"\(HTML.escape(page.link("/reception")))\">\(page.t("Registrar un retorno", "Register a return"))</a></p>"
            + page.openAndClosed(
                ids: ("open-cases", "closed-cases"), headers: headers, open: open.map(row), closed: closed.map(row),
                titles: (Bilingual("Abiertos", "Open"), Bilingual("Cerrados", "Closed")),
                empty: Bilingual("Ningún caso abierto.", "No open case."))
    }

    // MARK: Reception

    /// The reception form, keeping what was typed when it comes back refused.
    func receptionForm(_ page: ScreenPage, actor: Actor, values: FormBody? = nil, today: CivilDate = .today) -> String {
        let registers = ReceptionService.registers(country: actor.country)
        guard let first = registers.first else {
            return
                "<p class=\"none\">\(page.t("No hay registros de retornos para el país de su cuenta.", "There is no register of returns for your account's country."))</p>"
        }
        let register = registers.first { $0.id == values?["register"] } ?? first
        let geography = reference.geography(register.reportingCountry)
        var municipalities: [(String, String)] = [("", page.t("— sin dato —", "— not known —"))]
        for department in geography?.departments.codes ?? [] {
            for unit in (geography?.baseUnits.codes ?? []).filter({ $0.parent == department.id }) {
                municipalities.append((unit.id, "\(unit.name) (\(department.name))"))
            }
        }
        func coded(_ codes: [String]?, list: PuenteStatistics.Dimension) -> [(String, String)] {
            [("", page.t("— sin dato —", "— not known —"))]
                + (codes ?? []).sorted().map { ($0, labels.name(list, $0, page.state)) }
        }
        let places = coded(register.values[.place].map { Array($0.keys) }, list: .place)
        let modes = coded(register.values[.transportMode].map { Array($0.keys) }, list: .transportMode)
        let types = coded(register.values[.returnType].map { Array($0.keys) }, list: .returnType)
        let documents: [(String, String)] =
            [("", page.t("— sin dato —", "— not known —"))]
            + (register.values[.documentType].map { Array($0.keys) } ?? []).sorted().map {
                ($0, $0.replacingOccurrences(of: "_", with: " ").lowercased())
            }
        let origins = ["USA", "MEX", "GTM", "HND", "SLV", "NIC", "CRI", "PAN", "BLZ", "CAN", "ESP"]
            .filter { $0 != register.reportingCountry }.map { ($0, labels.name(.returningFrom, $0, page.state)) }
        let v = { (name: String) in values?[name] }
        return "<form method=\"post\" action=\"/reception\" id=\"reception\" class=\"sheet\">" + page.formFields
            + page.select(
                "register", page.t("Registro", "Register"), registers.map { ($0.id, $0.title) }, selected: register.id)
            + "<fieldset><legend>\(page.t("Retorno", "Return"))</legend>"
            + page.input(
                "recordKey", page.t("Número de registro", "Register number"), value: v("recordKey"), required: true,
                extra: " maxlength=\"64\"")
            + page.input(
                "eventDate", page.t("Fecha de llegada", "Day of arrival"), type: "date",
                value: v("eventDate") ?? today.description, required: true, extra: " max=\"\(today.description)\"")
            + page.select(
                "returningFrom", page.t("Retornado/a desde", "Returned from"), origins,
                selected: v("returningFrom") ?? "USA")
            + page.select(
                "returnType", page.t("Tipo de retorno", "Type of return"), types, selected: v("returnType"),
                required: false)
            + page.select(
                "transportMode", page.t("Vía", "Transport"), modes, selected: v("transportMode"), required: false)
            + page.select(
                "place", page.t("Lugar de recepción", "Place of reception"), places, selected: v("place"),
                required: false)
            + "</fieldset><fieldset><legend>\(page.t("Persona", "Person"))</legend>"
            + page.input(
                "givenNames", page.t("Nombres", "Given names"), value: v("givenNames"), required: true,
                extra: " autocomplete=\"off\"")
            + page.input(
                "firstSurname", page.t("Primer apellido", "First surname"), value: v("firstSurname"), required: true,
                extra: " autocomplete=\"off\"")
            + page.input(
                "secondSurname", page.t("Segundo apellido", "Second surname"), value: v("secondSurname"),
                extra: " autocomplete=\"off\"")
            + page.select(
                "sex", page.t("Sexo", "Sex"), [("F", page.t("Mujer", "Woman")), ("M", page.t("Hombre", "Man"))],
                selected: v("sex"))
            + page.input(
                "birthDate", page.t("Fecha de nacimiento", "Birth date"), type: "date", value: v("birthDate"),
                extra: " max=\"\(today.description)\"")
            + page.select(
                "municipality", page.t("Municipio de residencia", "Municipality of residence"), municipalities,
                selected: v("municipality"), required: false)
            + page.select(
                "documentType", page.t("Documento", "Document"), documents, selected: v("documentType"), required: false
            )
            + page.input(
                "documentNumber", page.t("Número de documento", "Document number"), value: v("documentNumber"),
                extra: " autocomplete=\"off\"")
            + "<label class=\"check\"><input type=\"checkbox\" name=\"unaccompanied\" value=\"true\"\(v("unaccompanied") == "true" ? " checked" : "")> \(page.t("Niña o niño no acompañado", "Unaccompanied child"))</label>"
            + "</fieldset><fieldset><legend>\(page.t("Contacto", "Contact"))</legend>"
            + page.input(
                "phone", page.t("Teléfono", "Phone"), type: "tel", value: v("phone"),
                extra: " maxlength=\"40\" autocomplete=\"off\"")
            + page.input(
                "language", page.t("Idioma (ISO 639)", "Language (ISO 639)"), value: v("language") ?? "es",
                extra: " maxlength=\"12\"")
            + "</fieldset><p><button type=\"submit\">\(page.t("Registrar y abrir el caso", "Register and open the case"))</button></p></form>"
    }

    /// Registers the form's arrival and opens its case.
    func register(_ form: FormBody, actor: Actor) async throws -> CaseFile {
        func day(_ name: String, required: Bool) throws -> CivilDate? {
            guard let text = form[name], !text.isEmpty else {
                if required { throw PuenteError(.invalidArgument, "\(name): required.") }
                return nil
            }
            guard let day = CivilDate(iso: text) else {
                throw PuenteError(.invalidArgument, "\(name): expected a date like 2026-05-31 (YYYY-MM-DD).")
            }
            return day
        }
        let arrival = ReceptionService.Arrival(
            recordKey: form["recordKey"] ?? "", arrivedOn: try day("eventDate", required: true)!,
            givenNames: form["givenNames"] ?? "", firstSurname: form["firstSurname"] ?? "",
            secondSurname: form["secondSurname"], sex: form["sex"] ?? "",
            birthDate: try day("birthDate", required: false),
            municipality: form["municipality"], returnedFrom: form["returningFrom"],
            transportMode: form["transportMode"],
            returnType: form["returnType"], unaccompanied: form["unaccompanied"] == "true", place: form["place"],
            documentType: form["documentType"], documentNumber: form["documentNumber"],
            phone: form["phone"].flatMap { $0.isEmpty ? nil : $0 },
            language: form["language"].flatMap { $0.isEmpty ? nil : $0 })
        return try await reception.register(arrival, in: form["register"] ?? "", by: actor)
    }

    // MARK: Follow-ups

    func followUpList(_ page: ScreenPage, actor: Actor, today: CivilDate = .today) async throws -> String {
        let due = try await survey().due(until: today.adding(days: 7), by: actor, today: today)
        return
            "<p>\(page.t("Seguimientos que vencen hasta el \(today.adding(days: 7).description), y los atrasados.", "Follow-ups due by \(today.adding(days: 7).description), and those overdue."))</p>"
            + page.table(
                id: "followups-due",
                headers: [
                    page.t("Caso", "Case"), page.t("Seguimiento", "Follow-up"), page.t("Vence", "Due"),
                    page.t("Estado", "State"), page.t("Asignado a", "Assigned to"),
                ],
                rows: due.map { d in
                    [
                        caseLink(d.caseID, page), "\(d.number)", d.dueOn.description,
                        d.overdue
                            ? "<strong class=\"late\">\(page.t("atrasado", "overdue"))</strong>"
                            : page.t("a tiempo", "on time"),
                        HTML.escape(d.assignee ?? "—"),
                    ]
                }, empty: Bilingual("Ningún seguimiento vence esta semana.", "No follow-up is due this week."))
    }

    // MARK: A case

    /// A case as its case worker works on it; reading it is audited by the services.
    func casePage(_ id: Int64, _ page: ScreenPage, actor: Actor, today: CivilDate = .today) async throws -> (
        title: String, body: String
    ) {
        let view = try await cases.show(id, by: actor)
        let file = view.caseFile
        let surveys = try await survey().surveys(caseID: id, by: actor)
        let granted = try await grants.grants(caseID: id, by: actor)
        let consentRecords = try await consents.consents(
            agency: file.subject.agency, recordKey: file.subject.recordKey, by: actor)
        let partners = try await referrals.partners(by: actor).filter {
            $0.active && $0.covers(file.profile.municipality)
        }
        let path = "/cases/\(id)"
        let name = [view.person?.givenNames, view.person?.surnames].compactMap { $0 }.joined(separator: " ")
        let title = page.t("Caso", "Case") + " #\(id)" + (name.isEmpty ? "" : " — " + name)

        // Who and where.
        var facts: [(String, String)] = [
            (
                page.t("Estado", "Status"),
                page.t(CaseLabels.status(file.status))
                    + (file.workflow.closure.map { " (" + page.t(CaseLabels.closure($0)) + ")" } ?? "")
            ),
            (page.t("Oficina", "Office"), file.office), (page.t("Asignado a", "Assigned to"), file.assignee ?? "—"),
            (page.t("Llegada", "Arrival"), file.profile.arrivalDay.description),
            (
                page.t("Retornado/a desde", "Returned from"),
                file.profile.returnedFrom.map { labels.name(.returningFrom, $0, page.state) } ?? "—"
            ),
            (page.t("Sexo, edad", "Sex, age"), sexAndAge(file.profile, page)),
            (page.t("Municipio", "Municipality"), municipality(file.profile.municipality, page)),
        ]
        if let birth = view.person?.birthDate { facts.append((page.t("Nacimiento", "Born"), birth.description)) }
        if let phone = file.details.phone { facts.append((page.t("Teléfono", "Phone"), phone)) }
        if let vulnerabilities = file.details.vulnerabilities {
            facts.append(
                (
                    page.t("Vulnerabilidades", "Vulnerabilities"),
                    vulnerabilities.isEmpty
                        ? page.t("ninguna", "none")
                        : vulnerabilities.map { page.t(CaseLabels.vulnerability($0)) }.joined(separator: ", ")
                ))
        }
        if let skills = file.details.skills { facts.append((page.t("Habilidades", "Skills"), skills)) }
        if let intentions = file.details.intentions { facts.append((page.t("Intenciones", "Intentions"), intentions)) }
        if let plan = file.details.plan {
            facts.append(
                (
                    page.t("Plan", "Plan"),
                    plan
                        + (file.workflow.planApprovedBy.map { " — " + page.t("aprobado por ", "approved by ") + $0 }
                            ?? "")
                ))
        }
        var html =
            "<dl id=\"case-facts\" class=\"facts\">"
            + facts.map { "<dt>\(HTML.escape($0.0))</dt><dd>\(HTML.escape($0.1))</dd>" }.joined() + "</dl>"

        html +=
            "<section id=\"next-step\"><h2>\(page.t("Siguiente paso", "Next step"))</h2>"
            + nextSteps(file, page, actor: actor, path: path) + "</section>"
        html += consentSection(file, consentRecords, partners: partners, page, path: path, today: today)
        html += referralSection(file, view.referrals, partners: partners, page, path: path)
        html += scoreSection(file, surveys, page, path: path, today: today)
        html += grantSection(granted, page)
        html +=
            "<section><h2>\(page.t("Historial", "Timeline"))</h2>"
            + page.table(
                id: "timeline",
                headers: [
                    page.t("Cuándo", "When"), page.t("Quién", "Who"), page.t("Qué", "What"),
                    page.t("Detalle", "Detail"),
                ],
                rows: view.entries.reversed().map { e in
                    [
                        HTML.escape(String(e.at.prefix(16)).replacingOccurrences(of: "T", with: " ")),
                        HTML.escape(e.actor), HTML.escape(page.t(CaseLabels.entry(e.kind))),
                        HTML.escape(timelineDetail(e, page))
                            + (e.note.map { "<br><small>\(HTML.escape($0))</small>" } ?? ""),
                    ]
                }, empty: Bilingual("Sin historial.", "No history."))
            + "</section>"
        return (title, html)
    }

    private func timelineDetail(_ entry: CaseEntry, _ page: ScreenPage) -> String {
        guard let detail = entry.detail else { return "" }
        return switch entry.kind {
        case "status", "reopened": CaseStatus(rawValue: detail).map { page.t(CaseLabels.status($0)) } ?? detail
        case "closed": ClosureReason(rawValue: detail).map { page.t(CaseLabels.closure($0)) } ?? detail
        case "referral_status":
            detail.split(separator: " ").map { word in
                ReferralStatus(rawValue: String(word)).map { page.t(CaseLabels.referralStatus($0)) }
                    ?? ReferralReason(rawValue: String(word)).map { page.t(CaseLabels.referralReason($0)) }
                    ?? String(word)
            }.joined(separator: " · ")
        case "referral_feedback":
            detail == "received"
                ? page.t("recibió el servicio", "received the service") : page.t("no lo recibió", "did not receive it")
        case "survey":
            // `occasion score weakest:dimension`, as the service writes it.
            detail.split(separator: " ").map { word -> String in
                if let occasion = FollowUpService.Occasion(rawValue: String(word)) {
                    return page.t(CaseLabels.occasion(occasion))
                }
                if word.hasPrefix("weakest:"),
                    let dimension = ReintegrationDimension(rawValue: String(word.dropFirst("weakest:".count)))
                {
                    return page.t("más débil: ", "weakest: ") + page.t(CaseLabels.dimension(dimension))
                }
                return String(word)
            }.joined(separator: " · ")
        default: detail
        }
    }

    /// One form per status the case can move to, each asking what that status records.
    private func nextSteps(_ file: CaseFile, _ page: ScreenPage, actor: Actor, path: String) -> String {
        let version = [("version", "\(file.version)")]
        guard file.status != .closed else {
            return page.form(
                path, action: "reopen", id: "reopen", hidden: version,
                button: page.t("Reabrir el caso", "Reopen the case"))
        }
        var html = ""
        for status in file.status.next where status != .closed {
            let hidden = version + [("to", status.rawValue)]
            let button = page.t("Pasar a: ", "Move to: ") + page.t(CaseLabels.status(status))
            var content = ""
            switch status {
            case .screened:
                content = page.checkboxes(
                    "vulnerability",
                    page.t(
                        "Vulnerabilidades encontradas (ninguna si no marca)", "Vulnerabilities found (none if unticked)"
                    ),
                    Vulnerability.allCases.map { ($0.rawValue, page.t(CaseLabels.vulnerability($0))) })
            case .assessed:
                content =
                    page.textarea("skills", page.t("Habilidades", "Skills"), value: file.details.skills, required: true)
                    + page.textarea(
                        "intentions", page.t("Intenciones", "Intentions"), value: file.details.intentions,
                        required: true)
            case .planDrafted:
                content = page.textarea(
                    "plan", page.t("Plan: metas y asistencia necesaria", "Plan: goals and the assistance needed"),
                    value: file.details.plan, required: true)
            case .planApproved:
                guard actor.holds(.superviseCases) else {
                    html +=
                        "<p class=\"note\" id=\"awaits-approval\">\(page.t("El plan espera la aprobación de una supervisora o un supervisor distinto de quien lo redactó.", "The plan awaits approval by a supervisor other than its author."))</p>"
                    continue
                }
            case .registered, .inAssistance, .followUp, .closed: break
            }
            html += page.form(
                path, action: "move", id: "to-\(status.rawValue)", hidden: hidden, button: button,
                content: content + page.input("note", page.t("Nota (opcional)", "Note (optional)")))
        }
        let reasons = ClosureReason.allCases.filter { $0 != .reintegrated || file.status == .followUp }
        html +=
            "<details><summary>\(page.t("Cerrar el caso", "Close the case"))</summary>"
            + page.form(
                path, action: "close", id: "close", hidden: version, button: page.t("Cerrar", "Close"),
                content: page.select(
                    "reason", page.t("Motivo", "Reason"), reasons.map { ($0.rawValue, page.t(CaseLabels.closure($0))) })
                    + page.input("note", page.t("Nota (opcional)", "Note (optional)")))
            + "</details>"
        return html
    }

    private func consentSection(
        _ file: CaseFile, _ records: [ConsentRecord], partners: [Partner], _ page: ScreenPage, path: String,
        today: CivilDate
    ) -> String {
        let rows = records.map { c -> [String] in
            [
                HTML.escape(page.t(CaseLabels.purpose(c.purpose))), HTML.escape(c.recipients.joined(separator: ", ")),
                c.givenOn.description, c.inForce ? page.t("vigente", "in force") : page.t("retirado", "withdrawn"),
            ]
        }
        return "<section id=\"consents\"><h2>\(page.t("Consentimientos", "Consents"))</h2>"
            + page.table(
                id: "consent-table",
                headers: [
                    page.t("Finalidad", "Purpose"), page.t("Destinatarios", "Recipients"),
                    page.t("Dado el", "Given on"), page.t("Estado", "State"),
                ],
                rows: rows, empty: Bilingual("Ningún consentimiento registrado.", "No consent recorded."))
            + "<details\(records.isEmpty ? " open" : "")><summary>\(page.t("Registrar un consentimiento", "Record a consent"))</summary>"
            + page.form(
                path, action: "consent", id: "consent-form",
                button: page.t("Registrar el consentimiento", "Record the consent"),
                content: page.select(
                    "purpose", page.t("Finalidad", "Purpose"),
                    [ConsentPurpose.reintegration, .referral, .linkage, .exchange].map {
                        ($0.rawValue, page.t(CaseLabels.purpose($0)))
                    })
                    + page.checkboxes(
                        "recipient",
                        page.t("Organizaciones nombradas (para remisiones)", "Organisations named (for referrals)"),
                        partners.map { ($0.id, $0.name) })
                    + page.input(
                        "givenOn", page.t("Dado el", "Given on"), type: "date", value: today.description,
                        extra: " max=\"\(today.description)\"")
                    + "<label class=\"check\"><input type=\"checkbox\" name=\"guardian\" value=\"true\"> \(page.t("Dado por la madre, el padre o quien tenga la tutela", "Given by a parent or guardian"))</label>"
            )
            + "</details></section>"
    }

    private func referralSection(
        _ file: CaseFile, _ list: [Referral], partners: [Partner], _ page: ScreenPage, path: String
    ) -> String {
        let names = Dictionary(partners.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var html = "<section id=\"referrals\"><h2>\(page.t("Remisiones", "Referrals"))</h2>"
        html += page.table(
            id: "referral-table",
            headers: [
                page.t("Remisión", "Referral"), page.t("Organización", "Partner"), page.t("Servicio", "Service"),
                page.t("Estado", "Status"), page.t("Solicitada", "Requested"),
                page.t("Opinión de la persona", "Returnee's feedback"),
            ],
            rows: list.map { r in
                [
                    "#\(r.id)", HTML.escape(names[r.partner] ?? r.partner),
                    HTML.escape(page.t(CaseLabels.service(r.service))),
                    HTML.escape(
                        page.t(CaseLabels.referralStatus(r.status))
                            + (r.reason.map { " — " + page.t(CaseLabels.referralReason($0)) } ?? "")),
                    r.requestedOn.description,
                    r.feedback.map { f in
                        HTML.escape(
                            (f.received
                                ? page.t("recibió el servicio", "received the service")
                                : page.t("no lo recibió", "did not receive it"))
                                + (f.usefulness.map { ", \($0)/5" } ?? ""))
                    } ?? "—",
                ]
            }, empty: Bilingual("Ninguna remisión.", "No referral."))
        for r in list where r.status.isOpen {
            html +=
                "<details><summary>\(page.t("Cancelar la remisión", "Cancel referral")) #\(r.id)</summary>"
                + page.form(
                    path, action: "cancel", hidden: [("referral", "\(r.id)"), ("version", "\(r.version)")],
                    button: page.t("Cancelar", "Cancel"),
                    content: page.select(
                        "reason", page.t("Motivo", "Reason"),
                        ReferralReason.allowed(for: .cancelled).map {
                            ($0.rawValue, page.t(CaseLabels.referralReason($0)))
                        }))
                + "</details>"
        }
        for r in list where !r.status.isOpen && r.status != .cancelled && r.feedback == nil {
            html += page.form(
                path, action: "feedback", id: "feedback-\(r.id)", hidden: [("referral", "\(r.id)")],
                button: page.t("Registrar su opinión sobre", "Record the returnee's word on") + " #\(r.id)",
                content: page.select(
                    "received", page.t("¿Recibió el servicio?", "Did they receive the service?"),
                    [("true", page.t("Sí", "Yes")), ("false", page.t("No", "No"))])
                    + page.select(
                        "usefulness", page.t("Utilidad (1–5)", "Usefulness (1–5)"),
                        [("", "—")] + (1...5).map { ("\($0)", "\($0)") }, required: false))
        }
        guard file.status != .closed else { return html + "</section>" }
        let partnerOptions = partners.map { p in
            (p.id, p.name + " — " + p.services.map { page.t(CaseLabels.service($0)) }.joined(separator: ", "))
        }
        html +=
            "<details><summary>\(page.t("Remitir a una organización socia", "Refer to a partner"))</summary>"
            + (partners.isEmpty
                ? "<p class=\"none\">\(page.t("Ninguna organización socia activa cubre el municipio de la persona.", "No active partner covers the person's municipality."))</p>"
                : page.form(
                    path, action: "refer", id: "refer-form", button: page.t("Remitir", "Refer"),
                    content: page.select("partner", page.t("Organización", "Partner"), partnerOptions)
                        + page.select(
                            "service", page.t("Servicio", "Service"),
                            ServiceKind.allCases.map { ($0.rawValue, page.t(CaseLabels.service($0))) })
                        + page.checkboxes(
                            "field", page.t("Lo que la organización podrá ver", "What the partner may see"),
                            ReferralField.allCases.map { ($0.rawValue, page.t(CaseLabels.field($0))) },
                            checked: ["given_names", "surnames", "phone"])
                        + page.input(
                            "override",
                            page.t(
                                "Sin consentimiento: motivo de la supervisora o el supervisor",
                                "Without consent: a supervisor's reason"))))
            + "</details>"
        return html + "</section>"
    }

    private func scoreSection(
        _ file: CaseFile, _ surveys: [FollowUpService.RecordedSurvey], _ page: ScreenPage, path: String,
        today: CivilDate
    ) -> String {
        var html =
            "<section id=\"scores\"><h2>\(page.t("Sostenibilidad de la reintegración", "Reintegration sustainability"))</h2>"
        if let latest = surveys.last?.survey.scores {
            html +=
                "<p id=\"latest-score\">\(page.t("Última puntuación compuesta", "Latest composite score")): <b>\(page.number(latest.composite))</b>"
                + " (\(page.t("umbral", "cut-off")) \(page.number(latest.cutoff)), \(HTML.escape(latest.weights)))"
            if let weakest = latest.weakest {
                html +=
                    "<br><span id=\"weakest\">\(page.t("Dimensión más débil", "Weakest dimension")): <b>\(HTML.escape(page.t(CaseLabels.dimension(weakest))))</b> — \(page.t("oriente hacia ella la próxima remisión.", "let it guide the next referral."))</span>"
            }
            html += "</p>"
        }
        html += page.table(
            id: "survey-table",
            headers: [
                page.t("Fecha", "Day"), page.t("Ocasión", "Occasion"), page.t("Modo", "Mode"),
                page.t("Compuesta", "Composite"),
            ]
                + ReintegrationDimension.allCases.map { page.t(CaseLabels.dimension($0)) },
            rows: surveys.map { s in
                [
                    s.day.description, HTML.escape(page.t(CaseLabels.occasion(s.survey.occasion))),
                    HTML.escape(page.t(CaseLabels.mode(s.survey.mode))), page.number(s.survey.scores.composite),
                ]
                    + ReintegrationDimension.allCases.map { page.number(s.survey.scores.score($0)) }
            }, empty: Bilingual("Ninguna encuesta todavía.", "No survey yet."))
        guard file.status != .closed, file.status != .registered, let instrument = followUps?.instrument else {
            return html + "</section>"
        }
        let occasion: FollowUpService.Occasion =
            file.workflow.day(reached: .inAssistance) == nil ? .baseline : .followUp
        let language = page.state.language.rawValue
        var questions = ""
        for dimension in ReintegrationDimension.allCases {
            questions += "<fieldset><legend>\(HTML.escape(page.t(CaseLabels.dimension(dimension))))</legend>"
            for q in instrument.questions where instrument.indicator(q.indicator)?.dimension == dimension {
                questions += page.select(
                    "q_\(q.id)", page.state.language == .es ? q.textES : q.textEN,
                    [("", "—")] + q.answers.map { ($0, instrument.answerLabel($0, language: language)) },
                    required: false)
            }
            questions += "</fieldset>"
        }
        html +=
            "<details id=\"survey\"><summary>\(page.t("Registrar una encuesta", "Record a survey")) (\(HTML.escape(instrument.reference)))</summary>"
            + page.form(
                path, action: "survey", id: "survey-form", button: page.t("Registrar y calcular", "Record and score"),
                content: page.select(
                    "occasion", page.t("Ocasión", "Occasion"),
                    [(occasion.rawValue, page.t(CaseLabels.occasion(occasion)))])
                    + page.select(
                        "mode", page.t("Modo", "Mode"),
                        FollowUpService.Mode.allCases.map { ($0.rawValue, page.t(CaseLabels.mode($0))) })
                    + page.input(
                        "date", page.t("Fecha", "Day"), type: "date", value: today.description,
                        extra: " max=\"\(today.description)\"")
                    + questions)
            + "</details></section>"
        return html
    }

    private func grantSection(_ list: [GrantService.RecordedGrant], _ page: ScreenPage) -> String {
        guard !list.isEmpty else { return "" }
        return "<section id=\"grants\"><h2>\(page.t("Capital semilla", "Seed grants"))</h2>"
            + page.table(
                id: "grant-table",
                headers: [
                    page.t("Solicitud", "Grant"), page.t("Estado", "Status"), page.t("Solicitado", "Requested"),
                    page.t("Aprobado", "Approved"), page.t("Desembolsado", "Disbursed"), page.t("Tramos", "Tranches"),
                ],
                rows: list.map { g in
                    [
                        "#\(g.id)", HTML.escape(g.grant.status.rawValue), HTML.escape(g.grant.requested.description),
                        HTML.escape(g.grant.approved?.description ?? "—"),
                        HTML.escape(g.grant.disbursed.description),
                        "\(g.grant.tranches.filter { $0.status == .disbursed }.count)/\(g.grant.tranches.count)",
                    ]
                }, empty: Bilingual("Ninguna.", "None."))
            + "</section>"
    }

    /// Carries out a case form's action.
    func act(on id: Int64, _ form: FormBody, actor: Actor) async throws -> Done {
        let version = form["version"].flatMap { Int($0) }
        let note = form["note"].flatMap { $0.isEmpty ? nil : $0 }
        switch form["action"] {
        case "move":
            let status = try CaseStatus.named(form["to"] ?? "")
            let ticked = form.all("vulnerability")
            try await cases.move(
                id, readAt: version, to: status,
                update: .init(
                    vulnerabilities: status == .screened ? (ticked.isEmpty ? ["none"] : ticked) : nil,
                    skills: form["skills"], intentions: form["intentions"], plan: form["plan"], note: note),
                by: actor)
            return .moved
        case "close":
            try await cases.close(
                id, readAt: version, reason: try ClosureReason.named(form["reason"] ?? ""), note: note, by: actor)
            return .closed
        case "reopen":
            try await cases.reopen(id, readAt: version, note: note, by: actor)
            return .reopened
        case "consent":
            let file = try await cases.summary(id, by: actor)
            try await consents.record(
                .init(
                    agency: file.subject.agency, recordKey: file.subject.recordKey, purpose: form["purpose"] ?? "",
                    recipients: form.all("recipient"), guardian: form["guardian"] == "true",
                    givenOn: form["givenOn"].flatMap { $0.isEmpty ? nil : $0 }), by: actor)
            return .consent
        case "refer":
            try await referrals.refer(
                .init(
                    caseID: id, partner: form["partner"] ?? "", service: form["service"] ?? "",
                    fields: form.all("field"),
                    override: form["override"].flatMap { $0.isEmpty ? nil : $0 }), by: actor)
            return .referred
        case "cancel":
            let referral = try await ownReferral(form, of: id, actor: actor)
            try await referrals.update(
                referral, readAt: version, to: .cancelled, reason: form["reason"], note: note, by: actor)
            return .cancelled
        case "feedback":
            let referral = try await ownReferral(form, of: id, actor: actor)
            let usefulness = try form["usefulness"].flatMap { $0.isEmpty ? nil : $0 }.map { text in
                guard let n = Int(text) else { throw PuenteError(.invalidArgument, "usefulness: expected 1 to 5.") }
                return n
            }
            try await referrals.feedback(
                referral, received: form["received"] == "true", usefulness: usefulness, by: actor)
            return .feedback
        case "survey":
            var answers: [String: String] = [:]
            for name in form.names where name.hasPrefix("q_") {
                if let answer = form[name], !answer.isEmpty { answers[String(name.dropFirst(2))] = answer }
            }
            guard let occasion = FollowUpService.Occasion(rawValue: form["occasion"] ?? ""),
                let mode = FollowUpService.Mode(rawValue: form["mode"] ?? "")
            else { throw PuenteError(.invalidArgument, "occasion, mode: choose each from its list.") }
            let day = try form["date"].flatMap { $0.isEmpty ? nil : $0 }.map { text in
                guard let day = CivilDate(iso: text) else {
                    throw PuenteError(.invalidArgument, "date: expected a date like 2026-05-31 (YYYY-MM-DD).")
                }
                return day
            }
            try await survey().record(caseID: id, occasion: occasion, mode: mode, answers: answers, on: day, by: actor)
            return .survey
        default:
            throw PuenteError(
                .invalidArgument, "action: expected move, close, reopen, consent, refer, cancel, feedback or survey.")
        }
    }

    /// The referral a case form names, if it belongs to that case.
    private func ownReferral(_ form: FormBody, of caseID: Int64, actor: Actor) async throws -> Int64 {
        guard let id = form["referral"].flatMap({ Int64($0) }),
            try await referrals.referrals(caseID: caseID, by: actor).contains(where: { $0.id == id })
        else { throw PuenteError(.invalidArgument, "referral: expected a referral of this case.") }
        return id
    }

    // MARK: Partners

    func inbox(_ page: ScreenPage, actor: Actor, today: CivilDate = .today) async throws -> String {
        // Referrals made here, then those from other nodes (shown with the referring node).
        let list =
            try await referrals.inbox(by: actor).map(PartnerReferral.init)
            + (actor.role == .partner ? try await incoming?.incoming(by: actor) ?? [] : []).map(PartnerReferral.init)
        let open = list.filter(\.status.isOpen)
        let closed = list.filter { !$0.status.isOpen }.reversed()
        func row(_ r: PartnerReferral) -> [String] {
            let late = r.status == .requested && today > r.acknowledgeBy
            return [
                "<a href=\"\(HTML.escape(page.link(r.path)))\">\(HTML.escape(r.label))</a>",
                HTML.escape(page.t(CaseLabels.service(r.service))),
                HTML.escape(page.t(CaseLabels.referralStatus(r.status))), r.requestedOn.description,
                r.status == .requested
                    ? r.acknowledgeBy.description
                        + (late ? " <strong class=\"late\">\(page.t("vencido", "overdue"))</strong>" : "") : "—",
            ]
        }
        let headers = [
            page.t("Remisión", "Referral"), page.t("Servicio", "Service"), page.t("Estado", "Status"),
            page.t("Solicitada", "Requested"), page.t("Acusar recibo antes del", "Acknowledge by"),
        ]
        return page.openAndClosed(
            ids: ("inbox", "inbox-closed"), headers: headers, open: open.map(row), closed: closed.map(row),
            titles: (Bilingual("Abiertas", "Open"), Bilingual("Cerradas", "Closed")),
            empty: Bilingual("Ninguna remisión abierta.", "No open referral."))
    }

    /// A referral as its partner sees it: only the fields it names, while it is open.
    func referralPage(_ id: Int64, _ page: ScreenPage, actor: Actor) async throws -> (title: String, body: String) {
        let referred = try await referrals.referredCase(id, by: actor)
        return referralPage(PartnerReferral(referred.referral), values: referred.fields, page)
    }

    /// A referral from another node as its partner sees it here.
    func incomingPage(_ id: Int64, _ page: ScreenPage, actor: Actor) async throws -> (title: String, body: String) {
        let referral = try await exchange().incomingReferral(id, by: actor)
        return referralPage(PartnerReferral(referral), values: referral.values, page)
    }

    func exchange() throws -> ReferralExchange {
        guard let incoming else { throw PuenteError.noSuchReferral }
        return incoming
    }

    private func referralPage(_ r: PartnerReferral, values: [String: String], _ page: ScreenPage) -> (
        title: String, body: String
    ) {
        var html = "<dl id=\"referral-facts\" class=\"facts\">"
        let facts: [(String, String)] = [
            (page.t("Servicio", "Service"), page.t(CaseLabels.service(r.service))),
            (
                page.t("Estado", "Status"),
                page.t(CaseLabels.referralStatus(r.status))
                    + (r.reason.map { " — " + page.t(CaseLabels.referralReason($0)) } ?? "")
            ),
            (page.t("Solicitada", "Requested"), r.requestedOn.description),
        ]
        let from = r.sender.map { [(page.t("Remitida por el nodo", "Referred by node"), $0)] } ?? []
        html += (facts + from).map { "<dt>\(HTML.escape($0.0))</dt><dd>\(HTML.escape($0.1))</dd>" }.joined()
        for field in r.fields {
            guard let value = values[field.rawValue] else { continue }
            let shown =
                switch field {
                case .municipality: municipality(value, page)
                case .sex: value == "F" ? page.t("Mujer", "Woman") : value == "M" ? page.t("Hombre", "Man") : value
                case .vulnerabilities:
                    value.split(separator: ",").compactMap {
                        Vulnerability(rawValue: String($0)).map { page.t(CaseLabels.vulnerability($0)) }
                    }.joined(separator: ", ")
                default: value
                }
            html +=
                "<dt>\(HTML.escape(page.t(CaseLabels.field(field))))</dt><dd data-field=\"\(field.rawValue)\">\(HTML.escape(shown))</dd>"
        }
        html += "</dl>"
        if !r.status.isOpen {
            html +=
                "<p class=\"note\">\(page.t("La remisión está cerrada: los datos de la persona ya no se muestran.", "The referral is closed: the person's details are no longer shown."))</p>"
        }
        for status in r.status.next where status.setByPartner {
            let reasons = ReferralReason.allowed(for: status)
            html += page.form(
                r.path, action: "status", id: "to-\(status.rawValue)",
                hidden: [("to", status.rawValue), ("version", "\(r.version)")],
                button: page.t("Marcar como: ", "Mark as: ") + page.t(CaseLabels.referralStatus(status)),
                content: (reasons.isEmpty
                    ? ""
                    : page.select(
                        "reason", page.t("Motivo", "Reason"),
                        reasons.map { ($0.rawValue, page.t(CaseLabels.referralReason($0))) }))
                    + (r.sender == nil ? page.input("note", page.t("Nota (opcional)", "Note (optional)")) : ""))
        }
        return (page.t("Remisión", "Referral") + " " + r.label, html)
    }

    func partnerAct(on id: Int64, _ form: FormBody, actor: Actor) async throws -> Done {
        let status = try ReferralStatus.named(form["to"] ?? "")
        try await referrals.update(
            id, readAt: form["version"].flatMap { Int($0) }, to: status,
            reason: form["reason"].flatMap { $0.isEmpty ? nil : $0 },
            note: form["note"].flatMap { $0.isEmpty ? nil : $0 }, by: actor)
        return .referralUpdated
    }

    func incomingAct(on id: Int64, _ form: FormBody, actor: Actor) async throws -> Done {
        try await exchange().updateIncoming(
            id, readAt: form["version"].flatMap { Int($0) }, to: try ReferralStatus.named(form["to"] ?? ""),
            reason: form["reason"].flatMap { $0.isEmpty ? nil : $0 }, by: actor)
        return .referralUpdated
    }
}

/// What the partner's screens show of a referral, made here or received from another node.
struct PartnerReferral {
    var path: String
    /// `#12` here, `SV-DGME #12` from another node (by the referring node's own number).
    var label: String
    /// The referring node, for a referral from another node.
    var sender: String?
    var service: ServiceKind
    var status: ReferralStatus
    var reason: ReferralReason?
    var version: Int
    var fields: [ReferralField]
    var requestedOn: CivilDate
    var acknowledgeBy: CivilDate

    init(_ r: Referral) {
        path = "/partner/\(r.id)"
        label = "#\(r.id)"
        service = r.service
        status = r.status
        reason = r.reason
        version = r.version
        fields = r.fields
        requestedOn = r.requestedOn
        acknowledgeBy = r.acknowledgeBy
    }

    init(_ r: IncomingReferral) {
        path = "/partner/incoming/\(r.id)"
        label = "\(r.sender) #\(r.originID)"
        sender = r.sender
        service = r.service
        status = r.status
        reason = r.reason
        version = r.version
        fields = r.fields
        requestedOn = r.requestedOn
        acknowledgeBy = r.acknowledgeBy
    }
}

extension CaseScreens {
    /// What a screen's form did, carried to the page it leads to as `done=` (a code, never a value typed).
    enum Done: String, CaseIterable {
        case opened, moved, closed, reopened, consent, referred, cancelled, feedback, survey
        case referralUpdated = "referral_updated"

        var message: Bilingual {
            switch self {
            case .opened: Bilingual("Retorno registrado y caso abierto.", "Return registered and case opened.")
            case .moved: Bilingual("Estado del caso actualizado.", "Case status updated.")
            case .closed: Bilingual("Caso cerrado.", "Case closed.")
            case .reopened: Bilingual("Caso reabierto.", "Case reopened.")
            case .consent: Bilingual("Consentimiento registrado.", "Consent recorded.")
            case .referred: Bilingual("Remisión enviada.", "Referral sent.")
            case .cancelled: Bilingual("Remisión cancelada.", "Referral cancelled.")
            case .feedback: Bilingual("Opinión registrada.", "Feedback recorded.")
            case .survey: Bilingual("Encuesta registrada y puntuada.", "Survey recorded and scored.")
            case .referralUpdated: Bilingual("Remisión actualizada.", "Referral updated.")
            }
        }
    }
}
