import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteLinkage
import PuenteServices

// Linking the records of files: one deduplicated, two paired, and the shipped configs.
extension Link {
    struct Dedupe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Group the records of one file into persons; writes record_id,cluster_id.",
            discussion: "A cluster's id is its smallest record id, so ids stay the same when other persons change.")
        @Option(help: "CSV file to deduplicate.") var input: String
        @Option(help: "Linkage config: a YAML file or a shipped config's name.") var config: String
        @Option(help: "Where to write record_id,cluster_id.") var output: String
        @Option(
            help:
                "Also write the pairs in the review band (below the threshold) with each field's weight, for clerical review."
        )
        var review: String?
        @Option(help: "Also write every linked pair with its probability and each field's weight.") var pairs: String?
        @Option(
            help:
                "A review file whose `decision` column reviewers filled (match / non-match): respected over the model.")
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
                try LinkOutput.writePairs(
                    table, result.model, result.pairs.filter { $0.probability < config.linkThreshold },
                    to: review, explain: true, decisionColumn: true)
            }
            if let pairs { try LinkOutput.writePairs(table, result.model, linked, to: pairs, explain: true) }
            let clusters = Set(result.clusterOf).count
            print(
                "\(table.count) records (\(skipped) rows without an id skipped), \(result.candidatePairs) candidate pairs, "
                    + "\(linked.count) pairs at probability ≥ \(config.linkThreshold), \(clusters) clusters; "
                    + "\(result.guardedJoins) joins refused by the chain guard.")
            print(
                String(
                    format: "read %.2f s, linked %.2f s", loaded.timeIntervalSince(started),
                    Date().timeIntervalSince(loaded)))
            print(
                "\(result.oversizedBlocks) blocks too large to compare (\(result.oversizedRecords) records compared under the other rules only)"
                    + (result.oversizedBlocks > 0 ? "; add a key to the blocking rules." : "."))
        }
    }

    struct Pair: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link the records of two files; writes id_l,id_r,match_probability.",
            discussion: """
                Links go through persons: the records of both files are grouped as `dedupe` groups one file's, \
                so a record's other records on its own side carry it to the other, and every left-right pair \
                of a group is written, with the pair's own probability (below the threshold when the pair was \
                joined through the person's other records). With --one-to-one, for files without duplicates, \
                pairs at the threshold, best first, each record used once.
                """)
        @Option(help: "Left CSV file.") var left: String
        @Option(help: "Right CSV file (layout from the config's `right` section where it differs).") var right: String
        @Option(help: "Linkage config: a YAML file or a shipped config's name.") var config: String
        @Option(help: "Where to write id_l,id_r,match_probability.") var output: String
        @Flag(help: "Add each field's agreement level and weight to every pair.") var explain = false
        @Flag(
            help: "Link each record to at most one on the other side (best first), as when neither file has duplicates."
        )
        var oneToOne = false
        @Option(help: "Also write the pairs in the review band (below the threshold), for clerical review.") var review:
            String?
        @Option(
            help:
                "A review file whose `decision` column reviewers filled (match / non-match): respected over the model.")
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
                try LinkOutput.writePairs(
                    table, result.model, result.pairs.filter { $0.probability < config.linkThreshold },
                    to: review, explain: true, decisionColumn: true)
            }
            print(
                "\(table.leftCount) left and \(table.count - table.leftCount) right records, \(result.candidatePairs) candidate pairs, \(links.count) links."
            )
            print(
                String(
                    format: "read %.2f s, linked %.2f s", loaded.timeIntervalSince(started),
                    Date().timeIntervalSince(loaded)))
        }
    }

    struct ConfigCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config", abstract: "Print a shipped linkage config.")
        @Argument(help: "Config name.") var name: String

        func validate() throws {
            guard LinkageConfigs.text(named: name) != nil else {
                throw ValidationError(
                    "No shipped config of that name; there are \(LinkageConfigs.names.joined(separator: ", ")).")
            }
        }

        func run() throws {
            print(LinkageConfigs.text(named: name) ?? "", terminator: "")
        }
    }
}
