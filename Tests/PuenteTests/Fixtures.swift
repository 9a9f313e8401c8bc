import Foundation
import PuenteCore
import PuenteIngest
import PuenteSynthetic

/// Small helpers shared by the tests.
enum Fixtures {
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("puente-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A generated country-year at `scale`, written once per process and options.
    static func generated(country: String = "SV", year: Int = 2016, seed: UInt64 = 7, scale: Double = 0.05) throws
        -> (URL, GenerationSummary)
    {
        let dir = try tempDir()
        let summary = try Generator(options: GeneratorOptions(country: country, year: year, seed: seed, scale: scale))
            .write(to: dir)
        return (dir, summary)
    }

    static func event(
        key: String, type: EventType = .return, date: String = "2016-03-05", sex: Sex = .male, age: Int? = 30,
        division: String? = "SV-0614", row: Int = 1
    ) -> MovementEvent {
        MovementEvent(
            source: SourceReference(agency: "TEST", file: "t.csv", row: row, recordKey: key), type: type,
            date: CivilDate(iso: date)!, reportingCountry: "SLV", place: "SV-RC_CAIM", transportMode: .land,
            person: PersonAttributes(
                givenNames: "Ana María", surnames: "Pérez López", sex: sex,
                birthDate: age.map { CivilDate(iso: date)!.adding(days: -$0 * 366) } ?? nil,
                age: age, nationality: "SLV", residenceDivision: division,
                documentType: .nationalID, documentNumber: "01234567-8"),
            returnDetails: type == .return
                ? ReturnDetails(
                    returningFrom: "MEX", returnType: .deportation,
                    childStatus: (age ?? 30) < 18 ? .accompanied : .adult,
                    daysAbroad: 40) : nil)
    }

    /// Rows of a CSV file as dictionaries (an independent reader: split on the delimiter, no quotes in
    /// generated truth fields other than the errors list).
    static func truthRows(_ url: URL) throws -> [[String: String]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n")
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }
}
