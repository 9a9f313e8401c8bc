import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteLinkage
import PuenteServices

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
            throw PuenteError(.notFound, "Cannot read the decisions file.", at: InputLocation(file: path))
        }
        var parser = CSVParser()
        var header: [String]?
        var out: [ReviewDecision] = []
        var problem: PuenteError?
        func row(_ f: [String], _ line: Int) {
            guard let h = header else { header = f; return }
            guard let l = h.firstIndex(of: "id_l"), let r = h.firstIndex(of: "id_r"),
                let d = h.firstIndex(of: "decision")
            else {
                problem = PuenteError(
                    .invalidInput, "The decisions file needs columns id_l, id_r and decision.",
                    at: InputLocation(file: path, row: 1))
                return
            }
            guard max(l, r, d) < f.count else { return }
            if let verdict = ReviewVerdict(reviewerText: f[d]) {
                out.append(ReviewDecision(idL: f[l], idR: f[r], match: verdict.isMatch))
            } else if !f[d].trimmingCharacters(in: .whitespaces).isEmpty {
                problem = PuenteError(
                    .invalidInput, "Write match or non-match (or yes/no, sí/no, 1/0).",
                    at: InputLocation(file: path, row: line, field: "decision"))
            }
        }
        parser.feed(data, emit: row)
        parser.finish(emit: row)
        if let problem { throw problem }
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

    static func writePairs(
        _ table: RecordTable, _ model: LinkageModel, _ pairs: [ScoredPair], to path: String,
        explain: Bool, decisionColumn: Bool = false
    ) throws {
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
