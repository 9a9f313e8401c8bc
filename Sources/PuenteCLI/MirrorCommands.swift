import ArgumentParser
import Foundation
import PuenteCore
import PuenteServices

/// `puente mirror`: what one country records of a flow against what its partner records (at a hub).
struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Mirror statistics at a hub: both sides' figures of a flow, their ratio and the undercount U.",
        discussion: """
            Pairs come from what members sent (packages) and from figures partners that run no node
            published, loaded with 'load' (docs/exchange.md, "Figures published by partners"):

              puente mirror load MX/mx-upm-devueltos-2016.csv --database hub.sqlite
              puente mirror show --period 2016 --database hub.sqlite
            """,
        subcommands: [Load.self, Show.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a partner's published figures (every row checked; all kept or none).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "A CSV file with reporter, flow, counterpart, period, value (and source).") var file: String

        func run() async throws {
            let data = try readFile(file)
            let figures = try await withStore(store) {
                try await MirrorStatistics(regional: RegionalStatistics(store: $0)).loadPartnerFigures(
                    data, name: file, by: commandOperator)
            }
            let reporters = Set(figures.map(\.reporter)).sorted().joined(separator: ", ")
            print("Loaded \(figures.count) figures published by \(reporters) from \(file).")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mirror pairs for a year or a quarter.")
        @OptionGroup var store: StoreOptions
        @Option(help: "A year or quarter (2016, 2016-Q1).") var period: String
        @Option(help: "RETURN or EXIT_ENTRY (both when not given).") var flow: MirrorStatistics.Flow?
        @Option(help: "Flag pairs whose |log U| exceeds log of this ratio.") var tolerance: Double = 1.25
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

        func validate() throws {
            guard tolerance > 1 else { throw ValidationError("--tolerance: expected a ratio above 1, like 1.25.") }
        }

        func run() async throws {
            let pairs = try await withStore(store) {
                // At a national node its own records are one side (a hub has none).
                try await MirrorStatistics(regional: RegionalStatistics(store: $0), node: try? store.nodeIdentity())
                    .pairs(
                        period: period, flow: flow, tolerance: log(tolerance))
            }
            if format == .json {
                print(try JSONText.encode(pairs))
                return
            }
            if pairs.isEmpty { print("No pairs: no member has sent figures both sides of a flow for \(period).") }
            func number(_ v: Double?, _ digits: Int = 0) -> String {
                v.map { String(format: "%.\(digits)f", $0) } ?? "—"
            }
            print("flow\tsender\treceiver\tperiod\tsender figure\treceiver figure\tratio\tU\t95 % interval\tflag")
            for p in pairs {
                print(
                    [
                        p.flow, p.sender.country, p.receiver.country, p.period,
                        number(p.sender.figure) + (p.sender.protection == "perturbed" ? " (E)" : ""),
                        number(p.receiver.figure) + (p.receiver.protection == "perturbed" ? " (E)" : ""),
                        number(p.ratio, 3), number(p.adjusted, 3), "\(number(p.low, 3))–\(number(p.high, 3))",
                        p.status != "complete" ? p.status : p.flagged ? "FLAGGED" : "",
                    ].joined(separator: "\t"))
            }
        }
    }
}

extension MirrorStatistics.Flow: ExpressibleByArgument {}
