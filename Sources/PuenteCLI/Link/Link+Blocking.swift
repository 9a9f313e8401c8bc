import ArgumentParser
import Foundation
import PuenteCore
import PuenteLinkage

extension Link {
    /// `puente link blocking`: what a config's blocking passes compare, before anything is scored.
    struct Blocking: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report what each blocking pass compares on a file, and suggest passes that add recall cheaply.",
            discussion: """
                For each pass of the config: the pairs it compares, the pairs no earlier pass compares (its cost),
                its blocks and their skew (the share of its pairs that come from its largest 1 % of blocks), and
                the new pairs the model estimated on the config's passes would link. With --truth (a CSV with
                record_id and person_id columns, such as the truth.csv of `puente generate --linkage`): the
                true pairs each pass adds and the blocking recall so far. Then up to --suggest passes not in the
                config, of one key or two keys of different fields, that add the most links (or true pairs) for
                at most as many pairs as the config's passes. Give --right to diagnose the linking of two files.

                  puente link blocking --config linkage-corpus records.csv --truth truth.csv
                """)

        @Argument(help: "CSV file to deduplicate (or the left file, with --right).") var file: String
        @Option(help: "Linkage config: a YAML file or a shipped config's name.") var config: String
        @Option(help: "Right CSV file: diagnose linking FILE to it.") var right: String?
        @Option(help: "CSV of each record's person (columns record_id and person_id), for blocking recall.")
        var truth: String?
        @Option(help: "How many additional passes to suggest.") var suggest = 5
        @Option(help: "text or json.") var format: OutputFormat = .text
        @Option(help: "Threads (default: all cores).") var threads: Int?

        enum OutputFormat: String, ExpressibleByArgument { case text, json }

        func run() async throws {
            let config = try LinkageConfigs.load(self.config)
            var table = RecordTable(fields: config.fields, placeholders: config.placeholderValues)
            try table.load(URL(fileURLWithPath: file), config: config, side: .left)
            if let right {
                table.markLeftSide()
                try table.load(URL(fileURLWithPath: right), config: config, side: .right)
            }
            var linker = Linker(config: config)
            if let threads { linker.threads = max(1, threads) }
            let persons = try truth.map { try Self.readTruth($0) }
            let report = linker.diagnoseBlocking(
                table, truth: persons.map { p in table.ids.map { p[$0] } }, suggestions: max(0, suggest))
            if format == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(Self.text(report, pairMode: right != nil, suggestionsAsked: suggest > 0))
            }
        }

        /// Reads `record_id,person_id` (other columns ignored); person ids may be any text.
        static func readTruth(_ path: String) throws -> [String: Int64] {
            try readGroups(path, column: "person_id", file: "truth file")
        }

        /// Each record's group (person or cluster) as a number, from a CSV with `record_id` and `column`.
        static func readGroups(_ path: String, column: String, file: String) throws -> [String: Int64] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PuenteError(.notFound, "Cannot read the \(file).", at: InputLocation(file: path))
            }
            var parser = CSVParser()
            var columns: (record: Int, person: Int)?
            var persons: [String: Int64] = [:], out: [String: Int64] = [:]
            var problem: PuenteError?
            func row(_ f: [String], _ line: Int) {
                guard problem == nil else { return }
                guard let (r, p) = columns else {
                    guard let r = f.firstIndex(of: "record_id"), let p = f.firstIndex(of: column) else {
                        problem = PuenteError(
                            .invalidInput, "The \(file) needs columns record_id and \(column).",
                            at: InputLocation(file: path, row: 1))
                        return
                    }
                    columns = (r, p)
                    return
                }
                guard max(r, p) < f.count, !f[p].isEmpty else {
                    problem = PuenteError(
                        .invalidInput, "A row without its \(column).", at: InputLocation(file: path, row: line))
                    return
                }
                let next = Int64(persons.count)
                out[f[r]] =
                    persons[f[p]]
                    ?? {
                        persons[f[p]] = next; return next
                    }()
            }
            parser.feed(data, emit: row)
            parser.finish(emit: row)
            if let problem { throw problem }
            return out
        }

        static func text(_ report: BlockingReport, pairMode: Bool, suggestionsAsked: Bool = true) -> String {
            func n(_ x: Int) -> String { x.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))) }
            func pct(_ x: Double) -> String { String(format: "%.2f %%", 100 * x) }
            var lines = [
                "\(n(report.records)) records\(pairMode ? " (left and right)" : ""); the passes compare \(n(report.unionPairs)) distinct pairs"
                    + (report.truePairs.map { "; \(n($0)) true pairs" } ?? "") + "."
            ]
            for (k, pass) in report.passes.enumerated() {
                var line =
                    "pass \(k + 1) [\(pass.rule.joined(separator: ", "))]: \(n(pass.candidatePairs)) pairs, \(n(pass.newPairs)) new, "
                    + "\(n(pass.newLinks)) new links; \(n(pass.blocks)) blocks, largest \(n(pass.largestBlock)), "
                    + "largest 1 % of blocks give \(pct(pass.largestBlocksShare)) of its pairs"
                if let newTrue = pass.newTruePairs, let recall = pass.recall {
                    line += "; \(n(newTrue)) new true pairs, recall so far \(pct(recall))"
                }
                if pass.oversizedBlocks > 0 {
                    line +=
                        "; \(pass.oversizedBlocks) blocks over the size limit skipped (\(n(pass.oversizedRecords)) records)"
                }
                lines.append(line)
            }
            guard suggestionsAsked else { return lines.joined(separator: "\n") }
            if report.suggestions.isEmpty {
                lines.append("No pass of one or two keys adds links for at most the config's pairs.")
            } else {
                lines.append("Passes that would add the most:")
                for s in report.suggestions {
                    var line =
                        "  [\(s.rule.joined(separator: ", "))]: \(n(s.newPairs)) new pairs, \(n(s.newLinks)) new links"
                    if let newTrue = s.newTruePairs, let recall = s.recall {
                        line += ", \(n(newTrue)) new true pairs, recall \(pct(recall))"
                    }
                    lines.append(line)
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}
