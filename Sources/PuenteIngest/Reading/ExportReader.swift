import Foundation
import PuenteCore

/// Streams the records of a CSV export in chunks, detecting its encoding when the profile does not
/// declare one. Memory holds one chunk and the records parsed from it, whatever the file size.
public struct ExportReader {
    public let url: URL
    public let delimiter: UInt8
    public private(set) var encoding: TextEncoding
    /// Bytes read per chunk.
    public var chunkSize = 1 << 20

    public init(url: URL, format: SourceProfile.Format) throws {
        self.url = url
        delimiter = format.delimiter?.utf8.first ?? UInt8(ascii: ",")
        if let declared = format.encoding {
            encoding = declared
        } else {
            // Detection: valid UTF-8 over the first 64 KiB means UTF-8, anything else is taken as
            // Windows-1252, which decodes every byte. Declare the encoding in the profile to be sure.
            let handle = try ExportReader.open(url)
            defer { try? handle.close() }
            let head = try handle.read(upToCount: 1 << 16) ?? Data()
            encoding = TextEncoding.isValidUTF8(head) ? .utf8 : .windows1252
        }
    }

    static func open(_ url: URL) throws -> FileHandle {
        do { return try FileHandle(forReadingFrom: url) } catch {
            throw PuenteError(.invalidInput, "Cannot open the file; check the path and permissions.",
                              at: InputLocation(file: url.lastPathComponent))
        }
    }

    /// Calls `body` with each batch of records (fields and starting line), in file order.
    public func forEachBatch(_ body: ([([String], Int)]) async throws -> Void) async throws {
        let handle = try ExportReader.open(url)
        defer { try? handle.close() }
        var parser = CSVParser(delimiter: delimiter, encoding: encoding)
        var batch: [([String], Int)] = []
        while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
            parser.feed(chunk) { fields, line in batch.append((fields, line)) }
            if !batch.isEmpty { try await body(batch); batch.removeAll(keepingCapacity: true) }
        }
        if parser.isInsideQuotes {
            throw PuenteError(.invalidInput, "The file ends inside a quoted field: a closing quote is missing.",
                              at: InputLocation(file: url.lastPathComponent))
        }
        parser.finish { fields, line in batch.append((fields, line)) }
        if !batch.isEmpty { try await body(batch) }
    }
}
