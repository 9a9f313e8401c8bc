import PuenteCore
import PuenteReference

/// One cell of a result: codes in `by` order, the value (nil when suppressed) and its SDMX status.
public struct StatisticsCell: Codable, Hashable, Sendable {
    public var key: [String]
    public var value: Double?
    /// SDMX OBS_STATUS: `A` normal, `E` perturbed by the cell key method, `Q` suppressed for confidentiality.
    public var obsStatus: String
    /// SDMX CONF_STATUS: `F` free, `A` primary suppression (small count), `D` secondary suppression.
    public var confStatus: String
    /// Change on the previous period and on the same period a year before, in percent, when the
    /// breakdown has a period and both values are published.
    public var changePrevious: Double?
    public var changeYearAgo: Double?
    /// Rates only: how the population divided by was obtained (`census`, `census_unverified`: a census
    /// figure from a secondary source, or `estimated`: not a census figure), and its census date or year.
    public var populationBasis: String?
    public var populationReference: String?

    public var suppressed: Bool { obsStatus == "Q" }
    /// A rate over a population that is not a verified census figure.
    public var estimatedPopulation: Bool {
        populationBasis.map { $0 != PopulationFigure.Basis.census.rawValue } ?? false
    }
    public var perturbed: Bool { obsStatus == "E" }

    public init(key: [String], value: Double?, obsStatus: String = "A", confStatus: String = "F") {
        self.key = key
        self.value = value
        self.obsStatus = obsStatus
        self.confStatus = confStatus
    }
}

/// How a table was protected, published with it.
public struct ProtectionNote: Codable, Hashable, Sendable {
    /// `ckm`, `suppression` or `none`.
    public var method: String
    public var threshold: Int
    /// Cell key method parameters: maximum noise and its variance (published, per the method).
    public var maxNoise: Int?
    public var variance: Double?
}

/// The answer to a `StatisticsQuery`.
public struct StatisticsTable: Codable, Hashable, Sendable {
    public var measure: Measure
    public var dimensions: [Dimension]
    public var filters: [String: [String]]
    public var cells: [StatisticsCell]
    public var total: StatisticsCell
    public var protection: ProtectionNote
}
