import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteLinkage
import PuenteServices

// The node's stored events linked into persons, and the clerical review of the pairs left unsure.
extension Link {
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
        @Option(help: "Linkage config for stored events: a YAML file or a shipped config's name.") var config =
            "stored-events"
        @Flag(help: "Compare every pair again instead of only pairs with a new event.") var full = false
        @Option(help: "Threads (default: all cores).") var threads: Int?

        func run() async throws {
            var linking = PersonLinking(config: try LinkageConfigs.load(config))
            linking.full = full
            linking.threads = threads
            let started = Date()
            let run = try await withStore(store) {
                try await PersonLinkingService(store: $0).link(linking, by: commandOperator)
            }
            print(
                "Link run \(run.id) (\(run.mode)): \(run.events) events of \(run.importIDs.count) imports, \(run.persons) persons; "
                    + "\(run.candidatePairs) pairs compared, \(run.linkedPairs) linked, \(run.reviewPairs) for review "
                    + String(format: "(%.1f s); ", Date().timeIntervalSince(started))
                    + "\(run.oversizedBlocks) blocks too large to compare (\(run.oversizedRecords) records compared under the other rules only)."
            )
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the pairs of stored events waiting for a reviewer (ids, probability, each field's weight).",
            discussion:
                "No personal value is printed: open the two events where their data may be seen (the API's review route)."
        )
        @OptionGroup var store: StoreOptions
        @Flag(help: "Also list decided pairs with their decisions.") var all = false
        @Option(help: "At most this many pairs.") var limit = 50
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func run() async throws {
            let pairs = try await withStore(store) { try await $0.reviewPairs(pendingOnly: !all, limit: limit) }
            if format == .json { print(try JSONText.encode(pairs)); return }
            if pairs.isEmpty { print(all ? "The review queue is empty." : "No pair is waiting for review."); return }
            for p in pairs {
                let decision = p.decision.map { $0 ? "match" : "non-match" } ?? "pending"
                let fields = p.contributions.map { "\($0.field) \($0.level) \(String(format: "%+.1f", $0.weight))" }
                    .joined(separator: ", ")
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
                try await LinkageReviewService(store: store).decide(
                    eventL: left, eventR: right, decision, by: commandOperator)
            }
            print("Recorded: \(decision.rawValue). The next `puente link persons` applies it.")
        }
    }
}
