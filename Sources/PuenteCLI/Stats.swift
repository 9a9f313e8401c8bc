import ArgumentParser
import Foundation
import PuenteCore
import PuenteServices
import PuenteStatistics

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count events, broken down and filtered by coded dimensions.",
        discussion: """
            Example: puente stats --measure returns --by sex,age_group --filter year=2016,department=SV-SS
            Measures: \(Measure.allCases.map(\.rawValue).joined(separator: ", ")).
            Dimensions: \(Dimension.allCases.map(\.rawValue).joined(separator: ", ")).
            Figures are protected as published ones are: the cell key method adds small, consistent noise
            and counts below the threshold are suppressed (x). --protection suppression gives a fixed table
            with complementary suppression; --protection none gives exact values (for entitled staff only).
            Exact figures need --purpose and, like every file written, are recorded in the audit trail.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "What to count.") var measure: Measure
    @Option(help: ArgumentHelp("Dimensions to break down by, comma-separated.", valueName: "dim,...")) var by: String?
    @Option(
        help: ArgumentHelp("Filters DIM=CODE, comma-separated; repeat a dimension for OR.", valueName: "dim=code,..."))
    var filter: String?
    @Option(help: "A table for the terminal, or a published format.") var format: StatsFormat = .table
    @Option(help: "Disclosure threshold: published counts from 1 to N-1 are suppressed.") var threshold: Int = 5
    @Option(help: "ckm (cell key method), suppression (fixed tables) or none (exact).") var protection:
        DisclosurePolicy.Method = .cellKey
    @Option(help: "Why exact figures are needed (3 to 200 characters); recorded in the audit trail.") var purpose:
        String?
    @Option(
        help:
            "Rates: any (census figures, else estimates, flagged) or census (rates over estimated populations left out)."
    )
    var population: PopulationBasis = .any

    func validate() throws {
        guard threshold >= 1 else {
            throw ValidationError("--threshold must be 1 or more; every published figure is protected.")
        }
        _ = try query()
    }

    /// The query the options name; a dimension or code that does not exist is a usage error.
    private func query() throws -> StatisticsQuery {
        do {
            var query = try StatisticsQuery.parse(measure: measure.rawValue, by: by, filter: filter)
            query.population = population
            return query
        } catch let error as PuenteError {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        let (query, published) = (try query(), format.published)
        let publication = try await withStore(store) { store in
            try await StatisticsService(
                store: store, disclosure: DisclosurePolicy(method: .cellKey, threshold: threshold)
            )
            .publish(
                .init(query: query, protection: protection, purpose: purpose, format: published), by: commandOperator)
        }
        if let published, let body = publication.body {
            print(body, terminator: published == .csv || published == .sdmxCSV ? "" : "\n")
        } else {
            print(publication.table.textTable(), terminator: "")
        }
    }
}

struct SDMXCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdmx",
        abstract: "Write the SDMX-ML 2.1 structure message of Puente's dataflow (DSD, concepts, code lists).",
        discussion: "Data against it: puente stats --format sdmx-csv (or sdmx-json) with a period in --by.")

    @Option(help: "File to write; standard output when absent.") var out: String?

    func run() async throws {
        let xml = SDMXFlow().structureMessage()
        if let out {
            try Data(xml.utf8).write(to: URL(fileURLWithPath: out))
        } else {
            print(xml, terminator: "")
        }
    }
}
