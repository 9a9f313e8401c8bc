import Foundation
import PuenteCore

/// One record as read from an export, before harmonisation.
public struct SourceRecord: Sendable {
    /// Cell texts in header order.
    public var fields: [String]
    /// Where the record starts: the physical line (CSV, JSON Lines) or the sheet row (XLSX).
    public var line: Int
    /// Set when the record could not be read at all (its one field is then the raw text); says what
    /// was expected instead.
    public var unreadable: String?

    public init(fields: [String], line: Int, unreadable: String? = nil) {
        self.fields = fields
        self.line = line
        self.unreadable = unreadable
    }
}

/// Streams the records of an export in batches, whatever its format: CSV (UTF-8 or Windows-1252,
/// detected or declared), JSON Lines or XLSX, plain or gzip-compressed (detected from the bytes).
/// The first record is the header. Memory holds one chunk and its records, whatever the file size.
public struct ExportReader {
    public let url: URL
    public let format: SourceProfile.Format
    /// For JSON Lines, the keys to read (in this order); they play the part of the header.
    public let keys: [String]
    /// The encoding in use (for CSV): declared, or detected from the first 64 KiB.
    public private(set) var encoding: TextEncoding
    public private(set) var isGzip = false
    /// Set when the file begins with a UTF-16 byte-order mark: it is read as UTF-16, whatever the
    /// profile declares (Excel's "Unicode text" files).
    private(set) var utf16: UTF16ByteSource.Order?
    /// Records handed to `body` per call.
    public var batchSize = 10_000

    var file: String { url.lastPathComponent }

    public init(url: URL, format: SourceProfile.Format, keys: [String] = []) throws {
        self.url = url
        self.format = format
        self.keys = keys
        encoding = format.encoding ?? .utf8
        let handle = try Self.open(url)
        defer { try? handle.close() }
        let magic = [UInt8](try handle.read(upToCount: 2) ?? Data())
        isGzip = magic == [0x1f, 0x8b]
        if format.type == .xlsx && magic != [0x50, 0x4b] {
            throw PuenteError(
                .invalidInput,
                "The file is not an XLSX workbook (those begin as ZIP archives); "
                    + "check the file or the profile's format.type.", at: InputLocation(file: url.lastPathComponent))
        }
        if format.type != .xlsx {
            // A plain file's first two bytes are read already; a gzip file's are its contents'.
            if isGzip {
                var source = try byteSource()
                utf16 = try source.next().flatMap { UTF16ByteSource.order(ofStart: $0) }
            } else {
                utf16 = UTF16ByteSource.order(ofStart: magic)
            }
            // The mark says what the bytes are; a declared encoding cannot.
            if utf16 != nil { encoding = .utf8 }
        }
        if format.type == .csv && format.encoding == nil && utf16 == nil {
            // Valid UTF-8 over the first 64 KiB means UTF-8; anything else is taken as Windows-1252,
            // which decodes every byte. Declare the encoding in the profile to be sure.
            var source = try byteSource()
            var head: [UInt8] = []
            while head.count < 1 << 16, let chunk = try source.next() { head += chunk }
            // Cut at a character boundary so a split multi-byte sequence does not count as invalid.
            var end = min(head.count, 1 << 16)
            while end > 0 && end < head.count && head[end] & 0xC0 == 0x80 { end -= 1 }
            encoding = TextEncoding.isValidUTF8(head[..<end]) ? .utf8 : .windows1252
        }
    }

    static func open(_ url: URL) throws -> FileHandle {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let handle = try? FileHandle(forReadingFrom: url)
        else {
            throw PuenteError(
                .invalidInput, "Cannot open the file; check the path and permissions.",
                at: InputLocation(file: url.lastPathComponent))
        }
        return handle
    }

    private func byteSource() throws -> any ByteSource {
        let handle = try Self.open(url)
        let raw: any ByteSource =
            isGzip ? try GzipByteSource(handle: handle, file: file) : try FileByteSource(handle: handle)
        return utf16.map { UTF16ByteSource(raw, order: $0, file: file) } ?? raw
    }

    /// Calls `body` with each batch of records, in file order, and the share of the file read so far;
    /// the header comes first.
    public func forEachBatch(_ body: ([SourceRecord], Double) async throws -> Void) async throws {
        var batch: [SourceRecord] = []
        batch.reserveCapacity(batchSize)
        switch format.type {
        case .csv:
            var source = try byteSource()
            var parser = CSVParser(delimiter: format.delimiter.utf8.first ?? UInt8(ascii: ","), encoding: encoding)
            // Bytes that are not UTF-8 would silently become U+FFFD in names and places: refuse them.
            var validator = encoding == .utf8 ? UTF8Validator() : nil
            while let chunk = try source.next() {
                if validator?.feed(chunk) == false {
                    // The line of the offending byte: where this chunk starts, plus its line breaks before it.
                    let before = chunk.prefix(validator?.invalidOffset ?? 0)
                    throw notUTF8(after: parser.currentRecordLine + before.count { $0 == UInt8(ascii: "\n") })
                }
                parser.feed(chunk) { fields, line in batch.append(SourceRecord(fields: fields, line: line)) }
                // Checked per chunk: a runaway record is caught within a chunk of the limit.
                try checkLength(parser)
                if batch.count >= batchSize {
                    try await body(batch, source.fractionRead); batch.removeAll(keepingCapacity: true)
                }
            }
            if validator?.isComplete == false { throw notUTF8(after: parser.currentRecordLine) }
            if parser.isInsideQuotes {
                throw PuenteError(
                    .invalidInput,
                    "The file ends inside a quoted field that starts on line \(parser.currentRecordLine): "
                        + "a closing quote is missing.", at: InputLocation(file: file))
            }
            parser.finish { fields, line in batch.append(SourceRecord(fields: fields, line: line)) }
        case .jsonl:
            var source = try byteSource()
            var lines = JSONLines(keys: keys)
            batch.append(SourceRecord(fields: keys, line: 0))
            while let chunk = try source.next() {
                lines.feed(chunk) { batch.append($0) }
                if lines.pendingBytes > Self.maximumRecordBytes {
                    throw PuenteError(
                        .invalidInput,
                        "Line \(lines.currentLine) is longer than 1 MiB: expected one register record per line.",
                        at: InputLocation(file: file, row: lines.currentLine))
                }
                if batch.count >= batchSize {
                    try await body(batch, source.fractionRead); batch.removeAll(keepingCapacity: true)
                }
            }
            lines.finish { batch.append($0) }
        case .xlsx:
            let handle = try Self.open(url)
            defer { try? handle.close() }
            let reader = try XLSXReader(handle: handle, file: file, sheet: format.sheet)
            var rows = try reader.rows()
            while let chunk = try rows.next() {
                for (cells, row) in chunk { batch.append(SourceRecord(fields: cells, line: row)) }
                if batch.count >= batchSize {
                    try await body(batch, rows.fractionRead); batch.removeAll(keepingCapacity: true)
                }
            }
        }
        if !batch.isEmpty { try await body(batch, 1) }
    }

    private func notUTF8(after line: Int) -> PuenteError {
        PuenteError(
            .invalidInput,
            "The file is not valid UTF-8 from line \(line) on, "
                + (format.encoding == .utf8
                    ? "yet the profile declares utf-8. "
                    : "though its beginning was (so UTF-8 was detected). ")
                + "Exports from Excel and older systems are often windows-1252: declare `encoding: windows-1252` in the profile.",
            at: InputLocation(file: file))
    }

    /// A record longer than this is not a register row but a broken file (an unclosed quote, binary data).
    static let maximumRecordBytes = 1 << 20

    private func checkLength(_ parser: CSVParser) throws {
        if parser.pendingBytes > Self.maximumRecordBytes {
            throw PuenteError(
                .invalidInput,
                "The record starting on line \(parser.currentRecordLine) is longer than 1 MiB: "
                    + "expected register rows; an unclosed quote or a binary file gives this.",
                at: InputLocation(file: file, row: parser.currentRecordLine))
        }
    }
}
