import Foundation
import PuenteCore
import PuenteIngest
import PuenteReference

/// Writes records in the layout a source profile reads, so generated files and shipped profiles can
/// never drift apart: the generator spells every value the way the profile expects to read it.
struct ExportWriter {
    let profile: SourceProfile
    private var file: BufferedFileWriter
    private let encoding: TextEncoding
    private let delimiter: Character
    private let spelling: ProfileSpelling

    init(profile: SourceProfile, url: URL) throws {
        self.profile = profile
        file = try BufferedFileWriter(path: url.path)
        encoding = profile.format.encoding ?? .utf8
        delimiter = Character(profile.format.delimiter)
        spelling = ProfileSpelling(profile: profile)
        try file.append(bytes: encoding.encode(CSVWriter.line(spelling.header, delimiter: delimiter)))
    }

    mutating func write(_ values: [Field: RecordedValue]) throws {
        try file.append(bytes: encoding.encode(CSVWriter.line(spelling.cells(values), delimiter: delimiter)))
    }

    mutating func close() throws { try file.close() }
}
