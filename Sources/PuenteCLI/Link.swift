import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteLinkage
import PuenteServices

/// `puente link`: find the records of the same person in files with no shared identifier.
struct Link: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Link records of the same person: deduplicate one file or link two (Fellegi–Sunter with EM).",
        discussion: """
        The config (YAML) names the id column and maps columns to comparison fields; give a path or the
        name of a shipped config (\(LinkageConfigs.names.joined(separator: ", "))). See docs/linkage.md.

          puente link dedupe --input F.csv --config C --output clusters.csv
          puente link pair --left A.csv --right B.csv --config C --output pairs.csv
          puente link persons                  # the node's stored events, incrementally
          puente link review                   # pairs waiting for a person's decision
          puente link decide 12 845 match      # a reviewer's decision, respected by later runs
          puente link encode --input F.csv --config C --secret-file S --output F.clk.csv
          puente link match --left A.clk.csv --right B.clk.csv --output pairs.csv
        """,
        subcommands: [Dedupe.self, Pair.self, Persons.self, Review.self, Decide.self, Encode.self, Match.self,
                      ConfigCommand.self])

    struct Encode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode persons as keyed Bloom filters (CLKs) for privacy-preserving linkage; writes id,clk.",
            discussion: """
            Names, date of birth and sex become one 1024-bit filter keyed by the data owners' shared secret
            (HMAC, clkhash's scheme): another node can find common persons by Dice similarity
            (`puente link match`) without seeing a name. Keep the secret away from whoever matches.
            Encode a CSV through a linkage config, or the node's stored events with --stored (ids are
            event ids; reading them is audited).
            """)
        @Option(help: "CSV file to encode.") var input: String?
        @Option(help: "Linkage config naming the id column and the person fields (a YAML file or a shipped config's name).")
        var config: String?
        @Flag(help: "Encode the node's stored events instead of a file.") var stored = false
        @OptionGroup var store: StoreOptions
        @Option(help: "File holding the shared secret (at least 16 characters).") var secretFile: String
        @Option(help: "Where to write id,clk.") var output: String

        func run() async throws {
            guard let text = try? String(contentsOfFile: secretFile, encoding: .utf8),
                  case let secret = text.trimmingCharacters(in: .whitespacesAndNewlines), secret.utf8.count >= 16 else {
                throw ValidationError("The secret file must hold a secret of at least 16 characters.")
            }
            let encoder = CLKEncoder(schema: .person, secret: Array(secret.utf8))
            var writer = try BufferedFileWriter(path: output)
            try writer.append("id,clk\n")
            var count = 0, skipped = 0
            if stored {
                let config = try PersonLinking.defaultConfig()
                let person = try CLKPersonValues(fields: config.fields)
                let columns = config.fields.map(\.readColumns)
                try await withStore(store) { store in
                    // Encodings are made to be shared with another node: subjects who withdrew consent to exchange stay out.
                    let withdrawn = try await ConsentGate(store: store).excluded(for: .exchange)
                    for id in try await store.committedImportIDs() {
                        try await store.forEachEvent(importID: id) { e in
                            if PersonLinking.isListed(e, in: withdrawn) { skipped += 1; return }
                            let values = person.values { f in columns[f].map { PersonLinking.value(of: e, column: $0) } }
                            guard !values[0].isEmpty || !values[1].isEmpty else { skipped += 1; return }   // erased: nothing to encode
                            try writer.append(CLKFile.line(id: String(e.id), filter: encoder.encode(values)))
                            count += 1
                        }
                    }
                    try await AuditLog(store: store).record(.init(actor: commandActor, action: "export",
                                                                  target: "clk encodings of \(count) stored events"))
                }
            } else {
                guard let input, let config else { throw ValidationError("Give --input and --config, or --stored.") }
                let linkage = try LinkageConfigs.load(config)
                let person = try CLKPersonValues(fields: linkage.fields)
                try LinkageCSV.forEachRecord(URL(fileURLWithPath: input), config: linkage) { id, raw in
                    let values = person.values(raw)
                    guard !values[0].isEmpty || !values[1].isEmpty else { skipped += 1; return }   // no name: nothing to match on
                    try writer.append(CLKFile.line(id: id, filter: encoder.encode(values)))
                    count += 1
                }
            }
            try writer.close()
            print("\(count) records encoded to \(URL(fileURLWithPath: output).lastPathComponent)"
                + (skipped > 0 ? "; \(skipped) left out (no name, or consent to exchange withdrawn)." : "."))
        }
    }

    struct Match: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Match two CLK files on the encodings alone (Dice similarity); writes id_l,id_r,dice.",
            discussion: "Each record is matched at most once, best first (as anonlink's greedy solver for two parties).")
        @Option(help: "Left CLK file (id,clk).") var left: String
        @Option(help: "Right CLK file (id,clk).") var right: String
        @Option(help: "Dice similarity at which two encodings match.") var threshold = 0.85
        @Option(help: "Where to write id_l,id_r,dice.") var output: String

        func run() async throws {
            guard (0.5...1).contains(threshold) else { throw ValidationError("Give a threshold from 0.5 to 1.") }
            let (l, r) = (try CLKFile.read(URL(fileURLWithPath: left)), try CLKFile.read(URL(fileURLWithPath: right)))
            let started = Date()
            let matches = CLKMatcher.match(l.filters, r.filters, threshold: threshold)
            var writer = try BufferedFileWriter(path: output)
            try writer.append("id_l,id_r,dice\n")
            for (i, j, dice) in matches {
                try writer.append(field: l.ids[i]); try writer.append(","); try writer.append(field: r.ids[j]); try writer.append(",")
                try writer.append(LinkOutput.fixed6(dice)); try writer.append("\n")
            }
            try writer.close()
            print("\(l.ids.count) left and \(r.ids.count) right encodings, \(matches.count) matches at Dice ≥ \(threshold) "
                + String(format: "(%.2f s).", Date().timeIntervalSince(started)))
        }
    }

    struct Persons: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link the stored events into persons, for person statistics and the review queue.",
            discussion: """
            Incremental: events already linked keep their persons and only pairs with a new event are
            compared, unless --full is given or a reviewer's decision is not honoured by the stored persons yet. Person ids stay
            stable across runs. Statistics count persons (returned_persons, repeat_return_share) from the
            latest run once it covers every committed import.
            """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Linkage config for stored events: a YAML file or a shipped config's name.") var config = "stored-events"
        @Flag(help: "Compare every pair again instead of only pairs with a new event.") var full = false
        @Option(help: "Threads (default: all cores).") var threads: Int?

        func run() async throws {
            var linking = PersonLinking(config: try LinkageConfigs.load(config))
            linking.full = full
            linking.threads = threads
            let started = Date()
            let run = try await withStore(store) { store in
                let run = try await linking.run(store: store)
                try await AuditLog(store: store).record(.init(actor: commandActor, action: "link_persons",
                                                              target: "link run \(run.id) (\(run.mode))"))
                return run
            }
            print("Link run \(run.id) (\(run.mode)): \(run.events) events of \(run.importIDs.count) imports, \(run.persons) persons; "
                + "\(run.candidatePairs) pairs compared, \(run.linkedPairs) linked, \(run.reviewPairs) for review "
                + String(format: "(%.1f s); ", Date().timeIntervalSince(started))
                + "\(run.oversizedBlocks) blocks too large to compare (\(run.oversizedRecords) records compared under the other rules only).")
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the pairs of stored events waiting for a reviewer (ids, probability, each field's weight).",
            discussion: "No personal value is printed: open the two events where their data may be seen (the API's review route).")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Also list decided pairs with their decisions.") var all = false
        @Option(help: "At most this many pairs.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let pairs = try await withStore(store) { try await $0.reviewPairs(pendingOnly: !all, limit: limit) }
            if json { print(try JSONText.encode(pairs)); return }
            if pairs.isEmpty { print(all ? "The review queue is empty." : "No pair is waiting for review."); return }
            for p in pairs {
                let decision = p.decision.map { $0 ? "match" : "non-match" } ?? "pending"
                let fields = p.contributions.map { "\($0.field) \($0.level) \(String(format: "%+.1f", $0.weight))" }.joined(separator: ", ")
                print("\(p.eventL) \(p.eventR)  p=\(String(format: "%.3f", p.probability))  \(decision)  \(fields)")
            }
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide a pair of the review queue: match or non-match; the next `link persons` respects it.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The first event id of the pair.") var left: Int64
        @Argument(help: "The second event id of the pair.") var right: Int64
        @Argument(help: "match or non-match (also yes/no, sí/no).") var decision: ReviewVerdict

        func run() async throws {
            try await withStore(store) { store in
                try await LinkageReviewService(store: store).decide(eventL: left, eventR: right, decision, by: .commandOperator(commandActor))
            }
            print("Recorded: \(decision.rawValue). The next `puente link persons` applies it.")
        }
    }

    struct Dedupe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Group the records of one file into persons; writes record_id,cluster_id.",
            discussion: "A cluster's id is its smallest record id, so ids stay the same when other persons change.")
        @Option(help: "CSV file to deduplicate.") var input: String
        @Option(help: "Linkage config: a YAML file or a shipped config's name.") var config: String
        @Option(help: "Where to write record_id,cluster_id.") var output: String
        @Option(help: "Also write the pairs in the review band (below the threshold) with each field's weight, for clerical review.")
        var review: String?
        @Option(help: "Also write every linked pair with its probability and each field's weight.") var pairs: String?
        @Option(help: "A review file whose `decision` column reviewers filled (match / non-match): respected over the model.")
        var decisions: String?
        @Option(help: "Threads (default: all cores).") var threads: Int?

        func run() async throws {
            let config = try LinkageConfigs.load(self.config)
            let started = Date()
            var table = RecordTable(fields: config.fields, placeholders: config.placeholderValues)
            let skipped = try table.load(URL(fileURLWithPath: input), config: config)
            let loaded = Date()
            var linker = Linker(config: config)
            if let threads { linker.threads = max(1, threads) }
            if let decisions { linker.decisions = try LinkOutput.readDecisions(decisions) }
            let result = linker.dedupe(table)
            try LinkOutput.writeClusters(table, result.clusterOf, to: output)
            let linked = result.pairs.filter { $0.probability >= config.linkThreshold }
            if let review {
                try LinkOutput.writePairs(table, result.model, result.pairs.filter { $0.probability < config.linkThreshold },
                                          to: review, explain: true, decisionColumn: true)
            }
            if let pairs { try LinkOutput.writePairs(table, result.model, linked, to: pairs, explain: true) }
            let clusters = Set(result.clusterOf).count
            print("\(table.count) records (\(skipped) rows without an id skipped), \(result.candidatePairs) candidate pairs, "
                + "\(linked.count) pairs at probability ≥ \(config.linkThreshold), \(clusters) clusters; "
                + "\(result.guardedJoins) joins refused by the chain guard.")
            print(String(format: "read %.2f s, linked %.2f s", loaded.timeIntervalSince(started), Date().timeIntervalSince(loaded)))
            print("\(result.oversizedBlocks) blocks too large to compare (\(result.oversizedRecords) records compared under the other rules only)"
                  + (result.oversizedBlocks > 0 ? "; add a key to the blocking rules." : "."))
        }
    }

    struct Pair: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link the records of two files; writes id_l,id_r,match_probability.")
        @Option(help: "Left CSV file.") var left: String
        @Option(help: "Right CSV file (layout from the config's `right` section where it differs).") var right: String
        @Option(help: "Linkage config: a YAML file or a shipped config's name.") var config: String
        @Option(help: "Where to write id_l,id_r,match_probability.") var output: String
        @Flag(help: "Add each field's agreement level and weight to every pair.") var explain = false
        @Flag(help: "Link each record to at most one on the other side (best first), as when neither file has duplicates.")
        var oneToOne = false
        @Option(help: "Also write the pairs in the review band (below the threshold), for clerical review.") var review: String?
        @Option(help: "A review file whose `decision` column reviewers filled (match / non-match): respected over the model.")
        var decisions: String?
        @Option(help: "Threads (default: all cores).") var threads: Int?

        func run() async throws {
            var config = try LinkageConfigs.load(self.config)
            if oneToOne { config.oneToOne = true }
            let started = Date()
            var table = RecordTable(fields: config.fields, placeholders: config.placeholderValues)
            try table.load(URL(fileURLWithPath: left), config: config, side: .left)
            table.markLeftSide()
            try table.load(URL(fileURLWithPath: right), config: config, side: .right)
            let loaded = Date()
            var linker = Linker(config: config)
            if let threads { linker.threads = max(1, threads) }
            if let decisions { linker.decisions = try LinkOutput.readDecisions(decisions) }
            let (result, links) = linker.link(table)
            try LinkOutput.writePairs(table, result.model, links, to: output, explain: explain)
            if let review {
                try LinkOutput.writePairs(table, result.model, result.pairs.filter { $0.probability < config.linkThreshold },
                                          to: review, explain: true, decisionColumn: true)
            }
            print("\(table.leftCount) left and \(table.count - table.leftCount) right records, \(result.candidatePairs) candidate pairs, \(links.count) links.")
            print(String(format: "read %.2f s, linked %.2f s", loaded.timeIntervalSince(started), Date().timeIntervalSince(loaded)))
        }
    }

    struct ConfigCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "config", abstract: "Print a shipped linkage config.")
        @Argument(help: "Config name.") var name: String
        func run() throws {
            guard let text = LinkageConfigs.text(named: name) else {
                throw ValidationError("No shipped config of that name; there are \(LinkageConfigs.names.joined(separator: ", ")).")
            }
            print(text, terminator: "")
        }
    }
}

/// Writing linkage results as CSV.
enum LinkOutput {
    /// `record_id,cluster_id` with the cluster's smallest record id (numbers compared as numbers).
    static func writeClusters(_ table: RecordTable, _ clusterOf: [Int32], to path: String) throws {
        var best: [Int32: Int] = [:]
        for (k, rep) in clusterOf.enumerated() {
            if let b = best[rep] { if idLess(table.ids[k], table.ids[b]) { best[rep] = k } } else { best[rep] = k }
        }
        var writer = try BufferedFileWriter(path: path)
        try writer.append("record_id,cluster_id\n")
        for k in 0..<table.count {
            try writer.append(field: table.ids[k]); try writer.append(",")
            try writer.append(field: table.ids[best[clusterOf[k]]!]); try writer.append("\n")
        }
        try writer.close()
    }

    /// Reads reviewers' decisions: a CSV with `id_l`, `id_r` and `decision` (match, non-match; also
    /// yes/no, sí/no, 1/0). Rows with an empty decision are still pending and ignored.
    static func readDecisions(_ path: String) throws -> [ReviewDecision] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("Cannot read the decisions file \(path).")
        }
        var parser = CSVParser()
        var header: [String]?
        var out: [ReviewDecision] = []
        var problem: String?
        func row(_ f: [String], _ line: Int) {
            guard let h = header else { header = f; return }
            guard let l = h.firstIndex(of: "id_l"), let r = h.firstIndex(of: "id_r"), let d = h.firstIndex(of: "decision") else {
                problem = "The decisions file needs columns id_l, id_r and decision."; return
            }
            guard max(l, r, d) < f.count else { return }
            if let verdict = ReviewVerdict(reviewerText: f[d]) {
                out.append(ReviewDecision(idL: f[l], idR: f[r], match: verdict.isMatch))
            } else if !f[d].trimmingCharacters(in: .whitespaces).isEmpty {
                problem = "Line \(line) of the decisions file: write match or non-match in `decision`."
            }
        }
        parser.feed(data, emit: row)
        parser.finish(emit: row)
        if let problem { throw ValidationError(problem) }
        return out
    }

    /// A probability with six decimals, without `String(format:)` (slow for millions of rows).
    static func fixed6(_ p: Double) -> String {
        let v = Int((min(max(p, 0), 1) * 1_000_000).rounded())
        let frac = String(v % 1_000_000)
        return "\(v / 1_000_000)." + String(repeating: "0", count: 6 - frac.utf8.count) + frac
    }

    static func idLess(_ a: String, _ b: String) -> Bool {
        if let x = Int(a), let y = Int(b) { return x < y }
        return a.utf8.count != b.utf8.count ? a.utf8.count < b.utf8.count : a < b
    }

    static func writePairs(_ table: RecordTable, _ model: LinkageModel, _ pairs: [ScoredPair], to path: String,
                           explain: Bool, decisionColumn: Bool = false) throws {
        var writer = try BufferedFileWriter(path: path)
        var header = ["id_l", "id_r", "match_probability"]
        if explain {
            header.append("match_weight")
            for f in table.fields { header += ["\(f.name)_level", "\(f.name)_weight"] }
        }
        if decisionColumn { header.append("decision") }
        try writer.append(CSVWriter.line(header))
        for p in pairs {
            if !explain && !decisionColumn {
                // The common case, millions of rows: no Foundation formatting.
                try writer.append(field: table.ids[Int(p.i)]); try writer.append(",")
                try writer.append(field: table.ids[Int(p.j)]); try writer.append(",")
                try writer.append(fixed6(p.probability)); try writer.append("\n")
                continue
            }
            var row = [table.ids[Int(p.i)], table.ids[Int(p.j)], fixed6(p.probability)]
            if explain {
                row.append(String(format: "%.3f", p.weight))
                for c in Linker.explain(table, model: model, Int(p.i), Int(p.j)) {
                    row += [c.level, String(format: "%.3f", c.weight + c.termFrequencyAdjustment)]
                }
            }
            if decisionColumn { row.append("") }
            try writer.append(CSVWriter.line(row))
        }
        try writer.close()
    }
}

extension ReviewVerdict: ExpressibleByArgument {
    public init?(argument: String) { self.init(reviewerText: argument) }
}
