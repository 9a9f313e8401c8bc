import Foundation
import PuenteCore

extension RecordTable {
    /// Which file of a pair linkage a layout describes.
    public enum Side: Sendable { case left, right }

    /// Reads a delimited file with the layout `config` gives (for `side`), appending its records.
    ///
    /// Rows with no id are skipped and counted; columns the config names must exist in the header.
    /// - Returns: the number of rows skipped.
    @discardableResult
    public mutating func load(_ url: URL, config: LinkageConfig, side: Side = .left) throws -> Int {
        try LinkageCSV.forEachRecord(url, config: config, side: side) { id, values in append(id: id, values: values) }
    }
}

/// Reading the records of a delimited file through a linkage config's layout.
public enum LinkageCSV {
    /// Hands each record's id and, per config field, its raw column texts (then the document type for
    /// documents with a `type_column`) to `body`, streaming.
    ///
    /// Rows with no id are skipped and counted; columns the config names must exist in the header.
    /// - Returns: the number of rows skipped.
    @discardableResult
    public static func forEachRecord(
        _ url: URL, config: LinkageConfig, side: RecordTable.Side = .left,
        _ body: (String, (Int) -> [String]) throws -> Void
    ) throws -> Int {
        let right = side == .right ? config.right : nil
        let delimiter = UInt8(ascii: Unicode.Scalar((right?.delimiter ?? config.delimiter ?? ",").utf8.first ?? 44))
        let encodingName = right?.encoding ?? config.encoding ?? "utf-8"
        guard let encoding = TextEncoding(rawValue: encodingName.lowercased()) else {
            throw PuenteError(.invalidArgument, "Unknown encoding in the linkage config; use utf-8 or windows-1252.")
        }
        let idColumn = right?.idColumn ?? config.idColumn
        let file = url.lastPathComponent
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw PuenteError(.notFound, "Cannot open the file; check the path.", at: InputLocation(file: file))
        }
        defer { try? handle.close() }
        var parser = CSVParser(delimiter: delimiter, encoding: encoding)
        var header: [String: Int]?
        var idIndex = 0
        var fieldIndices: [[Int]] = []
        var skipped = 0
        var failure: (any Error)?
        let fields = config.fields
        func row(_ values: [String], _ line: Int) {
            guard failure == nil else { return }
            guard header != nil else {
                var h: [String: Int] = [:]
                for (k, name) in values.enumerated() { h[name.trimmingSpaces()] = k }
                header = h
                guard let id = h[idColumn] else {
                    failure = PuenteError(
                        .invalidInput, "The id column named in the config is not in the header.",
                        at: InputLocation(file: file, row: 0, field: idColumn))
                    return
                }
                idIndex = id
                for spec in fields {
                    let names = right?.columns?[spec.name]?.names ?? spec.sourceColumns
                    var idx: [Int] = []
                    for name in names {
                        guard let k = h[name] else {
                            failure = PuenteError(
                                .invalidInput, "A column named in the config is not in the header.",
                                at: InputLocation(file: file, row: 0, field: name))
                            return
                        }
                        idx.append(k)
                    }
                    if spec.type == .document, let t = spec.typeColumn {
                        guard let k = h[t] else {
                            failure = PuenteError(
                                .invalidInput, "The document type column is not in the header.",
                                at: InputLocation(file: file, row: 0, field: t))
                            return
                        }
                        idx.append(k)
                    }
                    fieldIndices.append(idx)
                }
                return
            }
            guard idIndex < values.count else { skipped += 1; return }
            let id = values[idIndex].trimmingSpaces()
            if id.isEmpty { skipped += 1; return }
            // The parser's callback cannot throw: the body's error (a failed write) stops the reading.
            do { try body(id) { f in fieldIndices[f].map { $0 < values.count ? values[$0] : "" } } } catch {
                failure = error
            }
        }
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            parser.feed(chunk, emit: row)
            if let failure { throw failure }
        }
        parser.finish(emit: row)
        if let failure { throw failure }
        if header == nil { throw PuenteError(.invalidInput, "The file is empty.", at: InputLocation(file: file)) }
        return skipped
    }
}

/// Example configs that ship with Puente: the FEBRL layout and every generated agency layout.
public enum LinkageConfigs {
    static var directory: URL { Bundle.module.resourceURL!.appendingPathComponent("Configs") }

    public static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The text of a shipped config, by name (`febrl`, `sv-dgme-retornos`, …).
    public static func text(named name: String) -> String? {
        guard !name.contains("/") else { return nil }
        return try? String(contentsOf: directory.appendingPathComponent("\(name).yaml"), encoding: .utf8)
    }

    /// A config from a path, or a shipped one by name.
    public static func load(_ pathOrName: String) throws -> LinkageConfig {
        if FileManager.default.fileExists(atPath: pathOrName) {
            let text = try String(contentsOfFile: pathOrName, encoding: .utf8)
            return try LinkageConfig.load(yaml: text, file: URL(fileURLWithPath: pathOrName).lastPathComponent)
        }
        if let text = text(named: pathOrName) { return try LinkageConfig.load(yaml: text, file: pathOrName) }
        throw PuenteError(
            .notFound,
            "No linkage config at that path or by that name; shipped configs: \(names.joined(separator: ", ")).")
    }
}
