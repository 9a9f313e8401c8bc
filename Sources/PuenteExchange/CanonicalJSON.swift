import Foundation
import PuenteCore

/// A JSON value, for writing documents in their canonical form.
public indirect enum JSONValue: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    /// Numbers are whole: documents that cross organisations carry counts, ids and sequence numbers,
    /// never fractions, so their canonical form needs no floating-point formatting (RFC 8785 §3.2.2.3).
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .integer(i)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else if let o = try? c.decode([String: JSONValue].self) {
            self = .object(o)
        } else {
            throw PuenteError(
                .invalidInput,
                "Expected JSON with whole numbers only (a fraction or exponent has no canonical form here).")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .integer(let i): try c.encode(i)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The JSON form of an encodable value (`source` names it in errors).
    public init(encoding value: some Encodable, source: String) throws {
        self = try JSONValue.parse(try JSONEncoder().encode(value), source: source)
    }

    /// Reads JSON text; `source` names it in errors.
    public static func parse(_ data: Data, source: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch let error as PuenteError {
            throw PuenteError(error.code, error.message, at: InputLocation(file: source))
        } catch {
            throw PuenteError(.invalidInput, "Expected a JSON document.", at: InputLocation(file: source))
        }
    }
}

/// The JSON Canonicalization Scheme (RFC 8785) for documents of whole numbers: no whitespace, object
/// members sorted by the UTF-16 code units of their names, strings escaped as ECMAScript's
/// `JSON.stringify` escapes them. Two parties that hold the same document get the same bytes, which is
/// what a signature covers.
public enum CanonicalJSON {
    public static func encode(_ value: JSONValue) -> Data {
        var out = ""
        write(value, into: &out)
        return Data(out.utf8)
    }

    /// The canonical form of any encodable value (through its JSON form).
    public static func encode(_ value: some Encodable) throws -> Data {
        encode(try JSONValue(encoding: value, source: "\(type(of: value))"))
    }

    private static func write(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .string(let s): quote(s, into: &out)
        case .array(let items):
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            let names = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (n, name) in names.enumerated() {
                if n > 0 { out += "," }
                quote(name, into: &out)
                out += ":"
                write(members[name]!, into: &out)
            }
            out += "}"
        }
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{09}": out += "\\t"
            case "\u{0A}": out += "\\n"
            case "\u{0C}": out += "\\f"
            case "\u{0D}": out += "\\r"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
