import Crypto
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteReference
import PuenteStatistics

/// Mirror statistics at a hub: what one country records of a flow against what its partner records of
/// the same flow, per pair and period, with the bilateral undercount model (`MirrorModel`).
///
/// Two kinds of pairs:
/// - `RETURN`: a partner's returns of a member's nationals (Mexico's published returns by nationality,
///   loaded as partner figures) against the returns from that partner the member's reception centres
///   registered (its cells with COUNTERPART_AREA the partner);
/// - `EXIT_ENTRY`: member A's exits at its posts on the border with member B against B's entries at its
///   land posts on the border with A (cells by PLACE, a post's neighbour from the reference data), so
///   the agreements must share the `place` dimension.
///
/// Members' figures are their protected cells as sent; a side made of perturbed cells is marked so,
/// and one with a suppressed cell says so. A period a side has not reported is missing, never zero.
public struct MirrorStatistics: Sendable {
    public enum Flow: String, CaseIterable, Codable, Sendable {
        case returns = "RETURN"
        case movements = "EXIT_ENTRY"
    }

    /// One side of a pair.
    public struct Side: Codable, Hashable, Sendable {
        public var country: String
        /// Who reported it: a member node id, or the partner publication.
        public var source: String
        /// What the side counts, in words, and its duration-of-stay criterion in months (0: every event).
        public var counts: String
        public var criterionMonths: Double
        /// Sum over the periods both sides reported (nil when this side reported none of them).
        public var figure: Double?
        /// `published` (a partner's figure as published), `exact`, `perturbed` (cell key method),
        /// `suppressed_contributions` (a cell withheld: the figure is the sum of the others) or `missing`.
        public var protection: String
    }

    public struct Pair: Codable, Hashable, Sendable {
        public var flow: String
        public var period: String
        /// The periods the comparison adds up (quarters or months), those both sides reported.
        public var periods: [String]
        public var sender: Side
        public var receiver: Side
        public var difference: Double?
        public var ratio: Double?
        /// U, the undercount ratio with both sides on one definition, and its bootstrap interval.
        public var adjusted: Double?
        public var low: Double?
        public var high: Double?
        /// |log U| beyond the tolerance.
        public var flagged: Bool
        /// `complete`, or `incomplete` when a side missed periods the other reported.
        public var status: String
        /// Periods only one side reported.
        public var missing: [String]
    }

    let regional: RegionalStatistics
    let audit: AuditLog
    /// A national node's own side: its country's figures as it publishes them (its engine, its cell keys),
    /// set against what partners sent it through agreements and partners' published figures loaded here.
    let own: (node: NodeIdentity, engine: StatisticsEngine, policy: DisclosurePolicy)?
    var store: any PuenteStore { regional.store }
    var reference: ReferenceData { regional.reference }

    /// - Parameter node: this node's identity, when its own records are one side of the pairs (a hub
    ///   has none: every side is a member's package or a partner's figures).
    public init(regional: RegionalStatistics, node: NodeIdentity? = nil, disclosure: DisclosurePolicy = .standard) {
        self.regional = regional
        self.audit = AuditLog(store: regional.store)
        own = node.map { ($0, StatisticsEngine(store: regional.store, reference: regional.reference), disclosure) }
    }

    // MARK: Partner figures

    static let partnerColumns = ["reporter", "flow", "counterpart", "period", "value"]

    /// Loads a partner's published figures (`docs/exchange.md`, "Figures published by partners"): every
    /// row checked first, naming the row and field of the first problem; then all kept in one
    /// transaction, or none.
    public func loadPartnerFigures(_ data: Data, name: String, by actor: Actor) async throws -> [PartnerFigure] {
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let at = Timestamp.now()
        var records: [([String], Int)] = []
        var parser = CSVParser()
        try parser.feed(data) { fields, line in records.append((fields, line)) }
        guard let header = records.first?.0.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) else {
            throw PuenteError(.invalidInput, "The file is empty; expected a header row.", at: .init(file: name))
        }
        var index: [String: Int] = [:]
        for column in Self.partnerColumns + ["source"] { index[column] = header.firstIndex(of: column) }
        if let absent = Self.partnerColumns.first(where: { index[$0] == nil }) {
            throw PuenteError(
                .invalidInput,
                "The header has no \(absent) column; expected " + Self.partnerColumns.joined(separator: ", ")
                    + " (and optionally source).", at: .init(file: name, row: 1))
        }
        let countries = reference.codeList("CL_AREA")
        var figures: [PartnerFigure] = []
        var seen = Set<[String]>()
        for (fields, line) in records.dropFirst() where !(fields.count == 1 && fields[0].isEmpty) {
            func field(_ column: String) -> String {
                index[column].flatMap { $0 < fields.count ? fields[$0] : nil }?
                    .trimmingCharacters(in: .whitespaces) ?? ""
            }
            func bad(_ column: String, _ expected: String) -> PuenteError {
                PuenteError(
                    .invalidInput, "Expected \(expected), found '\(field(column))'.",
                    at: .init(file: name, row: line, field: column))
            }
            let reporter = field("reporter").uppercased(), counterpart = field("counterpart").uppercased()
            let flow = field("flow").uppercased(), period = field("period")
            guard countries?.code(reporter) != nil else { throw bad("reporter", "an ISO 3166-1 alpha-3 code") }
            guard countries?.code(counterpart) != nil, counterpart != reporter else {
                throw bad("counterpart", "an ISO 3166-1 alpha-3 code other than the reporter's")
            }
            guard ["RETURN", "ENTRY", "EXIT"].contains(flow) else { throw bad("flow", "RETURN, ENTRY or EXIT") }
            guard Self.isPeriod(period) else {
                throw bad("period", "a year, quarter or month (2016, 2016-Q1, 2016-01)")
            }
            guard let value = Double(field("value")), value >= 0, value.isFinite, value == value.rounded() else {
                throw bad("value", "a whole number of events, zero or more")
            }
            guard seen.insert([reporter, flow, counterpart, period]).inserted else {
                throw PuenteError(
                    .invalidInput, "A figure for \(reporter) \(flow) \(counterpart) \(period) was given before.",
                    at: .init(file: name, row: line))
            }
            figures.append(
                PartnerFigure(
                    reporter: reporter, flow: flow, counterpart: counterpart, period: period, value: value,
                    source: field("source"), digest: digest, loadedAt: at))
        }
        guard !figures.isEmpty else {
            throw PuenteError(.invalidInput, "The file has a header and no figures.", at: .init(file: name))
        }
        try await store.savePartnerFigures(figures)
        try await audit.record(
            .init(
                actor: actor.name, action: "partner_figures_loaded",
                target: "file:\(name) sha256:\(digest) figures:\(figures.count)", address: actor.address))
        return figures
    }

    static func isPeriod(_ p: String) -> Bool {
        let parts = p.split(separator: "-", omittingEmptySubsequences: false)
        guard let year = Int(parts[0]), parts[0].count == 4, (1900...2100).contains(year) else { return false }
        if parts.count == 1 { return true }
        guard parts.count == 2 else { return false }
        if parts[1].hasPrefix("Q") { return ["Q1", "Q2", "Q3", "Q4"].contains(parts[1]) }
        return parts[1].count == 2 && (1...12).contains(Int(parts[1]) ?? 0)
    }

    /// The frequency of a period code, and the coarser periods it adds into.
    static func frequency(_ period: String) -> String { RegionalStatistics.frequency(of: period) }

    static func parent(_ period: String, at frequency: String) -> String? {
        let year = String(period.prefix(4))
        switch (Self.frequency(period), frequency) {
        case (let f, let g) where f == g: return period
        case (_, "A"): return year
        case ("M", "Q"):
            guard let month = Int(period.suffix(2)) else { return nil }
            return "\(year)-Q\((month - 1) / 3 + 1)"
        default: return nil
        }
    }

    // MARK: Pairs

    /// What each side of a flow counts. Both count events, every one (no minimum stay): the duration
    /// coefficients cancel, and U is the ratio of the two registers' coverage.
    static let definitions: [Flow: (sender: String, receiver: String, months: Double)] = [
        .returns: (
            "returns of the counterpart's nationals it removed",
            "returns from the partner its reception centres registered",
            0
        ),
        .movements: ("exits at its posts on the border", "entries at its posts on the same border", 0),
    ]

    /// Every pair for `period` (a year or quarter), of one flow or both; `tolerance` bounds |log U|.
    public func pairs(period: String, flow: Flow? = nil, tolerance: Double = log(1.25)) async throws -> [Pair] {
        guard Self.isPeriod(period), Self.frequency(period) != "M" else {
            throw PuenteError(.invalidArgument, "Give a year or a quarter (2016, 2016-Q1) for mirror statistics.")
        }
        let snapshot = try await regional.current()
        let partners = try await store.partnerFigures()
        var members = Set(snapshot.reported.keys)
        var senders = try await memberSenders(snapshot)
        // This node's own records, when it has any: the years it has events in, at every frequency.
        var ownReported = Set<String>()
        if let own {
            let years = try await own.engine.run(
                StatisticsQuery(measure: .events, by: [.year], filters: [.reportingCountry: [own.node.country]]),
                policy: own.policy
            ).cells.map { $0.key[0] }
            for year in years { ownReported.formUnion(PackageContent.periods(of: year, upTo: "M")) }
            if !years.isEmpty {
                members.insert(own.node.country)
                senders[own.node.country] = own.node.id
            }
        }
        // A member reported the periods of its packages at the frequencies its cells come in (a package
        // covers its year's months even when the agreement stops at quarters).
        let area = SDMXFlow.dimensionIDs.firstIndex(of: "REF_AREA")!
        var frequencies: [String: Set<String>] = [:]
        for (key, rows) in snapshot.tables {
            for i in rows { frequencies[snapshot.rows[i].key[area], default: []].insert(key.frequency) }
        }
        // What each member's agreements share: a side exists only where its measure and dimension flow
        // (a country that sends no returns is not a zero in a returns pair). This node shares everything.
        var shares: [String: Set<String>] = [:]
        for kept in try await store.agreements() {
            guard let terms = try? kept.signed().terms else { continue }
            shares[terms.sender.country, default: []].formUnion(terms.measures + terms.dimensions)
        }
        // This node's engine stands for its country only when it has records (a hub has none, whatever
        // country its identity names).
        let ownSide = ownReported.isEmpty ? nil : own
        func shared(_ country: String, _ measure: String, _ dimension: String) -> Bool {
            if !ownReported.isEmpty, country == own?.node.country { return true }
            return shares[country].map { $0.contains(measure) && $0.contains(dimension) } ?? false
        }
        func reported(_ country: String) -> Set<String> {
            if !ownReported.isEmpty, country == own?.node.country { return ownReported }
            return (snapshot.reported[country] ?? []).filter {
                frequencies[country]?.contains(Self.frequency($0)) == true
            }
        }
        var out: [Pair] = []
        if flow == nil || flow == .returns {
            let published = Set(partners.filter { $0.flow == "RETURN" }.map { [$0.reporter, $0.counterpart] })
            for key in published.sorted(by: { $0.lexicographicallyPrecedes($1) })
            where members.contains(key[1]) && shared(key[1], "returns", "returning_from") {
                let (reporter, member) = (key[0], key[1])
                let theirs = partners.filter {
                    $0.flow == "RETURN" && $0.reporter == reporter && $0.counterpart == member
                }
                let ours = try await memberCells(
                    snapshot, own: ownSide, country: member, movement: "RETURN", dimension: "COUNTERPART_AREA"
                ) {
                    $0 == reporter
                }
                out.append(
                    compare(
                        flow: .returns, period: period, tolerance: tolerance,
                        sender: partnerSide(theirs, country: reporter),
                        receiver: (member, senders[member] ?? member, ours, reported(member))))
            }
        }
        if flow == nil || flow == .movements {
            // Land posts only: a sea post may serve several neighbours (Meanguera: Honduras and Nicaragua).
            let neighbour = Dictionary(
                uniqueKeysWithValues: reference.places.filter { $0.kind == .land }.map { ($0.code, $0.neighbour ?? "") }
            )
            for a in members.sorted() where shared(a, "exits", "place") {
                for b in members.sorted() where a != b && shared(b, "entries", "place") {
                    let exits = try await memberCells(
                        snapshot, own: ownSide, country: a, movement: "EXIT", dimension: "PLACE"
                    ) {
                        neighbour[$0] == b
                    }
                    let entries = try await memberCells(
                        snapshot, own: ownSide, country: b, movement: "ENTRY", dimension: "PLACE"
                    ) {
                        neighbour[$0] == a
                    }
                    guard !exits.isEmpty || !entries.isEmpty else { continue }
                    out.append(
                        compare(
                            flow: .movements, period: period, tolerance: tolerance,
                            sender: (a, senders[a] ?? a, exits, reported(a)),
                            receiver: (b, senders[b] ?? b, entries, reported(b))))
                }
            }
        }
        return out
    }

    /// A side's figures by period, with whether any was perturbed or suppressed.
    struct Figures {
        var values: [String: Double] = [:]
        var perturbed = false
        var suppressed: Set<String> = []
        var isEmpty: Bool { values.isEmpty && suppressed.isEmpty }
    }

    /// The cells a member sent for one movement with one dimension shown (codes `matching`), every other
    /// dimension at its total, summed by period; for this node's own country, its own published cells.
    func memberCells(
        _ snapshot: RegionalStatistics.Snapshot,
        own: (node: NodeIdentity, engine: StatisticsEngine, policy: DisclosurePolicy)?,
        country: String, movement: String, dimension: String, matching: (String) -> Bool
    ) async throws -> Figures {
        if let own, own.node.country == country {
            return try await ownCells(own, movement: movement, dimension: dimension, matching: matching)
        }
        let ids = SDMXFlow.dimensionIDs
        let area = ids.firstIndex(of: "REF_AREA")!, shownIndex = ids.firstIndex(of: dimension)!
        var out = Figures()
        for frequency in ["A", "Q", "M"] {
            let key = RegionalStatistics.TableKey(
                movement: movement, frequency: frequency, shown: 1 << area | 1 << shownIndex)
            for row in (snapshot.tables[key] ?? []).map({ snapshot.rows[$0] })
            where row.key[area] == country && matching(row.key[shownIndex]) {
                if let value = row.value {
                    out.values[row.period, default: 0] += value
                } else {
                    out.suppressed.insert(row.period)
                }
                if row.obsStatus == "E" { out.perturbed = true }
            }
        }
        return out
    }

    /// This node's own cells for a movement by one dimension, at every frequency, protected as it
    /// publishes them (what it would send under an agreement).
    func ownCells(
        _ own: (node: NodeIdentity, engine: StatisticsEngine, policy: DisclosurePolicy), movement: String,
        dimension: String, matching: (String) -> Bool
    ) async throws -> Figures {
        guard let measure = SDMXFlow.movementCodes.first(where: { $0.value == movement })?.key,
            let shown = SDMXFlow.shownDimensions(of: dimension).first
        else { return Figures() }
        var out = Figures()
        for period: PuenteStatistics.Dimension in [.year, .quarter, .month] {
            let table = try await own.engine.run(
                StatisticsQuery(
                    measure: measure, by: [shown, period], filters: [.reportingCountry: [own.node.country]]),
                policy: own.policy)
            for cell in table.cells where matching(cell.key[0]) {
                if let value = cell.value {
                    out.values[cell.key[1], default: 0] += value
                } else {
                    out.suppressed.insert(cell.key[1])
                }
                if cell.obsStatus == "E" { out.perturbed = true }
            }
        }
        return out
    }

    func partnerSide(_ figures: [PartnerFigure], country: String)
        -> (country: String, source: String, figures: Figures, reported: Set<String>)
    {
        var out = Figures()
        var reported = Set<String>()
        // A partner's months add into quarters and years (its published figures are exact counts).
        for f in figures {
            for frequency in ["A", "Q", "M"] {
                guard let period = Self.parent(f.period, at: frequency) else { continue }
                // A period published directly wins over one added up from finer figures.
                if figures.contains(where: { $0.period == period }), period != f.period { continue }
                out.values[period, default: 0] += f.value
                reported.insert(period)
            }
        }
        let sources = Set(figures.map(\.source)).filter { !$0.isEmpty }.sorted()
        return (country, sources.first ?? "partner figures", out, reported)
    }

    /// The member node that sent each country's figures.
    func memberSenders(_ snapshot: RegionalStatistics.Snapshot) async throws -> [String: String] {
        let area = SDMXFlow.dimensionIDs.firstIndex(of: "REF_AREA")!
        var out: [String: String] = [:]
        for row in snapshot.rows where out[row.key[area]] == nil { out[row.key[area]] = row.sender }
        return out
    }

    func compare(
        flow: Flow, period: String, tolerance: Double,
        sender: (country: String, source: String, figures: Figures, reported: Set<String>),
        receiver: (country: String, source: String, figures: Figures, reported: Set<String>)
    ) -> Pair {
        // The finest frequency both sides have within the period: the cells the bootstrap resamples.
        let candidates = Self.frequency(period) == "A" ? ["M", "Q", "A"] : ["M", "Q"]
        func periods(_ f: String) -> [String] {
            PackageContent.periods(of: String(period.prefix(4)), frequency: f).filter {
                Self.parent($0, at: Self.frequency(period)) == period
            }
        }
        func has(_ side: Set<String>, _ f: String) -> Bool { periods(f).contains { side.contains($0) } }
        let frequency =
            candidates.first { has(sender.reported, $0) && has(receiver.reported, $0) }
            ?? Self.frequency(period)
        let all = periods(frequency)
        let both = all.filter { sender.reported.contains($0) && receiver.reported.contains($0) }
        let onlyOne = all.filter { sender.reported.contains($0) != receiver.reported.contains($0) }
        let cells = both.map {
            MirrorModel.Pair(sender: sender.figures.values[$0] ?? 0, receiver: receiver.figures.values[$0] ?? 0)
        }
        let definition = Self.definitions[flow]!
        // The same figures always give the same interval: the seed is the pair's name.
        let seed = FNV1a.hash("\(flow.rawValue) \(sender.country) \(receiver.country) \(period)")
        let comparison: MirrorModel.Comparison? =
            both.isEmpty
            ? nil
            : MirrorModel.compare(
                cells, sender: .months(definition.months), receiver: .months(definition.months), tolerance: tolerance,
                seed: seed)
        func side(
            _ s: (country: String, source: String, figures: Figures, reported: Set<String>), counts: String,
            partner: Bool
        ) -> Side {
            let protection =
                both.isEmpty
                ? "missing"
                : partner
                    ? "published"
                    : both.contains(where: s.figures.suppressed.contains)
                        ? "suppressed_contributions" : s.figures.perturbed ? "perturbed" : "exact"
            return Side(
                country: s.country, source: s.source, counts: counts, criterionMonths: definition.months,
                figure: both.isEmpty ? nil : both.map { s.figures.values[$0] ?? 0 }.reduce(0, +),
                protection: protection)
        }
        return Pair(
            flow: flow.rawValue, period: period, periods: both,
            sender: side(sender, counts: definition.sender, partner: flow == .returns),
            receiver: side(receiver, counts: definition.receiver, partner: false),
            difference: comparison?.difference, ratio: comparison?.ratio, adjusted: comparison?.adjusted,
            // One cell has nothing to resample: no interval rather than a point posing as one.
            low: cells.count > 1 ? comparison?.low : nil, high: cells.count > 1 ? comparison?.high : nil,
            flagged: comparison?.flagged ?? false,
            status: both.isEmpty ? "missing" : onlyOne.isEmpty ? "complete" : "incomplete", missing: onlyOne)
    }
}
