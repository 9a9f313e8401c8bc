import ArgumentParser
import PuenteCore
import PuenteStatistics

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count events, broken down and filtered by coded dimensions.",
        discussion: """
        Example: puente stats --measure returns --by sex,age_group --filter year=2016,department=SV-SS
        Measures: \(Measure.allCases.map(\.rawValue).joined(separator: ", ")).
        Dimensions: \(Dimension.allCases.map(\.rawValue).joined(separator: ", ")).
        Counts below the disclosure threshold are suppressed (x) unless --threshold 0.
        """)

    @OptionGroup var store: StoreOptions
    @Option(help: "What to count.") var measure: String
    @Option(help: ArgumentHelp("Dimensions to break down by, comma-separated.", valueName: "dim,...")) var by: String?
    @Option(help: ArgumentHelp("Filters DIM=CODE, comma-separated; repeat a dimension for OR.", valueName: "dim=code,...")) var filter: String?
    @Option(help: "table, csv or json.") var format: String = "table"
    @Option(help: "Disclosure threshold: counts from 1 to N-1 are suppressed; 0 shows every count.") var threshold: Int = 5

    func run() async throws {
        guard ["table", "csv", "json"].contains(format) else { throw ValidationError("--format takes table, csv or json.") }
        let query: StatisticsQuery
        do { query = try StatisticsQuery.parse(measure: measure, by: by, filter: filter) } catch { throw ValidationError("\(error)") }
        let table = try await withStore(store) { store in
            try await StatisticsEngine(store: store).run(query, policy: DisclosurePolicy(threshold: max(threshold, 0)))
        }
        switch format {
        case "csv": print(table.csv(), terminator: "")
        case "json": print(try table.json())
        default: print(table.textTable(), terminator: "")
        }
    }
}
