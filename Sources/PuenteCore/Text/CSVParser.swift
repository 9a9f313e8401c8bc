/// An incremental RFC 4180 CSV parser over bytes: any single-byte delimiter, quoted fields with doubled
/// quotes and embedded newlines, LF or CRLF line ends, and a UTF-8 byte order mark.
///
/// It holds only the record being parsed, so memory does not grow with the file. Feed it chunks as they
/// are read; it calls back once per complete record.
public struct CSVParser: Sendable {
    public let delimiter: UInt8
    public let encoding: TextEncoding

    private var field: [UInt8] = []
    private var record: [String] = []
    private var inQuotes = false
    /// True right after a closing quote inside a quoted field (a second quote means a literal quote).
    private var quotePending = false
    private var fieldWasQuoted = false
    private var atStart = true
    private var lastWasCR = false
    /// Physical line (1-based) where the current record started; quoted newlines make records span lines.
    private var line = 1
    private var recordLine = 1

    public init(delimiter: UInt8 = UInt8(ascii: ","), encoding: TextEncoding = .utf8) {
        self.delimiter = delimiter
        self.encoding = encoding
    }

    /// Parses `bytes`; `emit` receives each complete record's fields and the line it started on.
    public mutating func feed(_ bytes: some Sequence<UInt8>, emit: ([String], Int) throws -> Void) rethrows {
        for b in bytes {
            if atStart {
                atStart = false
                if b == 0xEF { bomState = 1; continue }
            }
            if bomState > 0 {
                if bomState == 1, b == 0xBB { bomState = 2; continue }
                if bomState == 2, b == 0xBF { bomState = 0; continue }
                // Not a BOM after all: restore the bytes taken so far.
                field.append(0xEF)
                if bomState == 2 { field.append(0xBB) }
                bomState = 0
            }
            if inQuotes {
                if quotePending {
                    quotePending = false
                    if b == UInt8(ascii: "\"") { field.append(b); continue }
                    inQuotes = false   // the quote closed the field; fall through to handle `b`
                } else if b == UInt8(ascii: "\"") {
                    quotePending = true
                    continue
                } else {
                    if b == UInt8(ascii: "\n") { line += 1 }
                    field.append(b)
                    continue
                }
            }
            switch b {
            case delimiter:
                endField()
            case UInt8(ascii: "\n"):
                if lastWasCR { lastWasCR = false; continue }
                try endRecord(emit)
                line += 1
                recordLine = line
            case UInt8(ascii: "\r"):
                try endRecord(emit)
                line += 1
                recordLine = line
                lastWasCR = true
                continue
            case UInt8(ascii: "\""):
                if field.isEmpty && !fieldWasQuoted { inQuotes = true; fieldWasQuoted = true } else { field.append(b) }
            default:
                field.append(b)
            }
            lastWasCR = false
        }
    }

    /// Ends input: emits the last record if the file did not end with a newline.
    public mutating func finish(emit: ([String], Int) throws -> Void) rethrows {
        if quotePending { quotePending = false; inQuotes = false }
        if !field.isEmpty || !record.isEmpty || fieldWasQuoted { try endRecord(emit) }
    }

    /// Whether input ended inside a quoted field (an unterminated quote).
    public var isInsideQuotes: Bool { inQuotes && !quotePending }

    /// Size of the record being parsed (bytes of its open field plus its finished fields): lets a
    /// reader stop at an absurdly long record instead of holding a whole broken file in memory.
    public var pendingBytes: Int { field.count + record.count }

    /// Line where the record being parsed started.
    public var currentRecordLine: Int { recordLine }

    private var bomState = 0

    private mutating func endField() {
        record.append(encoding.decode(field))
        field.removeAll(keepingCapacity: true)
        fieldWasQuoted = false
    }

    private mutating func endRecord(_ emit: ([String], Int) throws -> Void) rethrows {
        let blank = record.isEmpty && field.isEmpty && !fieldWasQuoted
        if !blank {
            endField()
            try emit(record, recordLine)
        }
        record.removeAll(keepingCapacity: true)
    }
}

/// Writes CSV records, quoting fields only where needed.
public enum CSVWriter {
    public static func line(_ fields: [String], delimiter: Character = ",") -> String {
        fields.map { f in
            if f.contains(delimiter) || f.contains("\"") || f.contains("\n") || f.contains("\r") {
                var quoted = "\""
                for c in f { quoted.append(c == "\"" ? "\"\"" : String(c)) }
                return quoted + "\""
            }
            return f
        }.joined(separator: String(delimiter)) + "\n"
    }
}
