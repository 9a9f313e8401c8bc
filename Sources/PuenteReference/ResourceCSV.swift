import Foundation
import PuenteCore

/// Reads a CSV file shipped in a target's resources into rows keyed by header.
package enum ResourceCSV {
    package static func rows(_ relativePath: String, in bundle: Bundle = .module) -> [[String: String]] {
        guard let url = bundle.resourceURL?.appendingPathComponent(relativePath),
            let data = try? Data(contentsOf: url)
        else {
            preconditionFailure("Puente's reference file \(relativePath) is missing from the build; reinstall Puente.")
        }
        return rows(data: data)
    }

    package static func rows(data: Data) -> [[String: String]] {
        var parser = CSVParser()
        var header: [String]?
        var out: [[String: String]] = []
        let emit: ([String], Int) -> Void = { fields, _ in
            guard let h = header else { header = fields; return }
            var row: [String: String] = [:]
            for (i, name) in h.enumerated() { row[name] = i < fields.count ? fields[i] : "" }
            out.append(row)
        }
        parser.feed(data, emit: emit)
        parser.finish(emit: emit)
        return out
    }
}
