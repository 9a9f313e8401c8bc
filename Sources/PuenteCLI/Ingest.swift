import ArgumentParser
import Foundation
import PuenteCore
import PuenteIngest

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load agency exports through a source profile; rejected rows go to quarantine.",
        discussion: """
        Every row read is accepted, rejected with its reasons (see `puente rejects list`) or skipped as a
        duplicate of a record already stored. Importing the same file again changes nothing.
        `puente profiles` lists the shipped profiles; give a path to use your own.
        """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Shipped profile name or path to a profile file.") var profile: String
    @Option(help: "Report format: text or json.") var report: String = "text"
    @Flag(help: "Read and check the files without storing anything.") var dryRun = false
    @Argument(help: "Export files to load.") var files: [String]

    func validate() throws {
        guard ["text", "json"].contains(report) else { throw ValidationError("--report takes text or json.") }
        guard !files.isEmpty else { throw ValidationError("Give at least one file to load.") }
    }

    func run() async throws {
        let profile: SourceProfile
        do { profile = try ProfileCatalogue.load(self.profile) } catch { throw ValidationError("\(error)") }
        try await withStore(store) { store in
            let importer = Importer(store: store)
            var reports: [ImportReport] = []
            for file in files {
                guard FileManager.default.fileExists(atPath: file) else {
                    throw ValidationError("\(file): no such file. Check the path.")
                }
                let started = Date()
                let r = try await importer.importFile(URL(fileURLWithPath: file), profile: profile, dryRun: dryRun)
                reports.append(r)
                if report == "text" {
                    let seconds = Date().timeIntervalSince(started)
                    if r.alreadyImported {
                        print("\(r.file): already imported as batch \(r.importID ?? 0); nothing changed.")
                    } else {
                        print("\(r.file): read \(r.read) = accepted \(r.accepted) + rejected \(r.rejected) + duplicates \(r.duplicates)"
                              + (dryRun ? " (dry run, nothing stored)" : ", batch \(r.importID ?? 0)")
                              + String(format: " in %.1f s", seconds))
                        for (rule, n) in r.rejectionsByRule.sorted(by: { $0.key < $1.key }) { print("  rejected by \(rule): \(n)") }
                    }
                }
            }
            if report == "json" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                let value: any Encodable = reports.count == 1 ? reports[0] : reports
                print(String(decoding: try encoder.encode(value), as: UTF8.self))
            }
        }
    }
}
