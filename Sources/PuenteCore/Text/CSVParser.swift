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
    /// True right after a quote inside a quoted field (a second quote means a literal quote).
    private var quotePending = false
    private var fieldWasQuoted = false
    private var bomDone = false
    private var bomMatched = 0
    private var lastWasCR = false
    /// Physical line (1-based) where the current record started; quoted newlines make records span lines.
    private var line = 1
    private var recordLine = 1

    public init(delimiter: UInt8 = UInt8(ascii: ","), encoding: TextEncoding = .utf8) {
        self.delimiter = delimiter
        self.encoding = encoding
    }

    /// Parses `bytes`; `emit` receives each complete record's fields and the line it started on.
    public mutating func feed(_ bytes: some Collection<UInt8>, emit: ([String], Int) throws -> Void) rethrows {
        if let done = try bytes.withContiguousStorageIfAvailable({ try feed(buffer: $0, emit: emit) }) { return done }
        try Array(bytes).withUnsafeBufferPointer { try feed(buffer: $0, emit: emit) }
    }

    /// The parser proper, over contiguous bytes. Runs of ordinary bytes are scanned in a tight loop and
    /// turned into a field without copying when the field lies within the chunk: files have millions of
    /// rows.
    private mutating func feed(buffer: UnsafeBufferPointer<UInt8>, emit: ([String], Int) throws -> Void) rethrows {
        let n = buffer.count
        var i = 0
        // A byte order mark, possibly split across chunks, is skipped; a false start is kept as data.
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        while !bomDone && i < n {
            if buffer[i] == bom[bomMatched] {
                bomMatched += 1
                i += 1
                if bomMatched == 3 { bomDone = true }
            } else {
                field.append(contentsOf: bom[0..<bomMatched])
                bomDone = true
            }
        }
        let quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r"), delimiter = self.delimiter
        while i < n {
            let b = buffer[i]
            if lastWasCR {
                lastWasCR = false
                if b == lf { i += 1; continue }
            }
            if inQuotes {
                if quotePending {
                    quotePending = false
                    if b == quote { field.append(b); i += 1; continue }
                    inQuotes = false  // the quote closed the field; handle `b` below
                } else {
                    // Copy up to the next quote, counting the newlines it spans.
                    var j = i
                    while j < n && buffer[j] != quote { if buffer[j] == lf { line += 1 }; j += 1 }
                    field.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i..<j]))
                    if j < n { quotePending = true; j += 1 }
                    i = j
                    continue
                }
            }
            switch b {
            case delimiter:
                endField()
                i += 1
            case lf:
                try endRecord(emit)
                line += 1
                recordLine = line
                i += 1
            case cr:
                try endRecord(emit)
                line += 1
                recordLine = line
                lastWasCR = true
                i += 1
            case quote where field.isEmpty && !fieldWasQuoted:
                inQuotes = true
                fieldWasQuoted = true
                i += 1
            default:
                // A run of ordinary bytes (a quote inside an unquoted field is ordinary).
                var j = i + 1
                while j < n {
                    let c = buffer[j]
                    if c == delimiter || c == lf || c == cr { break }
                    j += 1
                }
                let run = UnsafeBufferPointer(rebasing: buffer[i..<j])
                guard field.isEmpty && !fieldWasQuoted && j < n else {
                    field.append(contentsOf: run)
                    i = j
                    continue
                }
                // The whole field lies in this chunk: decode it in place, then take its end.
                record.append(encoding.decode(run))
                let end = buffer[j]
                i = j + 1
                if end == delimiter { continue }
                try emit(record, recordLine)
                startRecord()
                line += 1
                recordLine = line
                lastWasCR = end == cr
            }
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
            startRecord()
        }
    }

    /// Starts the next record in a new array sized by the record just emitted, which callers usually
    /// keep. Not `removeAll(keepingCapacity:)`: on a shared array that allocates the old *capacity*,
    /// which the allocator may round up, so capacity ratcheted up record after record (15-field rows
    /// reached arrays of 200 slots after 2 million rows, and memory grew with the file).
    private mutating func startRecord() {
        let fields = record.count
        record = []
        record.reserveCapacity(fields)
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
