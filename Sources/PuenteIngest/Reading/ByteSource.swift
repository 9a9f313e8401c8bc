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
            let (consumed, ended) = try inflater.inflate(pending[offset...], into: &out)
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

    /// Inflates from `input`, appending to `output`; returns the input bytes used and whether the stream ended.
    func inflate(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) throws -> (consumed: Int, ended: Bool) {
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
            } while true
            consumed = inBuf.count - Int(stream.avail_in)
        }
        stream.next_in = nil
        return (consumed, ended)
    }
}
