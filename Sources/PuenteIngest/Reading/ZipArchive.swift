import CZlib
import Foundation
import PuenteCore

/// The entries of a ZIP file (as an XLSX workbook is), read from its central directory, each
/// decompressed as a stream and checked against its CRC-32 and size. Enough of the format for Office
/// files: stored and deflated entries, no ZIP64. (ZIPFoundation only hands an entry to a callback from
/// start to end; a reader that gives out a batch of rows at a time needs to pull the next chunk.)
struct ZipArchive {
    struct Entry {
        var name: String
        var method: UInt16
        var compressedSize: Int
        var size: Int
        var crc32: UInt32
        var localHeaderOffset: Int
    }

    let handle: FileHandle
    let file: String
    private(set) var entries: [String: Entry] = [:]

    init(handle: FileHandle, file: String) throws {
        self.handle = handle
        self.file = file
        let size = Int(try handle.seekToEnd())
        let tailLength = min(size, 22 + 65_535)
        try handle.seek(toOffset: UInt64(size - tailLength))
        let tail = [UInt8](try handle.read(upToCount: tailLength) ?? Data())
        guard
            let eocd = stride(from: tail.count - 22, through: 0, by: -1).first(where: {
                Self.u32(tail, $0) == 0x0605_4b50
            })
        else {
            throw damaged("it has no ZIP directory; an .xlsx file is a ZIP archive")
        }
        let count = Int(Self.u16(tail, eocd + 10))
        let directorySize = Int(Self.u32(tail, eocd + 12)), directoryOffset = Int(Self.u32(tail, eocd + 16))
        guard directoryOffset + directorySize <= size else {
            throw damaged("its ZIP directory points past the end of the file")
        }
        try handle.seek(toOffset: UInt64(directoryOffset))
        let directory = [UInt8](try handle.read(upToCount: directorySize) ?? Data())
        var p = 0
        for _ in 0..<count {
            guard p + 46 <= directory.count, Self.u32(directory, p) == 0x0201_4b50 else {
                throw damaged("its ZIP directory is damaged")
            }
            let nameLength = Int(Self.u16(directory, p + 28))
            let extraLength = Int(Self.u16(directory, p + 30)), commentLength = Int(Self.u16(directory, p + 32))
            guard p + 46 + nameLength <= directory.count else { throw damaged("its ZIP directory is damaged") }
            let name = String(decoding: directory[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            entries[name] = Entry(
                name: name, method: Self.u16(directory, p + 10),
                compressedSize: Int(Self.u32(directory, p + 20)),
                size: Int(Self.u32(directory, p + 24)), crc32: Self.u32(directory, p + 16),
                localHeaderOffset: Int(Self.u32(directory, p + 42)))
            p += 46 + nameLength + extraLength + commentLength
        }
    }

    func damaged(_ why: String) -> PuenteError {
        PuenteError(.invalidInput, "The workbook cannot be read: \(why).", at: InputLocation(file: file))
    }

    /// The decompressed bytes of entry `name`, as a stream of chunks.
    func open(_ name: String) throws -> EntrySource {
        guard let entry = entries[name] else { throw damaged("it lacks the part `\(name)`") }
        try handle.seek(toOffset: UInt64(entry.localHeaderOffset))
        let header = [UInt8](try handle.read(upToCount: 30) ?? Data())
        guard header.count == 30, Self.u32(header, 0) == 0x0403_4b50 else {
            throw damaged("the part `\(name)` is damaged")
        }
        guard entry.method == 0 || entry.method == 8 else {
            throw damaged("the part `\(name)` uses an unsupported compression")
        }
        let start = entry.localHeaderOffset + 30 + Int(Self.u16(header, 26)) + Int(Self.u16(header, 28))
        return EntrySource(
            archive: self, entry: entry, position: start, remaining: entry.compressedSize,
            inflater: entry.method == 8 ? try Inflater(format: .rawDeflate, file: file) : nil)
    }

    /// One entry's bytes, decompressed chunk by chunk.
    struct EntrySource: ByteSource {
        let archive: ZipArchive
        let entry: Entry
        var position: Int
        var remaining: Int
        let inflater: Inflater?
        /// CRC-32 and length of what has been handed out, checked against the directory at the end.
        var crc: UInt = 0
        var produced = 0

        var fractionRead: Double {
            entry.compressedSize == 0 ? 1 : 1 - Double(remaining) / Double(entry.compressedSize)
        }

        mutating func next() throws -> [UInt8]? {
            while remaining > 0 {
                try archive.handle.seek(toOffset: UInt64(position))
                let chunk = [UInt8](try archive.handle.read(upToCount: min(remaining, 1 << 18)) ?? Data())
                guard !chunk.isEmpty else { throw archive.damaged("the file is truncated") }
                remaining -= chunk.count
                position += chunk.count
                var out: [UInt8] = []
                if let inflater {
                    var offset = 0
                    while offset < chunk.count {
                        let (used, ended) = try inflater.inflate(chunk[offset...], into: &out)
                        offset += used
                        if ended || used == 0 { break }
                    }
                } else {
                    out = chunk
                }
                if !out.isEmpty {
                    crc = out.withUnsafeBufferPointer { CZlib.crc32(crc, $0.baseAddress, uInt($0.count)) }
                    produced += out.count
                    return out
                }
            }
            guard produced == entry.size, crc == UInt(entry.crc32) else {
                throw archive.damaged(
                    "the part `\(entry.name)` does not match its checksum (the file is damaged or truncated)")
            }
            return nil
        }
    }

    /// The whole entry `name` (for the small parts: workbook, relationships, shared strings).
    func contents(_ name: String) throws -> [UInt8] {
        var source = try open(name)
        var all: [UInt8] = []
        while let chunk = try source.next() { all.append(contentsOf: chunk) }
        return all
    }

    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
