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
    @Option(help: "What to count.") var measure: String
    @Option(help: ArgumentHelp("Dimensions to break down by, comma-separated.", valueName: "dim,...")) var by: String?
    @Option(help: ArgumentHelp("Filters DIM=CODE, comma-separated; repeat a dimension for OR.", valueName: "dim=code,...")) var filter: String?
    @Option(help: "table, json, csv, sdmx-csv or sdmx-json.") var format: String = "table"
    @Option(help: "Disclosure threshold: published counts from 1 to N-1 are suppressed.") var threshold: Int = 5
    @Option(help: "ckm (cell key method), suppression (fixed tables) or none (exact).") var protection: String = "ckm"
    @Option(help: "Why exact figures are needed (3 to 200 characters); recorded in the audit trail.") var purpose: String?
    @Option(help: "Rates: any (census figures, else estimates, flagged) or census (rates over estimated populations left out).")
    var population: String = "any"

    func run() async throws {
        let published: StatisticsFormat?
        do { published = format == "table" ? nil : try StatisticsFormat.named(format) } catch { throw ValidationError("\(error) Or table.") }
        guard let method = DisclosurePolicy.Method(rawValue: protection) else {
            throw ValidationError("--protection takes ckm, suppression or none.")
        }
        guard ["any", "census"].contains(population) else { throw ValidationError("--population takes any or census.") }
        var query: StatisticsQuery
        do { query = try StatisticsQuery.parse(measure: measure, by: by, filter: filter) } catch { throw ValidationError("\(error)") }
        query.censusPopulationOnly = population == "census"
        let publication = try await withStore(store) { store in
            try await StatisticsService(store: store, disclosure: DisclosurePolicy(method: .cellKey, threshold: max(threshold, 1)))
                .publish(.init(query: query, protection: method, purpose: purpose, format: published), by: .commandOperator(commandActor))
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
