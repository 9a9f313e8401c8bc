import ArgumentParser
import Foundation
import PuenteCore
import PuenteIngest

struct Profiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the shipped source profiles.")

    func run() async throws {
        for id in ProfileCatalogue.shippedIDs {
            let profile = try ProfileCatalogue.load(id)
            print("\(id)\t\(profile.title)")
        }
    }
}

struct Imports: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List import batches or roll one back.",
                                                    subcommands: [List.self, Rollback.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent import batches with their counts.")
        @OptionGroup var store: StoreOptions
        @Option(help: "How many to show.") var limit = 20

        func run() async throws {
            let records = try await withStore(store) { try await $0.imports(limit: limit) }
            if records.isEmpty { print("No imports yet. Load a file with `puente ingest --profile NAME FILE`."); return }
            for r in records {
                print("\(r.id)\t\(r.status.rawValue)\t\(r.startedAt)\t\(r.request.profile)\t\(r.request.file)\tread \(r.counts.read), accepted \(r.counts.accepted), rejected \(r.counts.rejected), duplicates \(r.counts.duplicates)")
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a batch's events and rejects; statistics drop them at once.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch id, as `puente imports list` shows it.") var id: Int64

        func run() async throws {
            try await withStore(store) { try await $0.rollbackImport(id) }
            print("Import \(id) rolled back.")
        }
    }
}

struct Rejects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Inspect rows kept in quarantine.",
                                                    subcommands: [List.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rejected rows with the field, rule and what was expected (values are not shown).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this import batch.") var importID: Int64?
        @Option(help: "How many to show.") var limit = 50

        func run() async throws {
            let rows = try await withStore(store) { try await $0.rejectedRows(importID: importID, limit: limit) }
            for r in rows {
                let reasons = r.reasons.map { "\($0.field): \($0.rule) (expected \($0.expected))" }.joined(separator: "; ")
                print("batch \(r.importID)\t\(r.file)\trow \(r.row)\t\(reasons)")
            }
        }
    }
}
