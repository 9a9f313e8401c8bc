import ArgumentParser
import Foundation
import PuenteCore
import PuenteIngest
import PuenteStatistics

#if canImport(Glibc)
    import Glibc
#endif

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Puente on this machine (use a release build: `swift build -c release`).",
        discussion: "`scripts/bench` runs the whole benchmark: data, SQLite, PostgreSQL and DuckDB side by side.",
        subcommands: [IngestBench.self, StatsBench.self, LinkBenchCommand.self, ExchangeBench.self])

    struct IngestBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ingest",
            abstract: "Load one export into an empty store and report rows/s and peak memory.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Profile that reads the file.") var profile: String
        @Option(help: "text, or json for scripts.") var format: ReportFormat = .text
        @Argument(help: "Export file to load.") var file: String

        func run() async throws {
            let profile = try ProfileCatalogue.load(self.profile)
            let url = URL(fileURLWithPath: file)
            let started = Date()
            let report = try await withStore(store) { store in
                guard try await store.imports(limit: 1).isEmpty else {
                    throw PuenteError(.conflict, "The benchmark needs an empty store; give a new --database.")
                }
                return try await Importer(store: store).importFile(url, profile: profile)
            }
            let seconds = Date().timeIntervalSince(started)
            let result = BenchResult(
                file: url.lastPathComponent, store: store.resolvedURL.hasPrefix("postgres") ? "postgresql" : "sqlite",
                rows: report.read, accepted: report.accepted, rejected: report.rejected, seconds: seconds,
                rowsPerSecond: Double(report.read) / seconds, peakMemoryMB: peakMemoryMB(),
                fileMB: Double((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
                    / 1_048_576)
            if format == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(
                    String(
                        format:
                            "%@ into %@: %d rows (%d accepted, %d rejected) in %.2f s = %.0f rows/s, peak memory %.0f MB",
                        result.file, result.store, result.rows, result.accepted, result.rejected, result.seconds,
                        result.rowsPerSecond, result.peakMemoryMB))
            }
        }
    }
}

struct BenchResult: Codable {
    var file: String
    var store: String
    var rows: Int
    var accepted: Int
    var rejected: Int
    var seconds: Double
    var rowsPerSecond: Double
    var peakMemoryMB: Double
    var fileMB: Double
}

/// Peak resident memory of this process so far, in MB (Linux reports it in KiB).
func peakMemoryMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}
