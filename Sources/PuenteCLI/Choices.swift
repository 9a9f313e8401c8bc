import ArgumentParser
import PuenteCore
import PuenteStatistics

// The closed sets of values options take. Parsed by the argument parser, so a wrong value is a usage
// error naming the option and the values it takes, and the help lists them.

/// What a command that reports prints: text for people, JSON for scripts. Every such command takes it
/// as `--format`.
enum ReportFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json
}

/// What `puente stats` prints: a table for a terminal, or one of the formats the API publishes.
enum StatsFormat: String, CaseIterable, ExpressibleByArgument {
    case table, json, csv
    case sdmxCSV = "sdmx-csv"
    case sdmxJSON = "sdmx-json"

    /// Nil for the terminal table.
    var published: StatisticsFormat? { StatisticsFormat(rawValue: rawValue) }
}

extension Measure: ExpressibleByArgument {}
extension DisclosurePolicy.Method: ExpressibleByArgument {}
extension PopulationBasis: ExpressibleByArgument {}

/// Days as `YYYY-MM-DD`.
extension CivilDate: ExpressibleByArgument {
    public init?(argument: String) { self.init(iso: argument) }
}
