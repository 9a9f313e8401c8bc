import ArgumentParser
import Foundation
import PuenteCore
import PuenteStatistics

/// `puente bench stats`: a fixed mix of realistic statistics queries over a loaded store, timed one by
/// one through the same engine the API uses (cell key method included). The mix is also written as
/// SQL over a plain table of events, so DuckDB can run the same questions in the same benchmark.
struct StatsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Time a fixed mix of statistics queries and report median and 99th percentile latency.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Times each query of the mix is run.") var rounds: Int = 5
    @Option(help: "Write the mix, with equivalent SQL over a table `events`, to this JSON file.") var mixOut: String?
    @Option(help: "text, or json for scripts.") var format: ReportFormat = .text

    func run() async throws {
        let mix = QueryMix.queries
        if let mixOut {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(
                mix.map { QueryMix.Entry(measure: $0.measure, by: $0.by, filter: $0.filter, sql: QueryMix.sql($0)) }
            )
            .write(to: URL(fileURLWithPath: mixOut))
        }
        let result = try await withStore(store) { store in
            let engine = StatisticsEngine(store: store)
            let loadStarted = Date()
            let (imports, cells) = try await engine.warmUp()
            let loadSeconds = Date().timeIntervalSince(loadStarted)
            let queries = try mix.map { try StatisticsQuery.parse(measure: $0.measure, by: $0.by, filter: $0.filter) }
            var latencies: [Double] = []
            for _ in 0..<rounds {
                for query in queries {
                    let started = DispatchTime.now().uptimeNanoseconds
                    _ = try await engine.run(query)
                    latencies.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
                }
            }
            latencies.sort()
            func percentile(_ p: Double) -> Double {
                latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)]
            }
            return StatsBenchResult(
                queries: queries.count, runs: latencies.count, imports: imports, cells: cells,
                cubeLoadSeconds: loadSeconds, medianMs: percentile(0.5), p99Ms: percentile(0.99),
                maxMs: latencies.last ?? 0, peakMemoryMB: peakMemoryMB())
        }
        if format == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(
                String(
                    format:
                        "puente: %d queries × %d rounds over %d cells (%d imports; cube loaded in %.1f s): median %.2f ms, p99 %.2f ms, max %.2f ms, peak memory %.0f MB",
                    result.queries, rounds, result.cells, result.imports, result.cubeLoadSeconds, result.medianMs,
                    result.p99Ms,
                    result.maxMs, result.peakMemoryMB))
        }
    }
}

struct StatsBenchResult: Codable {
    var queries, runs, imports, cells: Int
    var cubeLoadSeconds, medianMs, p99Ms, maxMs, peakMemoryMB: Double
}

/// The benchmark's questions: what an analyst of border movements asks, one to three dimensions, with
/// and without filters. Codes are Guatemala's, as in the generated benchmark export.
enum QueryMix {
    struct Query { var measure: String; var by: String; var filter: String? }
    struct Entry: Codable { var measure: String; var by: String; var filter: String?; var sql: String }

    static let breakdowns = [
        "month", "sex", "age_group", "nationality", "place", "transport_mode", "migration_status", "department",
        "sex,age_group", "month,sex", "place,month", "nationality,sex", "department,sex", "age_broad,sex",
        "quarter,place",
        "municipality", "month,nationality,sex", "place,sex,age_group", "department,age_child,sex",
        "quarter,transport_mode,nationality", "month,place,transport_mode", "municipality,sex,age_broad",
    ]
    static let measures = ["entries", "exits", "net_movements", "events"]
    static let filters: [String?] = [
        nil, "year:2016", "month:2016-03", "sex:F", "nationality:GTM", "nationality:MEX",
        "place:GT-TECUN_UMAN", "department:GT-GU",
    ]

    /// 66 queries: every breakdown three times, each time with another measure and filter.
    static var queries: [Query] {
        var out: [Query] = []
        for round in 0..<3 {
            for (i, by) in breakdowns.enumerated() {
                out.append(
                    Query(
                        measure: measures[(i + round) % measures.count], by: by,
                        filter: filters[(i * 3 + round * 5) % filters.count]))
            }
        }
        return out
    }

    /// The same question in SQL over `events` (one row per stored event, statistical columns) and
    /// `division_department` (division → department code).
    static func sql(_ q: Query) -> String {
        func expression(_ dimension: String) -> String {
            switch dimension {
            case "year": "year"
            case "quarter": "year * 10 + (month - 1) // 3 + 1"
            case "month": "year * 100 + month"
            case "age_group": "CASE WHEN age >= 85 THEN 85 ELSE age // 5 * 5 END"
            case "age_broad": "CASE WHEN age < 15 THEN 0 WHEN age < 65 THEN 15 ELSE 65 END"
            case "age_child": "age < 18"
            case "department": "d.department"
            case "municipality": "residence_division"
            default: dimension
            }
        }
        let groups = q.by.split(separator: ",").map { expression(String($0)) }
        var conditions: [String] = []
        switch q.measure {
        case "entries": conditions.append("event_type = 'ENTRY'")
        case "exits": conditions.append("event_type = 'EXIT'")
        case "net_movements": conditions.append("event_type IN ('ENTRY', 'EXIT')")
        default: break
        }
        if let filter = q.filter {
            let parts = filter.split(separator: ":").map(String.init)
            switch parts[0] {
            case "year": conditions.append("year = \(parts[1])")
            case "month": conditions.append("year = \(parts[1].prefix(4)) AND month = \(Int(parts[1].suffix(2))!)")
            case "department": conditions.append("d.department = '\(parts[1])'")
            default: conditions.append("\(parts[0]) = '\(parts[1])'")
            }
        }
        let value = q.measure == "net_movements" ? "SUM(CASE WHEN event_type = 'ENTRY' THEN 1 ELSE -1 END)" : "COUNT(*)"
        let join =
            (q.by + (q.filter ?? "")).contains("department")
            ? " LEFT JOIN division_department d ON d.division = residence_division" : ""
        return "SELECT \((groups + [value]).joined(separator: ", ")) FROM events\(join)"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " GROUP BY " + groups.indices.map { String($0 + 1) }.joined(separator: ", ")
    }
}
