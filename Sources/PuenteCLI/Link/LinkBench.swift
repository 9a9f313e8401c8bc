import ArgumentParser
import Foundation
import PuenteCore
import PuenteLinkage
import PuenteSynthetic

#if canImport(Glibc)
    import Glibc
#endif

/// `puente bench link`: deduplicate and link a million generated records, timed, with accuracy against
/// the generator's ground truth.
struct LinkBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Time record linkage on generated border movements (default about 1,000,000 rows) and score it.",
        discussion: """
            Generates GT border movements at --scale 2.5 (1,000,000 rows; not timed), then runs each mode in a
            fresh process so that peak memory is that mode's own: `dedupe` deduplicates the whole file, `pair`
            links its exits to its entries (about 500,000 each). Prints rows/s, wall time, peak memory
            (getrusage maxrss) and pairwise precision, recall and F1 against the ground truth.
            """)

    enum Mode: String, ExpressibleByArgument, CaseIterable { case both, dedupe, pair }

    @Option(help: "Folder of an earlier `puente generate` run to reuse (default: generate into a temporary folder).")
    var data: String?
    @Option(help: "Country to generate.") var country = "GT"
    @Option(help: "Scale to generate (2.5 gives 1,000,000 GT movements).") var scale = 2.5
    @Option(help: "both, dedupe or pair.") var mode: Mode = .both
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Linkage config (default: the shipped config of the generated movements layout).") var config: String?

    private static let scenario = ["GT": "gt-igm-movimientos", "SV": "sv-dgme-movimientos", "HN": "hn-inm-movimientos"]

    func validate() throws {
        guard Self.scenario[country.uppercased()] != nil else { throw ValidationError("Give --country SV, GT or HN.") }
    }

    func run() async throws {
        let profile = Self.scenario[country.uppercased()]!
        let dir: URL
        if let data {
            dir = URL(fileURLWithPath: data)
        } else {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("puente-link-bench-\(country)-\(scale)")
            if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(profile).csv").path) {
                let started = Date()
                _ = try Generator(options: GeneratorOptions(country: country, year: 2016, seed: 1, scale: scale)).write(
                    to: dir)
                print(
                    String(
                        format: "generated %@ in %.1f s (not timed below)", dir.path, Date().timeIntervalSince(started))
                )
            }
        }
        let file = dir.appendingPathComponent("\(profile).csv")
        let configName = config ?? profile
        // Exits and entries, split once for both modes' processes, or here for `--mode pair` alone.
        if mode == .both
            || (mode == .pair
                && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("bench-left.csv").path))
        {
            let delimiter: Character = profile.hasPrefix("sv") ? ";" : ","
            _ = try LinkBench.split(file, into: dir, delimiter: delimiter)
        }
        if mode == .both {
            for m in [Mode.dedupe, .pair] {
                var args = [
                    "bench", "link", "--data", dir.path, "--country", country, "--mode", m.rawValue, "--config",
                    configName,
                ]
                if let threads { args += ["--threads", String(threads)] }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
                process.arguments = args
                try process.run()
                process.waitUntilExit()
                if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
            }
            return
        }
        let config = try LinkageConfigs.load(configName)
        var linker = Linker(config: config)
        if let threads { linker.threads = max(1, threads) }
        let truth = { try LinkBench.truth(dir.appendingPathComponent("truth/\(profile).truth.csv")) }
        let started = Date()
        var table = RecordTable(fields: config.fields, placeholders: config.placeholderValues)
        if mode == .dedupe {
            try table.load(file, config: config)
            let loaded = Date()
            let result = linker.dedupe(table)
            let out = dir.appendingPathComponent("bench-clusters.csv").path
            try LinkOutput.writeClusters(table, result.clusterOf, to: out)
            let seconds = Date().timeIntervalSince(started), memory = peakMemoryMB()
            let persons = try truth()
            let score = LinkageScore.pairwise(predicted: result.clusterOf, truth: table.ids.map { persons[$0] ?? -1 })
            print(
                String(
                    format:
                        "dedupe %d records: %.2f s wall (read %.2f s, link and write %.2f s) = %.0f records/s, %d candidate pairs, %d clusters, peak memory %.0f MB, %d threads",
                    table.count, seconds, loaded.timeIntervalSince(started),
                    seconds - loaded.timeIntervalSince(started),
                    Double(table.count) / seconds, result.candidatePairs, Set(result.clusterOf).count, memory,
                    linker.threads))
            print("dedupe accuracy (pairwise): \(score)")
        } else {
            try table.load(dir.appendingPathComponent("bench-left.csv"), config: config, side: .left)
            table.markLeftSide()
            try table.load(dir.appendingPathComponent("bench-right.csv"), config: config, side: .right)
            let loaded = Date()
            let (result, links) = linker.link(table)
            let out = dir.appendingPathComponent("bench-pairs.csv").path
            try LinkOutput.writePairs(table, result.model, links, to: out, explain: false)
            let seconds = Date().timeIntervalSince(started), memory = peakMemoryMB()
            let persons = try truth()
            let score = LinkBench.crossPairScore(table, links: links, truth: persons.mapValues(String.init))
            print(
                String(
                    format:
                        "pair %d + %d records: %.2f s wall (read %.2f s) = %.0f records/s, %d candidate pairs, %d links, peak memory %.0f MB, %d threads",
                    table.leftCount, table.count - table.leftCount, seconds, loaded.timeIntervalSince(started),
                    Double(table.count) / seconds, result.candidatePairs, links.count, memory, linker.threads))
            print("pair accuracy (pairwise, exits × entries): \(score)")
        }
    }
}

/// Helpers of the linkage benchmark and tests.
enum LinkBench {
    /// Splits a generated movements file into exits (`bench-left.csv`) and entries (`bench-right.csv`).
    static func split(_ file: URL, into dir: URL, delimiter: Character) throws -> (URL, URL) {
        let data = try Data(contentsOf: file)
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        guard let header = lines.first else {
            throw PuenteError(
                .invalidInput, "The movements file is empty.", at: InputLocation(file: file.lastPathComponent))
        }
        let columns = header.split(separator: UInt8(delimiter.asciiValue!), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard let typeColumn = columns.firstIndex(where: { ["TIPO_MOVIMIENTO", "tipo", "Movimiento"].contains($0) })
        else {
            throw PuenteError(
                .invalidInput, "No movement type column to split on.",
                at: InputLocation(file: file.lastPathComponent, row: 1))
        }
        let exits: Set<String> = ["SALIDA", "Egreso", "Salida", "S"]
        var left = Data(header) + Data([10]), right = left
        for line in lines.dropFirst() {
            let fields = line.split(separator: UInt8(delimiter.asciiValue!), omittingEmptySubsequences: false)
            let isExit =
                typeColumn < fields.count && exits.contains(String(decoding: fields[typeColumn], as: UTF8.self))
            if isExit {
                left.append(contentsOf: line); left.append(10)
            } else {
                right.append(contentsOf: line); right.append(10)
            }
        }
        let l = dir.appendingPathComponent("bench-left.csv"), r = dir.appendingPathComponent("bench-right.csv")
        try left.write(to: l)
        try right.write(to: r)
        return (l, r)
    }

    /// record_key → person_id from a generator truth file.
    static func truth(_ url: URL) throws -> [String: Int] {
        var map: [String: Int] = [:]
        let text = try String(contentsOf: url, encoding: .utf8)
        var first = true
        for line in text.split(separator: "\n") {
            if first { first = false; continue }
            let f = line.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false)
            if f.count > 2, let p = Int(f[2]) { map[String(f[1])] = p }
        }
        return map
    }

    /// Pairwise scores of links between the two sides: a true pair is a left and a right record of the
    /// same person.
    static func crossPairScore(_ table: RecordTable, links: [ScoredPair], truth: [String: String]) -> LinkageScore {
        var leftCounts: [String: Int] = [:], rightCounts: [String: Int] = [:]
        for k in 0..<table.count {
            guard let p = truth[table.ids[k]] else { continue }
            if k < table.leftCount { leftCounts[p, default: 0] += 1 } else { rightCounts[p, default: 0] += 1 }
        }
        let truePairs = leftCounts.reduce(0) { $0 + $1.value * (rightCounts[$1.key] ?? 0) }
        var tp = 0
        for l in links {
            if let a = truth[table.ids[Int(l.i)]], let b = truth[table.ids[Int(l.j)]], a == b { tp += 1 }
        }
        return LinkageScore(truePositives: tp, falsePositives: links.count - tp, falseNegatives: truePairs - tp)
    }
}
