import PuenteCore

/// A record counted by a table that is not a movement event (a case, a referral, a grant): its codes by
/// dimension name, and its cell key, so its tables are protected as the events' are.
public struct StatisticalUnit: Sendable {
    public var values: [String: String]
    public var cellKey: UInt8

    public init(values: [String: String], cellKey: UInt8) {
        self.values = values
        self.cellKey = cellKey
    }
}

/// Counts and shares of statistical units broken down by dimensions, protected by the node's disclosure
/// policy (the same `Protector` as the events' tables): perturbed cells marked `E`, small ones
/// suppressed (`Q`), shares withheld when their numerator or denominator is.
public enum UnitStatistics {
    public struct Table: Codable, Sendable {
        public var by: [String]
        public var cells: [StatisticsCell]
        public var total: StatisticsCell
        /// Shares only: each cell's denominator, published (protected) like a count.
        public var denominators: [StatisticsCell]?
        public var protection: ProtectionNote
    }

    static func tallies(_ units: [StatisticalUnit], by: [String]) -> [[String]: CellTally] {
        var out: [[String]: CellTally] = [:]
        for unit in units { out[by.map { unit.values[$0] ?? "_U" }, default: CellTally()].add(cellKey: unit.cellKey) }
        return out
    }

    static func total(_ units: [StatisticalUnit]) -> CellTally {
        var t = CellTally()
        for unit in units { t.add(cellKey: unit.cellKey) }
        return t
    }

    /// Counts by `by`, every combination that occurs, sorted by key.
    public static func counts(_ units: [StatisticalUnit], by: [String], policy: DisclosurePolicy) -> Table {
        let protector = Protector(policy: policy)
        let tallies = tallies(units, by: by)
        let keys = tallies.keys.sorted { $0.lexicographicallyPrecedes($1) }
        let (cells, total) = protector.counts(keys: keys, tallies: keys.map { tallies[$0]! }, total: total(units))
        return Table(by: by, cells: cells, total: total, denominators: nil, protection: protector.note)
    }

    /// Shares in percent of the denominator's units that are also the numerator's (`numerator` ⊆
    /// `denominator`), by `by`, with the denominators beside them.
    public static func shares(
        numerator: [StatisticalUnit], denominator: [StatisticalUnit], by: [String], policy: DisclosurePolicy
    ) -> Table {
        let protector = Protector(policy: policy)
        let n = tallies(numerator, by: by), d = tallies(denominator, by: by)
        let keys = d.keys.sorted { $0.lexicographicallyPrecedes($1) }
        let cells = protector.ratios(keys: keys, numerators: n, denominators: d, factor: 100)
        let (denominators, _) = protector.counts(keys: keys, tallies: keys.map { d[$0]! }, total: total(denominator))
        let total = protector.ratio(total(numerator), total(denominator), factor: 100, key: [])
        return Table(by: by, cells: cells, total: total, denominators: denominators, protection: protector.note)
    }
}
