import Foundation
import PuenteCore

/// Splits JSON Lines into records: each line one JSON object whose keys play the part of headers.
/// Keys match the wanted ones ignoring case and accents, as CSV headers do; other keys are ignored.
struct JSONLines {
    let keys: [String]
    private let position: [String: Int]
    private var line: [UInt8] = []
    private var lineNumber = 0
    private let decoder = JSONDecoder()

    init(keys: [String]) {
        self.keys = keys
        position = Dictionary(keys.enumerated().map { (TextFolding.fold($1), $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The line being read: how far a runaway line has got (the reader refuses one past its limit).
    var pendingBytes: Int { line.count }
    var currentLine: Int { lineNumber + 1 }

    mutating func feed(_ bytes: [UInt8], emit: (SourceRecord) -> Void) {
        var start = 0
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            line.append(contentsOf: bytes[start..<newline])
            lineNumber += 1
            record(emit)
            start = newline + 1
        }
        line.append(contentsOf: bytes[start...])
    }

    mutating func finish(emit: (SourceRecord) -> Void) {
        if !line.isEmpty { lineNumber += 1; record(emit) }
    }

    private mutating func record(_ emit: (SourceRecord) -> Void) {
        defer { line.removeAll(keepingCapacity: true) }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if lineNumber == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { return }
        guard let object = try? decoder.decode([String: JSONScalar].self, from: Data(line)) else {
            emit(
                SourceRecord(
                    fields: [String(decoding: line, as: UTF8.self)], line: lineNumber,
                    unreadable: "a JSON object on one line"))
            return
        }
        var fields = [String](repeating: "", count: keys.count)
        for (key, value) in object {
            if let i = position[TextFolding.fold(key)] { fields[i] = value.text }
        }
        emit(SourceRecord(fields: fields, line: lineNumber))
    }
}

/// A JSON value as the text a CSV cell would hold: strings as they are, numbers and booleans written
/// out, null as empty; arrays and objects are not register values and read as empty.
private struct JSONScalar: Decodable {
    var text: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            text = ""
        } else if let s = try? c.decode(String.self) {
            text = s
        } else if let i = try? c.decode(Int.self) {
            text = String(i)
        } else if let d = try? c.decode(Double.self) {
            text = String(d)
        } else if let b = try? c.decode(Bool.self) {
            text = b ? "true" : "false"
        } else {
            text = ""
        }
    }
}
