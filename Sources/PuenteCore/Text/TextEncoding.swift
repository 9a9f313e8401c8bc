/// Text encodings agency exports come in.
public enum TextEncoding: String, Codable, Sendable, CaseIterable {
    case utf8 = "utf-8"
    /// Windows-1252, the default of Spanish-language Excel and many older registers; a superset of
    /// Latin-1's printable characters.
    case windows1252 = "windows-1252"

    /// Decodes bytes; invalid UTF-8 becomes U+FFFD rather than failing.
    public func decode(_ bytes: some Collection<UInt8>) -> String {
        switch self {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .windows1252:
            if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
            var scalars = String.UnicodeScalarView()
            for b in bytes { scalars.append(Self.cp1252Scalar(b)) }
            return String(scalars)
        }
    }

    /// Encodes text; characters Windows-1252 cannot hold become `?`.
    public func encode(_ text: String) -> [UInt8] {
        switch self {
        case .utf8: return Array(text.utf8)
        case .windows1252:
            return text.unicodeScalars.map { s in
                if s.value < 0x80 || (0xA0...0xFF).contains(s.value) { return UInt8(s.value) }
                if let i = Self.cp1252High.firstIndex(of: s.value) { return UInt8(0x80 + i) }
                return UInt8(ascii: "?")
            }
        }
    }

    /// Whether `bytes` are well-formed UTF-8. A prefix cut inside a multi-byte character counts as valid.
    public static func isValidUTF8(_ bytes: some Collection<UInt8>) -> Bool {
        var validator = UTF8Validator()
        return validator.feed(bytes)
    }

    /// Windows-1252 bytes 0x80–0x9F; 0 marks the five undefined bytes (decoded as U+FFFD).
    private static let cp1252High: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E,
        0x0178,
    ]

    private static func cp1252Scalar(_ b: UInt8) -> Unicode.Scalar {
        if b < 0x80 || b >= 0xA0 { return Unicode.Scalar(b) }
        let v = cp1252High[Int(b) - 0x80]
        return Unicode.Scalar(v == 0 ? 0xFFFD : v)!
    }
}

/// Checks UTF-8 well-formedness across chunks, so a character split between two reads is not an error.
public struct UTF8Validator: Sendable {
    /// Continuation bytes still expected by the character in progress.
    private var remaining = 0
    /// After `feed` returned false: the offset, in the bytes fed last, of the byte that cannot be UTF-8.
    public private(set) var invalidOffset: Int?

    public init() {}

    /// Feeds the next bytes; `false` as soon as they cannot be UTF-8.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> Bool {
        if let valid = bytes.withContiguousStorageIfAvailable({ feed(buffer: $0) }) { return valid }
        return Array(bytes).withUnsafeBufferPointer { feed(buffer: $0) }
    }

    private mutating func feed(buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        for (i, b) in buffer.enumerated() {
            if remaining == 0 && b < 0x80 { continue }  // ASCII: the common case
            func invalid() -> Bool {
                invalidOffset = i
                return false
            }
            if remaining > 0 {
                guard b & 0xC0 == 0x80 else { return invalid() }
                remaining -= 1
            } else if b < 0x80 {
                continue
            } else if b & 0xE0 == 0xC0, b >= 0xC2 {
                remaining = 1
            } else if b & 0xF0 == 0xE0 {
                remaining = 2
            } else if b & 0xF8 == 0xF0, b <= 0xF4 {
                remaining = 3
            } else {
                return invalid()
            }
        }
        return true
    }

    /// Whether the input so far ended on a character boundary.
    public var isComplete: Bool { remaining == 0 }
}
