import Foundation

/// Writes bytes to a new file through a 1 MiB buffer, for the large files Puente writes (generated
/// exports, linkage results, encodings). Every write error is thrown, naming the file, so a full disk
/// never leaves a short file that looks complete.
public struct BufferedFileWriter {
    private let handle: FileHandle
    private let path: String
    private var buffer: [UInt8] = []
    private static let flushSize = 1 << 20

    /// Creates (or empties) the file at `path`.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw PuenteError(
                .invalidArgument, "Cannot write the file; check that its folder exists and is writable.",
                at: InputLocation(file: path))
        }
        self.init(handle: handle, path: path)
    }

    /// Writes to a file already open (`path` names it in errors).
    public init(handle: FileHandle, path: String) {
        self.handle = handle
        self.path = path
        buffer.reserveCapacity(Self.flushSize + 4096)
    }

    public mutating func append(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.flushSize { try flush() }
    }

    public mutating func append(bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.flushSize { try flush() }
    }

    /// A CSV field, quoted only when it holds a comma, a quote or a line break.
    public mutating func append(field: String) throws {
        if field.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) {
            try append(String(CSVWriter.line([field]).dropLast()))
        } else {
            try append(field)
        }
    }

    /// Writes what is buffered and closes the file; the file is complete only when this returns.
    public mutating func close() throws {
        try flush()
        do { try handle.close() } catch { throw writeError(error) }
    }

    private mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch { throw writeError(error) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeError(_ error: any Error) -> PuenteError {
        let reason = (error as NSError).localizedFailureReason ?? "the disk may be full"
        return PuenteError(
            .storeFailure, "Writing the file failed (\(reason)); it is incomplete.", at: InputLocation(file: path))
    }
}
