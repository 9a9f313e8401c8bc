import Foundation
import PuenteCore

// Whole small files the commands read and write (agreements, registries, rejects, decisions).

/// The file's bytes; `notFound` naming the file when it cannot be read.
func readFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw PuenteError(.notFound, "Cannot read the file.", at: InputLocation(file: path))
    }
    return data
}

/// Writes `data` to `path` in one step (a temporary file renamed into place): a file signed in place
/// is never left half-written. The error names the file and why, never its content.
func writeFile(_ data: Data, to path: String) throws {
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        let reason = (error as NSError).localizedFailureReason ?? "check that its folder exists and is writable"
        throw PuenteError(.invalidArgument, "Cannot write the file (\(reason)).", at: InputLocation(file: path))
    }
}
