import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteIngest
import PuenteServices

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load agency exports through a source profile; rejected rows go to quarantine.",
        discussion: """
            Every row read is accepted, rejected with its reasons (see `puente rejects list`) or kept as a
            duplicate of a record already counted. Importing the same file again changes nothing. When an
            agency re-exports corrected records under the same keys, --replace makes the file's versions count
            instead (the previous ones are kept, and count again if the import is rolled back). Files may be
            CSV, JSON Lines or XLSX as the profile says, plain or gzip-compressed.
            `puente profiles` lists the shipped profiles; give a path to use your own.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Shipped profile name or path to a profile file.") var profile: String
    @Option(help: "The report: text, or json for scripts (keys read, accepted, rejected, duplicates, …).") var format:
        ReportFormat = .text
    @Flag(
        help:
            "Read and check the files without storing anything; show the first rows as they would be stored and the first rejects."
    )
    var dryRun = false
    @Flag(
        help:
            "The files correct records already stored: their versions count from now on (audited; the previous versions are kept)."
    )
    var replace = false
    @Argument(help: "Export files to load.") var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("Give at least one file to load.") }
    }

    func run() async throws {
        let profile = try ProfileCatalogue.load(self.profile)
        try await withStore(store) { store in
            let imports = ImportService(store: store)
            var reports: [ImportReport] = []
            for file in files {
                guard FileManager.default.fileExists(atPath: file) else {
                    throw PuenteError(.notFound, "No such file; check the path.", at: InputLocation(file: file))
                }
                let started = Date()
                let meter = ProgressMeter(label: (file as NSString).lastPathComponent)
                let r = try await imports.importFile(
                    URL(fileURLWithPath: file), profile: profile, mode: replace ? .replace : .add,
                    dryRun: dryRun, by: commandOperator, progress: { meter.update($0) })
                meter.finish()
                reports.append(r)
                if format == .text { printText(r, seconds: Date().timeIntervalSince(started)) }
            }
            if format == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                let value: any Encodable = reports.count == 1 ? reports[0] : reports
                print(String(decoding: try encoder.encode(value), as: UTF8.self))
            }
        }
    }

    private func printText(_ r: ImportReport, seconds: Double) {
        if r.alreadyImported {
            print(
                "\(r.file): already imported as batch \(r.importID ?? 0); "
                    + (dryRun ? "importing it again would change nothing." : "nothing changed."))
            if !dryRun { return }
        }
        print(
            "\(r.file): read \(r.read) = accepted \(r.accepted) + rejected \(r.rejected) + duplicates \(r.duplicates)"
                + (dryRun
                    ? " (dry run, nothing stored; duplicates of stored records are not looked up)"
                    : ", batch \(r.importID ?? 0)")
                + String(format: " in %.1f s", seconds))
        if r.replaced > 0 {
            print(
                "  \(r.replaced) accepted rows replaced the previous version of their record (kept, no longer counted)")
        }
        for (rule, n) in r.rejectionsByRule.sorted(by: { $0.key < $1.key }) { print("  rejected by \(rule): \(n)") }
        if r.resolvedRejects > 0 { print("  corrections of \(r.resolvedRejects) earlier rejects") }
        guard dryRun else { return }
        if let preview = r.preview, !preview.isEmpty {
            print("First rows as they would be stored:")
            let columns = [
                "row", "record_key", "event_type", "event_date", "sex", "age", "nationality", "division", "place",
            ]
            let rows = preview.map { e in
                [
                    String(e.source.row), e.source.recordKey, e.type.rawValue, e.date.description,
                    e.person.sex.rawValue,
                    e.person.age.map(String.init) ?? "", e.person.nationality ?? "", e.person.residenceDivision ?? "",
                    e.place ?? "",
                ]
            }
            print(TextTable.render(header: columns, rows: rows))
        }
        if let rejects = r.previewRejects, !rejects.isEmpty {
            print("First rejects:")
            for row in rejects {
                print(
                    "  row \(row.row): "
                        + row.reasons.map { "\($0.field): \($0.rule) (expected \($0.expected))" }.joined(
                            separator: "; "))
            }
        }
    }
}

/// Aligned plain-text columns for terminal output.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
