import Foundation
import PuenteCore
import PuenteIngest
import Testing

@Suite("CSV, encodings and dates")
struct ReadingTests {
    private func parse(
        _ bytes: [UInt8], delimiter: Character = ",", encoding: TextEncoding = .utf8, chunk: Int = 1 << 16
    ) -> [[String]] {
        var parser = CSVParser(delimiter: delimiter.asciiValue!, encoding: encoding)
        var out: [[String]] = []
        var i = 0
        while i < bytes.count {
            parser.feed(bytes[i..<min(i + chunk, bytes.count)]) { fields, _ in out.append(fields) }
            i += chunk
        }
        parser.finish { fields, _ in out.append(fields) }
        return out
    }

    @Test(
        "The buffered writer reports a failed write (a full disk) instead of leaving a short file that looks complete")
    func bufferedWriterReportsFullDisk() throws {
        // /dev/full fails every write with ENOSPC, as a full disk does.
        let handle = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        var writer = BufferedFileWriter(handle: handle, path: "clusters.csv")
        try writer.append("record_id,cluster_id\n")  // buffered: nothing written yet
        let error = #expect(throws: PuenteError.self) {
            for _ in 0..<40_000 { try writer.append(field: "rec-12345,x"); try writer.append(",1\n") }
            try writer.close()
        }
        #expect(error?.message.contains("incomplete") == true && error?.location?.file == "clusters.csv")
    }

    @Test("RFC 4180: quotes, doubled quotes, embedded newlines, CRLF, BOM and a missing final newline")
    func rfc4180() {
        let text = "\u{FEFF}id;name;note\r\n1;\"Pérez; Ana\";\"dijo \"\"hola\"\"\nsegunda línea\"\r\n2;;\r\n3;x;último"
        let expected = [
            ["id", "name", "note"], ["1", "Pérez; Ana", "dijo \"hola\"\nsegunda línea"], ["2", "", ""],
            ["3", "x", "último"],
        ]
        let bytes = Array(text.utf8)
        #expect(parse(bytes, delimiter: ";") == expected)
        // The same records whatever the chunk boundaries, down to one byte at a time.
        for chunk in [1, 2, 3, 7] { #expect(parse(bytes, delimiter: ";", chunk: chunk) == expected) }
    }

    @Test("Records the caller keeps are sized by their fields, not by the capacity of earlier records")
    func recordCapacity() {
        // As the export reader does: keep records in batches, drop each batch when the next is full,
        // with allocations of other sizes in between (which made the allocator round record arrays
        // up, and the parser carried the rounded capacity on to the next record).
        var parser = CSVParser()
        var batch: [[String]] = []
        var others: [[UInt8]] = []
        var widest = 0
        let row = Array(
            "2016-000000001,Egreso,2016-01-01,Puerto Quetzal,Marítima,Ángela,Sierra Martínez,Femenino\n".utf8)
        for n in 0..<50_000 {
            parser.feed(row) { fields, _ in
                widest = max(widest, fields.capacity)
                batch.append(fields)
            }
            others.append([UInt8](repeating: 0, count: 16 * (n % 23) + 40))
            if batch.count == 2_000 { batch = []; others.shuffle(); others.removeLast(others.count / 2) }
        }
        #expect(widest <= 16)
    }

    @Test("Windows-1252 decodes accents and the 0x80–0x9F block; detection tells it from UTF-8")
    func windows1252() {
        let bytes: [UInt8] =
            Array("Jos".utf8) + [0xE9, UInt8(ascii: ","), 0x93] + Array("Cañas".utf8.map { $0 }) + [0x94]
        #expect(!TextEncoding.isValidUTF8(bytes))
        #expect(TextEncoding.isValidUTF8(Array("José Cañas".utf8)))
        let rows = parse(bytes, encoding: .windows1252)
        #expect(rows == [["José", "\u{201C}CaÃ±as\u{201D}"]])
        #expect(TextEncoding.windows1252.decode(TextEncoding.windows1252.encode("Ñandú €")) == "Ñandú €")
    }

    @Test(
        "Date patterns read and write the formats agencies use",
        arguments: [
            ("dd/MM/yyyy", "31/12/2016", "2016-12-31"), ("d/M/yyyy", "5/3/2016", "2016-03-05"),
            ("yyyy-MM-dd", "2016-02-29", "2016-02-29"), ("dd/MM/yy", "05/03/95", "1995-03-05"),
            ("dd/MM/yy", "05/03/16", "2016-03-05"), ("excel", "42735", "2016-12-31"),
        ])
    func datePatterns(pattern: String, text: String, iso: String) throws {
        let p = try #require(DatePattern(pattern))
        let date = try #require(p.parse(Substring(text), pivot: 30))
        #expect(date.description == iso)
        #expect(p.parse(Substring(p.format(date)), pivot: 30) == date)
    }

    @Test(
        "Impossible dates are refused",
        arguments: ["31/02/2016", "29/02/2015", "00/01/2016", "1/13/2016", "12-12-2016", "abc"])
    func impossibleDates(text: String) {
        #expect(DatePattern("dd/MM/yyyy")!.parse(Substring(text), pivot: 30) == nil)
    }

    @Test("Age at the event counts completed years")
    func age() {
        let birth = CivilDate(year: 2000, month: 3, day: 15)!
        #expect(birth.age(on: CivilDate(year: 2016, month: 3, day: 14)!) == 15)
        #expect(birth.age(on: CivilDate(year: 2016, month: 3, day: 15)!) == 16)
        #expect(CivilDate(daysSinceEpoch: birth.daysSinceEpoch) == birth)
        #expect(CivilDate(iso: "1970-01-01")!.daysSinceEpoch == 0)
    }

    @Test("Every shipped profile loads and is consistent")
    func shippedProfiles() throws {
        let ids = ProfileCatalogue.shippedIDs
        #expect(ids.count == 6)
        for id in ids {
            let profile = try ProfileCatalogue.load(id)
            #expect(profile.id == id)
            #expect(profile.problems().isEmpty)
        }
        #expect(throws: PuenteError.self) { try ProfileCatalogue.load("no-such-profile") }
    }

    @Test(
        "A profile check explains its mistakes: a spelling under two codes, an unknown date format, a missing event date"
    )
    func profileMistakes() throws {
        var profile = try ProfileCatalogue.load("hn-inm-retornos")
        profile.values[.sex] = ["M": ["1", "H"], "F": ["2", "h"]]
        profile.dateFormats = ["dd/MM/yyyy", "YYYY.DD"]
        profile.columns.removeAll { $0.field == .eventDate }
        let problems = profile.problems().joined(separator: "\n")
        #expect(problems.contains("listed for both"))
        #expect(problems.contains("YYYY.DD"))
        #expect(problems.contains("eventDate"))
    }

    @Test("A person's sealed fields survive any characters, absent fields and empty ones")
    func personalBundle() {
        let cases: [[String?]] = [
            ["Ana María", "Pérez López", "1986-03-01", "01234567-8"], [nil, "O'Neil-Ruiz", nil, nil],
            ["12:34", "-", "", "ñ:ñ-1:"], ["José 🇸🇻", nil, nil, "A1"],
        ]
        for fields in cases {
            let text = PersonalBundle.encode(fields)
            #expect(text.flatMap(PersonalBundle.decode) == fields, "\(fields)")
        }
        #expect(PersonalBundle.encode([nil, nil, nil, nil]) == nil)
        for bad in ["", "5:abc---", "-", "3:abc-", "x:abc---", "3:abc----"] {
            #expect(PersonalBundle.decode(bad) == nil, "\(bad)")
        }
    }
}
