import CZlib
import Foundation
import PuenteCore

/// A stream of bytes read in chunks: a file, or a file decompressed on the fly.
protocol ByteSource {
    /// The next chunk, or `nil` at the end.
    mutating func next() throws -> [UInt8]?
    /// Share of the underlying file read so far, from 0 to 1.
    var fractionRead: Double { get }
}

/// A file read in chunks of `chunkSize` bytes.
struct FileByteSource: ByteSource {
    let handle: FileHandle
    let chunkSize: Int
    let size: Int
    private var position = 0

    init(handle: FileHandle, chunkSize: Int = 1 << 20) throws {
        self.handle = handle
        self.chunkSize = chunkSize
        size = Int(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
    }

    mutating func next() throws -> [UInt8]? {
        guard let data = try handle.read(upToCount: chunkSize), !data.isEmpty else { return nil }
        position += data.count
        return [UInt8](data)
    }

    var fractionRead: Double { size == 0 ? 1 : Double(position) / Double(size) }
}

/// A gzip stream (one or several members, as `cat a.gz b.gz` makes) decompressed as it is read.
struct GzipByteSource: ByteSource {
    private var input: FileByteSource
    private let inflater: Inflater
    private let file: String
    private var pending: [UInt8] = []
    private var offset = 0
    private var finished = false

    init(handle: FileHandle, file: String) throws {
        input = try FileByteSource(handle: handle, chunkSize: 1 << 18)
        inflater = try Inflater(format: .gzip, file: file)
        self.file = file
    }

    var fractionRead: Double { input.fractionRead }

    mutating func next() throws -> [UInt8]? {
        var out: [UInt8] = []
        while out.count < 1 << 20 {
            if offset == pending.count {
                guard let chunk = try input.next() else {
                    if !finished && inflater.started {
                        throw PuenteError(
                            .invalidInput, "The gzip file is truncated: it ends before its compressed data does.",
                            at: InputLocation(file: file))
                    }
                    break
                }
                pending = chunk
                offset = 0
            }
            let (consumed, ended) = try inflater.inflate(pending[offset...], into: &out, limit: 1 << 20)
            offset += consumed
            finished = ended
            if ended { inflater.reset() }  // another member may follow
        }
        return out.isEmpty ? nil : out
    }
}

/// zlib's inflate, for gzip files and for the raw deflate streams inside ZIP (XLSX) files.
final class Inflater {
    enum Format { case gzip, rawDeflate }
    private var stream = z_stream()
    private let file: String
    /// True once some input has gone in since the last member ended.
    private(set) var started = false

    init(format: Format, file: String) throws {
        self.file = file
        let windowBits: Int32 = format == .gzip ? 15 + 16 : -15
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw PuenteError(.invalidInput, "Cannot start decompression (zlib).", at: InputLocation(file: file))
        }
    }

    deinit { inflateEnd(&stream) }

    func reset() {
        inflateReset(&stream)
        started = false
    }

    /// Inflates from `input`, appending to `output` until it holds `limit` bytes or more (then it stops
    /// with input left: a few compressed kilobytes can inflate to gigabytes, and memory holds one chunk);
    /// returns the input bytes used and whether the stream ended.
    func inflate(_ input: ArraySlice<UInt8>, into output: inout [UInt8], limit: Int = 1 << 20) throws -> (
        consumed: Int, ended: Bool
    ) {
        guard !input.isEmpty else { return (0, false) }
        started = true
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var consumed = 0
        var ended = false
        try input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            repeat {
                let status = buffer.withUnsafeMutableBufferPointer { outBuf -> Int32 in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = buffer.count - Int(stream.avail_out)
                output.append(contentsOf: buffer[..<produced])
                if status == Z_STREAM_END { ended = true; break }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    throw PuenteError(
                        .invalidInput, "The compressed data is damaged (zlib status \(status)).",
                        at: InputLocation(file: file))
                }
                if status == Z_BUF_ERROR || (stream.avail_in == 0 && stream.avail_out > 0) { break }
                // Input left for the next call; with none left, what zlib still holds is at most a window.
                if output.count >= limit && stream.avail_in > 0 { break }
            } while true
            consumed = inBuf.count - Int(stream.avail_in)
        }
        stream.next_in = nil
        return (consumed, ended)
    }
}

/// A UTF-16 file (as Excel's "Unicode text" saves it, with its byte-order mark) read as UTF-8, so the
/// CSV parser and everything after it see the text they always see. The mark is dropped; a lone
/// surrogate is refused, naming the byte where it stands.
struct UTF16ByteSource: ByteSource {
    enum Order { case littleEndian, bigEndian }

    /// The order a file's first bytes announce, if they are a UTF-16 byte-order mark.
    static func order(ofStart bytes: some Collection<UInt8>) -> Order? {
        let head = Array(bytes.prefix(2))
        if head == [0xFF, 0xFE] { return .littleEndian }
        if head == [0xFE, 0xFF] { return .bigEndian }
        return nil
    }

    private var input: any ByteSource
    private let order: Order
    private let file: String
    private var carry: [UInt8] = []
    private var highSurrogate: UInt16?
    private var bytesRead = 0
    private var markSkipped = false

    init(_ input: any ByteSource, order: Order, file: String) {
        self.input = input
        self.order = order
        self.file = file
    }

    var fractionRead: Double { input.fractionRead }

    mutating func next() throws -> [UInt8]? {
        while true {
            guard let chunk = try input.next() else {
                if !carry.isEmpty || highSurrogate != nil {
                    throw PuenteError(
                        .invalidInput, "The UTF-16 file ends in the middle of a character: it may be truncated.",
                        at: InputLocation(file: file))
                }
                return nil
            }
            var bytes = carry + chunk
            if !markSkipped {
                guard bytes.count >= 2 else { carry = bytes; continue }
                bytes.removeFirst(2)
                bytesRead = 2
                markSkipped = true
            }
            let usable = bytes.count & ~1
            carry = Array(bytes[usable...])
            var out: [UInt8] = []
            out.reserveCapacity(usable * 3 / 2)
            var i = 0
            while i < usable {
                let unit =
                    order == .littleEndian
                    ? UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 : UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
                let at = bytesRead + i
                i += 2
                let scalar: UInt32
                switch unit {
                case 0xD800...0xDBFF:
                    guard highSurrogate == nil else { throw loneSurrogate(at - 2) }
                    highSurrogate = unit
                    continue
                case 0xDC00...0xDFFF:
                    guard let high = highSurrogate else { throw loneSurrogate(at) }
                    highSurrogate = nil
                    scalar = 0x10000 + (UInt32(high - 0xD800) << 10) + UInt32(unit - 0xDC00)
                default:
                    guard highSurrogate == nil else { throw loneSurrogate(at - 2) }
                    scalar = UInt32(unit)
                }
                // UTF-8 by hand: a String per character would allocate once per character.
                switch scalar {
                case ..<0x80: out.append(UInt8(scalar))
                case ..<0x800: out += [UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F)]
                case ..<0x10000:
                    out += [
                        UInt8(0xE0 | scalar >> 12), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F),
                    ]
                default:
                    out += [
                        UInt8(0xF0 | scalar >> 18), UInt8(0x80 | scalar >> 12 & 0x3F),
                        UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F),
                    ]
                }
            }
            bytesRead += usable
            if !out.isEmpty { return out }
        }
    }

    private func loneSurrogate(_ byte: Int) -> PuenteError {
        PuenteError(
            .invalidInput, "The file is UTF-16 but holds half a character (a lone surrogate) at byte \(byte).",
            at: InputLocation(file: file))
    }
}
