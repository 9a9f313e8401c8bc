import Foundation
import PuenteCore
import PuenteExchange
import PuenteReference
import PuenteStatistics
import Synchronization

/// The region's statistics at a hub: the protected cells member countries sent, read as published and
/// added up across countries, never re-derived from finer cells (a country's annual figure is the one it
/// published, not the sum of its perturbed quarters). A country that has not reported a period is
/// missing from it, never a zero.
public final class RegionalStatistics: Sendable {
    /// One figure of a regional table.
    public struct Cell: Codable, Hashable, Sendable {
        public enum Status: String, Codable, Sendable {
            /// Every country expected reported the period, and no contribution was suppressed.
            case complete
            /// A country's contribution was suppressed (small): the value is the sum of the others.
            case suppressedContributions = "suppressed_contributions"
            /// Some countries have not reported the period: the value is the sum of those that did.
            case incomplete
            /// Nobody reported it.
            case missing
        }

        public var key: [String]
        public var value: Double?
        public var status: Status
        /// Countries whose cells make up the value.
        public var countries: [String]
        /// Countries that have reported, but not this period.
        public var missing: [String]
    }

    public struct Table: Codable, Sendable {
        public var measure: String
        public var by: [String]
        public var cells: [Cell]
        /// Every country that has reported anything.
        public var countries: [String]
    }

    /// One observation as the hub keeps it in memory.
    struct Row: Sendable {
        var key: [String]
        var period: String
        var value: Double?
        var sender: String
        /// The SDMX observation status the sender gave (`E` for a figure perturbed by the cell key method).
        var obsStatus: String
    }

    /// The table a row belongs to: its movement, its frequency and which dimensions it breaks down by
    /// (a bit per DSD dimension whose code is not the total `_T`).
    struct TableKey: Hashable, Sendable {
        var movement: String
        var frequency: String
        var shown: UInt32
    }

    struct Snapshot: Sendable {
        var stamp: String
        var rows: [Row]
        /// Rows by the table they belong to, so a question reads its table only.
        var tables: [TableKey: [Int]]
        /// Country → the periods it reported (any measure, any frequency).
        var reported: [String: Set<String>]
    }

    static func tableKey(_ key: [String]) -> TableKey {
        let ids = SDMXFlow.dimensionIDs
        var shown: UInt32 = 0
        for (i, code) in key.enumerated() where code != "_T" && ids[i] != "FREQ" && ids[i] != "MIG_FLOW" {
            shown |= 1 << i
        }
        return TableKey(
            movement: key[ids.firstIndex(of: "MIG_FLOW")!], frequency: key[ids.firstIndex(of: "FREQ")!], shown: shown)
    }

    let store: any PuenteStore
    let reference: ReferenceData
    private let snapshot = Mutex<Snapshot?>(nil)

    public init(store: any PuenteStore, reference: ReferenceData = .shared) {
        self.store = store
        self.reference = reference
    }

    /// The observations received, reloaded when a package was published since the last question.
    func current() async throws -> Snapshot {
        let stamp = try await store.publicationStamp()
        if let kept = snapshot.withLock({ $0 }), kept.stamp == stamp { return kept }
        var rows: [Row] = []
        var reported: [String: Set<String>] = [:]
        let area = SDMXFlow.dimensionIDs.firstIndex(of: "REF_AREA")!
        for o in try await store.exchangeObservations(dataflow: SDMXFlow.flowID, updatedAfter: nil) {
            let key = o.seriesKey.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard key.count == SDMXFlow.dimensionIDs.count else { continue }
            rows.append(Row(key: key, period: o.period, value: o.value, sender: o.sender, obsStatus: o.obsStatus))
            reported[key[area], default: []].insert(o.period)
        }
        // A published package reports its whole year, even one without a single cell (nothing happened).
        let countries = try await senderCountries()
        for p in try await store.receivedPackages() where p.status == .published {
            guard let country = countries[p.agreement] else { continue }
            reported[country, default: []].formUnion(PackageContent.periods(of: p.period, upTo: "M"))
        }
        var tables: [TableKey: [Int]] = [:]
        for (i, row) in rows.enumerated() { tables[Self.tableKey(row.key), default: []].append(i) }
        let fresh = Snapshot(stamp: stamp, rows: rows, tables: tables, reported: reported)
        snapshot.withLock { $0 = fresh }
        return fresh
    }

    /// A count measure broken down by `by` (one period dimension at most; years when none), filtered by
    /// `filters`, summed over the countries that reported.
    public func table(
        measure: Measure, by: [PuenteStatistics.Dimension], filters: [PuenteStatistics.Dimension: [String]] = [:]
    ) async throws -> Table {
        guard let movement = SDMXFlow.movementCodes[measure] else {
            throw PuenteError(
                .invalidArgument,
                "Regional statistics are counts: "
                    + SDMXFlow.movementCodes.keys.map(\.rawValue).sorted().joined(separator: ", ")
                    + ".")
        }
        let periods: [PuenteStatistics.Dimension] = [.year, .quarter, .month]
        let periodDimension = by.first(where: periods.contains) ?? .year
        guard by.filter(periods.contains).count <= 1 else {
            throw PuenteError(.invalidArgument, "Break down by one period dimension at most.")
        }
        let frequency = ["year": "A", "quarter": "Q", "month": "M"][periodDimension.rawValue]!
        let ids = SDMXFlow.dimensionIDs
        // Per DSD dimension: the position in `by` it fills, the codes a filter allows, or only the total.
        enum Rule { case total, any, breakdown(Int, Set<String>?), filter(Set<String>) }
        var rules: [Rule] = []
        for (i, id) in ids.enumerated() {
            let shown = SDMXFlow.shownDimensions(of: id)
            if id == "FREQ" {
                rules.append(.filter([frequency]))
                continue
            }
            if id == "MIG_FLOW" {
                rules.append(.filter([movement]))
                continue
            }
            let asked = by.enumerated().filter { shown.contains($0.element) }
            guard asked.count <= 1 else {
                throw PuenteError(
                    .invalidArgument, "Break down by one of " + shown.map(\.rawValue).joined(separator: ", ") + " only."
                )
            }
            if let (position, d) = asked.first {
                rules.append(.breakdown(position, d.allowedCodes(reference: reference).map(Set.init)))
            } else if let codes = shown.compactMap({ filters[$0] }).first {
                rules.append(.filter(Set(codes)))
            } else {
                // Every country's cells add up; every other dimension is read at its total.
                rules.append(ids[i] == "REF_AREA" ? .any : .total)
            }
        }
        for d in by where !periods.contains(d) && !ids.contains(where: { SDMXFlow.shownDimensions(of: $0).contains(d) })
        {
            throw PuenteError(.invalidArgument, "Members do not send figures by \(d.rawValue).")
        }
        let periodFilter = periods.compactMap { filters[$0] }.first
        let periodPosition = by.firstIndex(of: periodDimension)
        let snapshot = try await current()
        let area = ids.firstIndex(of: "REF_AREA")!

        var sums: [[String]: (value: Double, countries: Set<String>, suppressed: Bool)] = [:]
        // Every country that reported anything is expected in every period.
        var expected = Set(snapshot.reported.keys)
        // The one table the question reads: the dimensions broken down by or filtered on, and the country.
        var shown: UInt32 = 0
        for (i, rule) in rules.enumerated() where ids[i] != "FREQ" && ids[i] != "MIG_FLOW" {
            if case .total = rule { continue }
            shown |= 1 << i
        }
        let table = snapshot.tables[TableKey(movement: movement, frequency: frequency, shown: shown)] ?? []
        rows: for row in table.map({ snapshot.rows[$0] }) {
            var key = [String](repeating: "", count: by.count)
            for (i, rule) in rules.enumerated() {
                let code = row.key[i]
                switch rule {
                case .total: if code != "_T" { continue rows }
                case .any: break
                case .filter(let codes): if !codes.contains(code) { continue rows }
                case .breakdown(let position, let allowed):
                    if code == "_T" || allowed.map({ !$0.contains(code) }) == true { continue rows }
                    key[position] = code
                }
            }
            if let periodFilter, !periodFilter.contains(where: { row.period.hasPrefix($0) }) { continue }
            if let periodPosition { key[periodPosition] = row.period }
            var sum = sums[key] ?? (0, [], false)
            if let value = row.value { sum.value += value } else { sum.suppressed = true }
            sum.countries.insert(row.key[area])
            sums[key] = sum
        }
        // Who reported which period: missing countries are named, never counted as zero.
        func missing(for key: [String]) -> [String] {
            let asked: (String) -> Bool =
                if let periodPosition {
                    { $0 == key[periodPosition] }
                } else if let periodFilter {
                    { p in periodFilter.contains { p.hasPrefix($0) } }
                } else {
                    { _ in true }
                }
            return expected.filter { country in
                if let position = by.firstIndex(of: .reportingCountry), key[position] != country { return false }
                return !(snapshot.reported[country] ?? []).contains(where: asked)
            }.sorted()
        }
        var cells = sums.map { key, sum in
            let absent = missing(for: key)
            return Cell(
                key: key, value: sum.value,
                status: sum.suppressed ? .suppressedContributions : absent.isEmpty ? .complete : .incomplete,
                countries: sum.countries.sorted(), missing: absent)
        }
        // By country and period: a country-period not reported is a missing cell, for every other key seen;
        // one reported without a single cell is a zero.
        if let countryPosition = by.firstIndex(of: .reportingCountry), let periodPosition {
            let seen = Set(cells.map(\.key))
            let reportedPeriods = snapshot.reported.values.reduce(into: Set<String>()) { $0.formUnion($1) }.filter {
                period in
                Self.frequency(of: period) == frequency
                    && periodFilter.map { filter in filter.contains { period.hasPrefix($0) } } != false
            }
            let shownPeriods = Set(cells.map { $0.key[periodPosition] }).union(reportedPeriods)
            if by.count == 2 {
                for country in expected.sorted() {
                    for period in shownPeriods where (snapshot.reported[country] ?? []).contains(period) {
                        var key = ["", ""]
                        (key[countryPosition], key[periodPosition]) = (country, period)
                        if !seen.contains(key) {
                            cells.append(Cell(key: key, value: 0, status: .complete, countries: [country], missing: []))
                        }
                    }
                }
            }
            let others = Set(
                cells.map { cell in
                    cell.key.indices.filter { $0 != countryPosition && $0 != periodPosition }.map { cell.key[$0] }
                })
            for country in expected.sorted() {
                for period in shownPeriods where !(snapshot.reported[country] ?? []).contains(period) {
                    for other in others {
                        var key: [String] = []
                        var rest = other.makeIterator()
                        for i in by.indices {
                            key.append(i == countryPosition ? country : i == periodPosition ? period : rest.next()!)
                        }
                        if !seen.contains(key) {
                            cells.append(
                                Cell(key: key, value: nil, status: .missing, countries: [], missing: [country]))
                        }
                    }
                }
            }
        }
        cells.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return Table(measure: measure.rawValue, by: by.map(\.rawValue), cells: cells, countries: expected.sorted())
    }

    /// `A`, `Q` or `M` for a period code (`2016`, `2016-Q1`, `2016-01`).
    static func frequency(of period: String) -> String {
        period.count == 4 ? "A" : period.contains("Q") ? "Q" : "M"
    }

    /// Census population of a country (ISO alpha-3), summed over its departments, and the census dates.
    public func population(of country: String) -> (population: Double, reference: String)? {
        let alpha2 = ReferenceData.alpha2(of: country)
        let figures = reference.departmentPopulation.filter { $0.key.hasPrefix(alpha2 + "-") }.map(\.value)
        guard !figures.isEmpty else { return nil }
        return (figures.map(\.population).reduce(0, +), Set(figures.map(\.reference)).sorted().joined(separator: ", "))
    }

    /// Agreement id → the sending party's country.
    func senderCountries() async throws -> [String: String] {
        var countries: [String: String] = [:]
        for kept in try await store.agreements() {
            if let file = try? kept.signed() {
                countries[kept.id] = file.terms.sender.country
            }
        }
        return countries
    }

    /// What each member has sent: packages published and held, the years covered, the last one.
    public struct Coverage: Codable, Hashable, Sendable {
        public var sender: String
        /// The country whose figures it sends (ISO alpha-3, from the agreement).
        public var country: String
        public var agreement: String
        public var published: Int
        public var held: Int
        public var years: [String]
        public var lastPublishedAt: String?
    }

    public func coverage() async throws -> [Coverage] {
        var out: [String: Coverage] = [:]
        let countries = try await senderCountries()
        for p in try await store.receivedPackages() {
            let id = p.sender + " " + p.agreement
            var c =
                out[id]
                ?? Coverage(
                    sender: p.sender, country: countries[p.agreement] ?? "", agreement: p.agreement, published: 0,
                    held: 0, years: [], lastPublishedAt: nil)
            if p.status == .published {
                c.published += 1
                if !c.years.contains(p.period) { c.years.append(p.period) }
                c.lastPublishedAt = max(c.lastPublishedAt ?? "", p.publishedAt ?? "")
            } else {
                c.held += 1
            }
            out[id] = c
        }
        return out.values.map {
            var c = $0; c.years.sort(); return c
        }.sorted { ($0.sender, $0.agreement) < ($1.sender, $1.agreement) }
    }
}
