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
    let size: Int
    private(set) var entries: [String: Entry] = [:]

    init(handle: FileHandle, file: String) throws {
        self.handle = handle
        self.file = file
        let size = Int(try handle.seekToEnd())
        self.size = size
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
        guard start + entry.compressedSize <= size else {
            throw damaged("the part `\(name)` runs past the end of the file")
        }
        return EntrySource(
            archive: self, entry: entry, position: start, remaining: entry.compressedSize,
            inflater: entry.method == 8 ? try Inflater(format: .rawDeflate, file: file) : nil)
    }

    /// One entry's bytes, decompressed chunk by chunk: at most about 1 MiB per chunk, and never more in
    /// all than the size the directory declares (a part that inflates beyond it is refused as it does).
    struct EntrySource: ByteSource {
        let archive: ZipArchive
        let entry: Entry
        var position: Int
        var remaining: Int
        let inflater: Inflater?
        /// Compressed bytes read and not yet inflated.
        var pending: [UInt8] = []
        var offset = 0
        var ended = false
        /// CRC-32 and length of what has been handed out, checked against the directory at the end.
        var crc: UInt = 0
        var produced = 0

        init(archive: ZipArchive, entry: Entry, position: Int, remaining: Int, inflater: Inflater?) {
            self.archive = archive
            self.entry = entry
            self.position = position
            self.remaining = remaining
            self.inflater = inflater
        }

        var fractionRead: Double {
            entry.compressedSize == 0 ? 1 : 1 - Double(remaining) / Double(entry.compressedSize)
        }

        mutating func next() throws -> [UInt8]? {
            while !ended && (remaining > 0 || offset < pending.count) {
                if offset == pending.count {
                    try archive.handle.seek(toOffset: UInt64(position))
                    pending = [UInt8](try archive.handle.read(upToCount: min(remaining, 1 << 18)) ?? Data())
                    offset = 0
                    guard !pending.isEmpty else { throw archive.damaged("the file is truncated") }
                    remaining -= pending.count
                    position += pending.count
                }
                var out: [UInt8] = []
                if let inflater {
                    let (used, streamEnded) = try inflater.inflate(pending[offset...], into: &out, limit: 1 << 20)
                    offset += used
                    ended = streamEnded
                    if used == 0 && !streamEnded { offset = pending.count }
                } else {
                    out = Array(pending[offset...])
                    offset = pending.count
                }
                if !out.isEmpty {
                    produced += out.count
                    guard produced <= entry.size else {
                        throw archive.damaged(
                            "the part `\(entry.name)` inflates to more than the \(entry.size) bytes its directory declares"
                        )
                    }
                    crc = out.withUnsafeBufferPointer { CZlib.crc32(crc, $0.baseAddress, uInt($0.count)) }
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

    /// The most a part read whole may hold (workbook, relationships, shared strings): shared strings of
    /// a sheet at Excel's row limit fit well within it; more is a hostile file, not a register.
    static let maximumWholePart = 256 << 20

    /// A part that is read whole, refused before reading when its directory declares more than
    /// `maximumWholePart`.
    func openWhole(_ name: String) throws -> EntrySource {
        if let size = entries[name]?.size, size > Self.maximumWholePart {
            throw damaged(
                "the part `\(name)` declares \(size >> 20) MiB, more than the \(Self.maximumWholePart >> 20) MiB a workbook's part may hold here"
            )
        }
        return try open(name)
    }

    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
