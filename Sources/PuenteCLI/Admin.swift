import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteIngest
import PuenteServices

struct Profiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the shipped source profiles.")

    func run() async throws {
        for id in ProfileCatalogue.shippedIDs {
            let profile = try ProfileCatalogue.load(id)
            print("\(id)\t\(profile.format.type.rawValue)\t\(profile.title)")
        }
    }
}

struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile", abstract: "Work with source profiles.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a profile file and explain each mistake with its line.",
            discussion: "Exits with status 1 when the profile has problems. A shipped profile's name works too.")
        @Argument(help: "Profile file (YAML) or shipped profile name.") var file: String

        func run() async throws {
            let url = try ProfileCatalogue.url(of: file)
            switch ProfileCatalogue.read(url) {
            case .success(let profile):
                print(
                    "\(url.lastPathComponent): profile `\(profile.id)` is valid: \(profile.format.type.rawValue), "
                        + "\(profile.columns.count) columns, \(profile.required.count) required fields.")
            case .failure(let errors):
                print("\(url.lastPathComponent): \(errors.problems.count) problem(s):")
                for problem in errors.problems { print("  \(problem)") }
                throw ExitCode(1)
            }
        }
    }
}

struct Imports: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List import batches or roll one back.",
        subcommands: [List.self, Rollback.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent import batches with their counts.")
        @OptionGroup var store: StoreOptions
        @Option(help: "How many to show.") var limit = 20

        func run() async throws {
            let records = try await withStore(store) { try await $0.imports(limit: limit) }
            if records.isEmpty {
                print("No imports yet. Load a file with `puente ingest --profile NAME FILE`."); return
            }
            // A pending batch counts nothing: an import running now, or one that was interrupted.
            let pending = records.filter { $0.status == .pending }
            if !pending.isEmpty {
                print(
                    "WARNING: \(pending.count) pending import(s) count nothing: "
                        + pending.map { "\($0.id) (\($0.request.file), since \($0.startedAt))" }
                        .joined(separator: ", ")
                        + ". Unless an import is running now, complete each by importing its file again, "
                        + "or remove it with `puente imports rollback ID`.\n")
            }
            for r in records {
                print(
                    "\(r.id)\t\(r.status == .pending ? "PENDING" : r.status.rawValue)\t\(r.startedAt)\t\(r.request.profile)\t\(r.request.file)"
                        + (r.request.mode == .replace ? "\treplace" : "")
                        + "\tread \(r.counts.read), accepted \(r.counts.accepted), rejected \(r.counts.rejected), duplicates \(r.counts.duplicates)"
                        + (r.counts.replaced > 0 ? ", replaced \(r.counts.replaced)" : ""))
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a batch's events and rejects; statistics drop them at once.",
            discussion:
                "A record the batch counted counts again in another batch that holds a copy of it (the previous version, or a duplicate)."
        )
        @OptionGroup var store: StoreOptions
        @Argument(help: "Batch id, as `puente imports list` shows it.") var id: Int64

        func run() async throws {
            try await withStore(store) {
                try await ImportService(store: $0).rollback(importID: id, by: commandOperator)
            }
            print("Import \(id) rolled back.")
        }
    }
}

struct Rejects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect rows kept in quarantine, and export them for correction.",
        discussion: """
            Correct an import's rejects by exporting them (`puente rejects export --import ID --out fixed.csv`),
            fixing the file, and loading it with the same profile. Its `puente_reject_id` column lets that
            import resolve the rejects it corrects; rows still wrong are quarantined again.
            """,
        subcommands: [List.self, Export.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rejected rows with the field, rule and what was expected (values are not shown).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this import batch.") var importID: Int64?
        @Flag(help: "Include rejects already resolved by a later import.") var all = false
        @Option(help: "How many to show.") var limit = 50

        func run() async throws {
            let rows = try await withStore(store) {
                try await $0.rejectedRows(importID: importID, includeResolved: all, limit: limit)
            }
            if rows.isEmpty { print("No outstanding rejects."); return }
            for r in rows {
                let reasons = r.reasons.map { "\($0.field): \($0.rule) (expected \($0.expected))" }.joined(
                    separator: "; ")
                print(
                    "reject \(r.id)\tbatch \(r.importID)\t\(r.file)\trow \(r.row)\t\(reasons)"
                        + (r.resolvedBy.map { "\tresolved by batch \($0)" } ?? ""))
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an import's outstanding rejects in the layout its profile reads, for correction.",
            discussion: """
                The file has the export's columns, in the profile's delimiter and encoding (JSON Lines for a
                JSON Lines profile), plus `puente_reject_id` and `puente_reasons`. It holds personal data:
                keep it where the original exports are kept.
                """)
        @OptionGroup var store: StoreOptions
        @Option(name: .customLong("import"), help: "Import batch whose rejects to export.") var importID: Int64
        @Option(help: "Profile of that import (default: the shipped profile it was loaded with).") var profile: String?
        @Option(help: ArgumentHelp("File to write.", valueName: "file")) var out: String

        func run() async throws {
            let (rows, data, profile) = try await withStore(store) {
                try await ImportService(store: $0).exportRejects(
                    importID: importID, profile: self.profile, by: commandOperator)
            }
            try writeFile(data, to: out)
            print(
                "Wrote \(rows) rejects of batch \(importID) to \(out). Correct them and load the file with "
                    + "`puente ingest --profile \(profile) \(out)`.")
        }
    }
}
