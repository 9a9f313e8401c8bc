import ArgumentParser
import Foundation
import PuenteCore
import PuenteExchange
import PuenteServices
import PuenteStatistics

/// `puente bench exchange`: a country-year package built and signed at a node, checked and kept at the
/// hub, then a mix of regional queries at the hub. Run on `puente demo --region --no-serve` stores.
struct ExchangeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exchange",
        abstract: "Time a package signed at a node and verified and kept at a hub, and the hub's regional queries.",
        discussion: """
            puente demo --region --no-serve --data-dir R
            puente bench exchange --database R/SV/SV.sqlite --hub-database R/hub/hub.sqlite --agreement SV-DGME-HUB-2016
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "The hub's store (its key file beside it, or --hub-key-file).") var hubDatabase: String
    @Option(help: "The hub's key file (default: beside its database).") var hubKeyFile: String?
    @Option(help: "The agreement the node exports under.") var agreement: String
    @Option(help: "The year exported.") var year = 2016
    @Option(help: "Times each regional query of the mix is run.") var rounds = 5
    @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

    struct Result: Codable {
        var cells: Int
        var packageMB: Double
        var exportSeconds: Double
        var signSeconds: Double
        var verifySeconds: Double
        var receiveSeconds: Double
        var peakMemoryAfterExportMB: Double
        var peakMemoryAfterReceiveMB: Double
        var regionalQueries: Int
        var regionalMedianMs: Double
        var regionalP99Ms: Double
        var peakMemoryMB: Double
    }

    /// The regional mix: every count measure members share, by one to three of their dimensions, with and
    /// without a year filter (as `bench stats` mixes national queries).
    static let mix: [(Measure, [PuenteStatistics.Dimension], [PuenteStatistics.Dimension: [String]])] = {
        let breakdowns: [[PuenteStatistics.Dimension]] = [
            [.reportingCountry], [.year], [.sex], [.ageGroup], [.nationality], [.returningFrom],
            [.reportingCountry, .year], [.reportingCountry, .sex], [.reportingCountry, .quarter],
            [.sex, .ageGroup], [.reportingCountry, .returningFrom], [.nationality, .year],
            [.reportingCountry, .sex, .ageGroup], [.reportingCountry, .sex, .year], [.sex, .ageGroup, .quarter],
        ]
        var out: [(Measure, [PuenteStatistics.Dimension], [PuenteStatistics.Dimension: [String]])] = []
        for measure in [Measure.returns, .entries, .exits] {
            for by in breakdowns {
                out.append((measure, by, [:]))
                out.append((measure, by, [.year: ["2016"]]))
            }
        }
        return out
    }()

    func run() async throws {
        let node = try store.nodeIdentity()
        var hubArguments = ["--database", hubDatabase]
        if let hubKeyFile { hubArguments += ["--key-file", hubKeyFile] }
        let hubOptions = try StoreOptions.parse(hubArguments)
        let hub = try hubOptions.nodeIdentity()
        let actor = commandOperator

        // At the node: tables, then the signature over the manifest (sealing hashes the parts too).
        var started = Date()
        let sent = try await withStore(store) {
            try await ExchangeService(store: $0, node: node).export(agreement: agreement, year: year, by: actor)
        }
        let exportSeconds = Date().timeIntervalSince(started)
        let file = Data(sent.file.utf8)
        let parsed = try SignedPackage(file: file, source: "package")
        started = Date()
        _ = try SignedPackage.seal(
            parsed.manifest, parts: [(PackageContent.partName, PackageContent.mediaType, parsed.parts[0])], by: node)
        let signSeconds = Date().timeIntervalSince(started)
        let afterExport = peakMemoryMB()

        // At the hub: every check without keeping, then receiving (checks again, publishes).
        let (verifySeconds, receiveSeconds, cells, latencies, afterReceive) = try await withStore(hubOptions) { store in
            let exchange = ExchangeService(store: store, node: hub)
            var started = Date()
            let checked = try await exchange.check(file, source: "package")
            let verify = Date().timeIntervalSince(started)
            started = Date()
            _ = try await exchange.receive(file, source: "package", by: actor)
            let receive = Date().timeIntervalSince(started)
            let afterReceive = peakMemoryMB()
            let regional = RegionalStatistics(store: store)
            _ = try await regional.table(measure: .returns, by: [.reportingCountry])
            var latencies: [Double] = []
            for _ in 0..<rounds {
                for (measure, by, filters) in Self.mix {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = try await regional.table(measure: measure, by: by, filters: filters)
                    latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                }
            }
            return (verify, receive, checked.observations.count, latencies.sorted(), afterReceive)
        }
        func percentile(_ p: Double) -> Double {
            latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)]
        }
        let result = Result(
            cells: cells, packageMB: Double(file.count) / 1_048_576, exportSeconds: exportSeconds,
            signSeconds: signSeconds, verifySeconds: verifySeconds, receiveSeconds: receiveSeconds,
            peakMemoryAfterExportMB: afterExport, peakMemoryAfterReceiveMB: afterReceive,
            regionalQueries: Self.mix.count, regionalMedianMs: percentile(0.5), regionalP99Ms: percentile(0.99),
            peakMemoryMB: peakMemoryMB())
        if format == .json {
            print(try JSONText.encode(result))
        } else {
            print(
                String(
                    format: """
                        package: %d cells, %.1f MB; built and signed in %.2f s (signing alone %.3f s), peak memory %.0f MB
                        hub: verified in %.2f s, verified and kept in %.2f s, peak memory %.0f MB
                        regional queries: %d × %d rounds, median %.2f ms, p99 %.2f ms; peak memory %.0f MB
                        """, result.cells, result.packageMB, result.exportSeconds, result.signSeconds,
                    result.peakMemoryAfterExportMB, result.verifySeconds, result.receiveSeconds,
                    result.peakMemoryAfterReceiveMB, result.regionalQueries, rounds, result.regionalMedianMs,
                    result.regionalP99Ms, result.peakMemoryMB))
        }
    }
}
