import Foundation
import PuenteCore
import PuenteStatistics
import PuenteSynthetic
import PuenteTesting
import Testing

@testable import PuenteIngest

/// A small returns layout used by the tests below (UTF-8 CSV, `;`).
let testProfileYAML = """
    id: test-retornos
    title: Registro de prueba
    agency: TEST
    register: test-retornos
    reportingCountry: SLV
    format: {type: csv, delimiter: ";", encoding: utf-8}
    columns:
      NUMERO_CASO: recordKey
      FECHA_INGRESO: eventDate
      SEXO: sex
      EDAD: age
      MUNICIPIO: municipality
      DEPARTAMENTO: department
    constants: {eventType: RETURN, nationality: SLV}
    values:
      sex: {M: [Masculino, H], F: [Femenino, Mujer]}
    dateFormats: [dd/MM/yyyy, excel]
    required: [recordKey, eventDate, sex]
    """

func testProfile(_ edit: (inout SourceProfile) -> Void = { _ in }) throws -> SourceProfile {
    var profile = try ProfileReader.read(yaml: testProfileYAML).get()
    edit(&profile)
    return profile
}

private let header = "NUMERO_CASO;FECHA_INGRESO;SEXO;EDAD;MUNICIPIO;DEPARTAMENTO\n"

func write(_ bytes: [UInt8], _ name: String) throws -> URL {
    let url = try Fixtures.tempDir().appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

func write(_ text: String, _ name: String = "export.csv") throws -> URL { try write(Array(text.utf8), name) }

/// What a store holds, to check that a failed import left nothing behind.
func storedState(_ store: any EventStore) async throws -> (events: Int, committed: Int, rejects: Int) {
    let events = try await store.countCells(groupBy: []).first?.count ?? 0
    let committed = try await store.imports(limit: 100).filter { $0.status == .committed }.count
    let rejects = try await store.rejectedRows(importID: nil, includeResolved: true, limit: 1000).count
    return (events, committed, rejects)
}

@Suite("Ingest: profiles, formats and bad input")
struct IngestTests {
    // MARK: Profiles

    @Test("A YAML profile's mistakes are all reported, each with its line")
    func profileProblems() {
        let yaml = """
            id: broken
            agency: TEST
            reportingCountry: El Salvador
            format: {type: csv, delimiter: ";;"}
            columns:
              FECHA: eventDate
              SEXO: sexo
            dateFormats: [dd/MM/yyyy, YYYY.DD]
            required: [sex, recordKey]
            colour: blue
            """
        guard case .failure(let errors) = ProfileReader.read(yaml: yaml) else {
            Issue.record("a broken profile was accepted"); return
        }
        let text = errors.problems.map(\.description)
        #expect(text.contains { $0.hasPrefix("line 7:") && $0.contains("`sexo`") && $0.contains("not a field") })
        #expect(text.contains { $0.hasPrefix("line 10:") && $0.contains("colour") })
        #expect(text.contains { $0.hasPrefix("line 3:") && $0.contains("alpha-3") })
        #expect(text.contains { $0.contains("delimiter") })
        #expect(text.contains { $0.contains("YYYY.DD") })
        #expect(text.contains { $0.contains("`recordKey` is fed by no column") })
        #expect(text.contains { $0.contains("eventType") })
        #expect(text.contains { $0.contains("`register`") })  // records are keyed on the register, not the profile
    }

    @Test("YAML syntax errors and duplicate keys name their line")
    func profileSyntax() {
        guard case .failure(let syntax) = ProfileReader.read(yaml: "id: a\ncolumns: [unclosed\n") else {
            Issue.record("bad YAML was accepted"); return
        }
        #expect(syntax.problems.first?.line != nil)
        guard case .failure(let twice) = ProfileReader.read(yaml: "id: a\nid: b\n") else {
            Issue.record("a duplicate key was accepted"); return
        }
        #expect(twice.problems.first?.message.contains("twice") == true)
    }

    // MARK: Formats

    @Test("The same rows read alike from CSV, gzip-compressed CSV and JSON Lines")
    func formatsAgree() async throws {
        let csv =
            header + "C-1;14/03/2016;Masculino;34;Ahuachapán;Ahuachapán\nC-2;15/03/2016;F;17;San Miguel;San Miguel\n"
            + "C-3;16/03/2016;X;20;Nowhere;\n"
        let csvURL = try write(csv)
        // gzip is the system's own tool: an independent writer of the format.
        let gzURL = csvURL.deletingLastPathComponent().appendingPathComponent("export-gz.csv.gz")
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(csvURL.path)' > '\(gzURL.path)'"]
        try gzip.run()
        gzip.waitUntilExit()
        let jsonl = """
            {"NUMERO_CASO": "C-1", "FECHA_INGRESO": "14/03/2016", "SEXO": "Masculino", "EDAD": 34, "MUNICIPIO": "Ahuachapán", "DEPARTAMENTO": "Ahuachapán", "extra": [1]}
            {"numero_caso": "C-2", "fecha_ingreso": "15/03/2016", "sexo": "F", "edad": "17", "municipio": "San Miguel", "departamento": "San Miguel"}
            {"NUMERO_CASO": "C-3", "FECHA_INGRESO": "16/03/2016", "SEXO": "X", "EDAD": 20, "MUNICIPIO": "Nowhere"}
            {"NUMERO_CASO": "C-4", "FECHA_INGRESO":
            """
        let jsonlURL = try write(jsonl, "export.jsonl")
        var outcomes: [[String]] = []
        for (url, type) in [(csvURL, SourceProfile.FormatType.csv), (gzURL, .csv), (jsonlURL, .jsonl)] {
            let store = try await StoreKind.sqliteMemory.makeStore()
            let profile = try testProfile { $0.format.type = type }
            let report = try await Importer(store: store).importFile(url, profile: profile)
            let id = try #require(report.importID)
            let events = try await store.events(importID: id, limit: 10)
            outcomes.append(
                events.map {
                    "\($0.source.recordKey) \($0.date) \($0.person.sex.rawValue) \($0.person.age ?? -1) \($0.person.residenceDivision ?? "")"
                })
            #expect(report.accepted == 2)
            #expect(report.counts.isBalanced)
            try await store.close()
        }
        #expect(
            outcomes[0] == ["test-retornos:C-1 2016-03-14 M 34 SV-0101", "test-retornos:C-2 2016-03-15 F 17 SV-1217"])
        #expect(outcomes[1] == outcomes[0])
        #expect(outcomes[2] == outcomes[0])
    }

    @Test("A broken JSON line is quarantined with its raw text, not dropped")
    func jsonLinesUnreadable() async throws {
        let url = try write(
            "{\"NUMERO_CASO\": \"C-1\", \"FECHA_INGRESO\": \"14/03/2016\", \"SEXO\": \"M\"}\nnot json at all\n",
            "x.jsonl")
        let store = try await StoreKind.sqliteMemory.makeStore()
        let report = try await Importer(store: store).importFile(
            url, profile: try testProfile { $0.format.type = .jsonl })
        #expect(report.read == 2 && report.accepted == 1 && report.rejected == 1)
        #expect(report.rejectionsByRule["unreadable"] == 1)
        let reject = try #require(try await store.rejectedRows(importID: report.importID, limit: 5).first)
        #expect(reject.values["(record)"] == "not json at all")
        try await store.close()
    }

    /// `retornos-prefixed.xlsx` holds the Excel-style workbook with every element under a namespace
    /// prefix (`<x:row>`), single-quoted attributes, a CDATA section and a character reference, stored
    /// without compression: a scanner of the bytes read it as empty.
    @Test(
        "XLSX from openpyxl (inline strings, dates, a named sheet), in Excel's own style (shared strings, rich text, gaps) and with namespace prefixes",
        arguments: [("retornos.xlsx", "Retornos"), ("retornos-excel-style.xlsx", nil), ("retornos-prefixed.xlsx", nil)]
            as [(String, String?)])
    func xlsx(file: String, sheet: String?) async throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(file)")
        let store = try await StoreKind.sqliteMemory.makeStore()
        let profile = try testProfile {
            $0.format = SourceProfile.Format(type: .xlsx, sheet: sheet)
            $0.values[.sex] = ["M": ["Masculino", "H"], "F": ["Femenino"]]
        }
        let report = try await Importer(store: store).importFile(url, profile: profile)
        let events = try await store.events(importID: try #require(report.importID), limit: 10)
        let seen = events.map {
            "\($0.source.recordKey) \($0.date) \($0.person.sex.rawValue) \($0.person.age.map(String.init) ?? "-") \($0.person.residenceDivision ?? "-")"
        }
        if file == "retornos.xlsx" {
            // C-4 has a sex the profile does not know; C-5 has no municipality, which is allowed.
            #expect(
                seen == [
                    "test-retornos:C-1 2016-03-14 M 34 SV-0101", "test-retornos:C-2 2016-03-15 F 17 SV-1217",
                    "test-retornos:C-3 2016-03-16 M - SV-0210", "test-retornos:C-5 2016-03-18 F 29 -",
                ])
            #expect(report.read == 5 && report.rejected == 1)
        } else {
            #expect(
                seen == ["test-retornos:C-1&2 2016-03-14 M 34 SV-0101", "test-retornos:C-3 2016-03-16 F - SV-0210"])
            #expect(report.read == 2 && report.rejected == 0)
        }
        try await store.close()
    }

    @Test(
        "A damaged workbook is refused with the part named: a checksum that does not match, XML that is not well formed"
    )
    func xlsxDamaged() async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/retornos-prefixed.xlsx")
        let original = try Data(contentsOf: fixture)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "puente-xlsx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        /// The fixture's parts are stored, so a sheet's bytes can be changed in place.
        func damaged(_ from: String, _ to: String) throws -> URL {
            let range = try #require(original.range(of: Data(from.utf8)))
            var bytes = original
            bytes.replaceSubrange(range, with: Data(to.utf8))
            let url = directory.appendingPathComponent("\(UUID().uuidString).xlsx")
            try bytes.write(to: url)
            return url
        }
        let store = try await StoreKind.sqliteMemory.makeStore()
        let profile = try testProfile { $0.format = .init(type: .xlsx) }
        // A digit changed in a value: the same length, so only the CRC-32 can tell.
        let changed = await #expect(throws: PuenteError.self) {
            try await Importer(store: store).importFile(
                try damaged("<x:v>42445</x:v>", "<x:v>42446</x:v>"), profile: profile)
        }
        #expect(changed?.message.contains("`xl/worksheets/hoja.xml` does not match its checksum") == true)
        // An end tag that does not match its start (same length, so the ZIP side is intact but the CRC).
        let malformed = await #expect(throws: PuenteError.self) {
            try await Importer(store: store).importFile(
                try damaged("<x:v>42445</x:v>", "<x:v>42445</x:w>"), profile: profile)
        }
        #expect(malformed?.message.contains("`xl/worksheets/hoja.xml` is not well-formed XML") == true)
        #expect(try await store.committedImports().isEmpty)
        try await store.close()
    }

    @Test("A sheet that is not there is named with the sheets that are")
    func xlsxMissingSheet() async throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/retornos.xlsx")
        let store = try await StoreKind.sqliteMemory.makeStore()
        let error = await #expect(throws: PuenteError.self) {
            try await Importer(store: store).importFile(
                url, profile: try testProfile { $0.format = .init(type: .xlsx, sheet: "Hoja9") })
        }
        #expect(error?.message.contains("`Retornos`") == true)
        try await store.close()
    }

    // MARK: Bad input

    /// Each malformed file either fails with a clear error or rejects rows with a reason, and leaves
    /// nothing half-written, on every store.
    @Test(
        "The malformed corpus gets clear errors or per-row rejections, and nothing half-written",
        arguments: StoreKind.available)
    func malformedCorpus(kind: StoreKind) async throws {
        let good = (1...2_500).map { "K-\($0);14/03/2016;M;30;Ahuachapán;Ahuachapán\n" }.joined()
        var garbage = RandomSource(seed: 9)
        let cp1252 =
            Array((header + "C-1;14/03/2016;M;30;").utf8) + [
                0x41, 0x68, 0x75, 0x61, 0x63, 0x68, 0x61, 0x70, 0xE1, 0x6E,
            ] + Array(";\n".utf8)
        let hundredMB =
            Array((header + "C-1;14/03/2016;M;30;").utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 100 << 20)
        let future = CivilDate.today.adding(days: 40)
        let futureText = String(format: "%02d/%02d/%04d", future.day, future.month, future.year)
        // (name, bytes, expected error text or nil for per-row rejections, rule expected then)
        let corpus: [(String, [UInt8], String?, String?)] = [
            ("empty", [], "empty", nil),
            ("header-only", Array(header.utf8), nil, nil),
            ("unclosed-quote", Array((header + good + "C-9;\"14/03/2016;M;30;X;Y\n").utf8), "closing quote", nil),
            ("long-line", hundredMB, "longer than 1 MiB", nil),
            // Garbage has no header the profile knows (read as Windows-1252 when the encoding is detected).
            ("binary", (0..<200_000).map { _ in UInt8(truncatingIfNeeded: garbage.next()) }, "NUMERO_CASO", nil),
            ("wrong-encoding", cp1252, "not valid UTF-8", nil),
            ("missing-column", Array("NUMERO_CASO;FECHA_INGRESO;EDAD\nC-1;14/03/2016;30\n".utf8), "SEXO", nil),
            (
                "extra-fields", Array((header + "C-1;14/03/2016;M;30;Ahuachapán;Ahuachapán;sobra\n").utf8), nil,
                "column_count"
            ),
            (
                "duplicate-header", Array("NUMERO_CASO;FECHA_INGRESO;SEXO;SEXO\nC-1;14/03/2016;M;F\n".utf8),
                "more than once", nil
            ),
            ("future-date", Array((header + "C-1;\(futureText);M;30;;\n").utf8), nil, "date_in_future"),
            ("control-characters", Array((header + "C-1;14/03/2016;M\u{0};30;;\n").utf8), nil, "text_characters"),
        ]
        for (name, bytes, expectedError, rule) in corpus {
            let store = try await kind.makeStore()
            let url = try write(bytes, "\(name).csv")
            defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }  // 100 MB for one
            var importer = Importer(store: store)
            importer.batchSize = 1_000  // several batches are written before the unclosed quote is found
            let profile = try testProfile { if name == "binary" { $0.format.encoding = nil } }
            if let expectedError {
                let error = await #expect(throws: PuenteError.self, "\(name)") {
                    try await importer.importFile(url, profile: profile)
                }
                #expect(error?.message.contains(expectedError) == true, "\(name): \(error?.message ?? "")")
                #expect(error?.location?.file == "\(name).csv", "\(name)")
                let state = try await storedState(store)
                #expect(state.events == 0 && state.committed == 0 && state.rejects == 0, "\(name) left \(state)")
            } else {
                let report = try await importer.importFile(url, profile: profile)
                #expect(report.counts.isBalanced, "\(name)")
                if let rule {
                    #expect(report.rejectionsByRule[rule] == 1, "\(name): \(report.rejectionsByRule)")
                    let reject = try await store.rejectedRows(importID: report.importID, limit: 5)
                    #expect(reject.count == 1, "\(name)")
                } else {
                    #expect(report.read == 0, "\(name)")
                }
            }
            try await store.close()
        }
    }

    // MARK: Corrections

    @Test(
        "Rejects exported, corrected and loaded again are resolved; rolling the correction back reopens them",
        arguments: StoreKind.available)
    func rejectsRoundTrip(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let profile = try testProfile()
        let original = try write(
            header + "C-1;14/03/2016;M;30;Ahuachapán;Ahuachapán\nC-2;31/02/2016;F;20;;\nC-3;15/03/2016;Q;20;;\n")
        let first = try await Importer(store: store).importFile(original, profile: profile)
        #expect(first.rejected == 2)
        let rejects = try await store.rejectedRows(importID: first.importID, limit: 10)
        #expect(rejects.map(\.row) == [2, 3])

        // The clerk fixes the date of C-2 but not the sex of C-3.
        let exported = String(decoding: RejectsFile.render(rejects, profile: profile), as: UTF8.self)
        #expect(
            exported.hasPrefix(
                "NUMERO_CASO;FECHA_INGRESO;SEXO;EDAD;MUNICIPIO;DEPARTAMENTO;puente_reject_id;puente_reasons\n"))
        let corrected = try write(exported.replacingOccurrences(of: "31/02/2016", with: "28/02/2016"), "corregido.csv")
        let second = try await Importer(store: store).importFile(corrected, profile: profile)
        #expect(second.accepted == 1 && second.rejected == 1 && second.resolvedRejects == 2)
        let outstanding = try await store.rejectedRows(importID: nil, limit: 10)
        #expect(outstanding.map { "\($0.importID) \($0.values["NUMERO_CASO"] ?? "")" } == ["\(second.importID!) C-3"])
        #expect(outstanding.first?.values[RejectedRow.idColumn] == nil)
        #expect(try await store.rejectedRows(importID: nil, includeResolved: true, limit: 10).count == 3)

        try await store.rollbackImport(try #require(second.importID))
        #expect(try await store.rejectedRows(importID: nil, limit: 10).map(\.row) == [2, 3])
        try await store.close()
    }

    // MARK: Harmonisation

    @Test("Municipality names resolve against the geography in force on the event date")
    func versionedGeography() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        // "San Salvador Centro" exists since 1 May 2024; "Apopa" (a municipality, then a district) always.
        let url = try write(
            header
                + "A;10/06/2024;M;30;San Salvador Centro;San Salvador\nB;10/06/2016;M;30;San Salvador Centro;San Salvador\n"
                + "C;10/06/2024;F;30;Apopa;San Salvador\nD;10/06/2016;F;30;Apopa;San Salvador\n")
        let report = try await Importer(store: store).importFile(url, profile: try testProfile())
        let events = try await store.events(importID: try #require(report.importID), limit: 10)
        let division = Dictionary(
            uniqueKeysWithValues: events.map { ($0.source.recordKey, $0.person.residenceDivision ?? "") })
        #expect(division["test-retornos:A"]?.hasPrefix("SV-M") == true)
        #expect(division["test-retornos:B"] == nil)
        #expect(division["test-retornos:C"] == division["test-retornos:D"])
        #expect(report.rejectionsByRule["code_exists"] == 1)
        try await store.close()
    }

    @Test("Rules: exit not before its entry, age range from the profile, ages derived at the event date")
    func rules() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let profile = try testProfile {
            $0.columns = [
                .init(name: "ID", field: .recordKey), .init(name: "TIPO", field: .eventType),
                .init(name: "FECHA", field: .eventDate), .init(name: "ENTRADA", field: .entryDate),
                .init(name: "SEXO", field: .sex), .init(name: "NACIMIENTO", field: .birthDate),
            ]
            $0.constants = [:]
            $0.values[.eventType] = ["EXIT": ["SALIDA"], "ENTRY": ["ENTRADA"]]
            $0.ageRange = 0...99
        }
        let url = try write(
            "ID;TIPO;FECHA;ENTRADA;SEXO;NACIMIENTO\n1;SALIDA;10/03/2016;01/03/2016;M;15/03/1990\n"
                + "2;SALIDA;10/03/2016;20/03/2016;M;15/03/1990\n3;ENTRADA;10/03/2016;;F;01/01/1910\n")
        let report = try await Importer(store: store).importFile(url, profile: profile)
        #expect(report.accepted == 1)
        #expect(report.rejectionsByRule == ["exit_after_entry": 1, "age_range": 1])
        let importID = try #require(report.importID)
        let event = try #require(try await store.events(importID: importID, limit: 1).first)
        #expect(event.person.age == 25)  // 15 March 1990 → 25 on 10 March 2016, not 26
        try await store.close()
    }

    @Test(
        "A UTF-16 file with its byte-order mark (Excel's Unicode text) is read as such, whatever the profile declares; a broken one is refused by byte"
    )
    func utf16() async throws {
        let text =
            header + "1;10/03/2016;M;30;San Salvador;San Salvador\n2;11/03/2016;Mujer;25;Santa Ana;Santa Ana\n"
            + "3;12/03/2016;F;41;Ahuachapán;Ahuachapán\n"
        func utf16(_ text: String, bigEndian: Bool) -> [UInt8] {
            (bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE])
                + text.utf16.flatMap {
                    bigEndian ? [UInt8($0 >> 8), UInt8($0 & 0xFF)] : [UInt8($0 & 0xFF), UInt8($0 >> 8)]
                }
        }
        // The profile says UTF-8 (and the shipped ones Windows-1252): the mark says otherwise, and wins.
        for bigEndian in [false, true] {
            let store = try await StoreKind.sqliteMemory.makeStore()
            let url = try write(utf16(text, bigEndian: bigEndian), "unicode-\(bigEndian).txt")
            let report = try await Importer(store: store).importFile(url, profile: try testProfile())
            #expect(report.accepted == 3 && report.rejected == 0, "\(report.rejectionsByRule)")
            let events = try await store.events(importID: try #require(report.importID), limit: 10)
            #expect(Set(events.compactMap(\.person.residenceDivision)).count == 3)
            try await store.close()
        }
        // A lone surrogate is refused, naming where it stands; nothing is stored.
        let store = try await StoreKind.sqliteMemory.makeStore()
        var broken = utf16(header + "1;10/03/2016;M;30;San Salvador;San Salvador\n", bigEndian: false)
        broken += [0x00, 0xD8, 0x41, 0x00]  // a high surrogate, then "A"
        let error = await #expect(throws: PuenteError.self) {
            try await Importer(store: store).importFile(try write(broken, "broken.txt"), profile: try testProfile())
        }
        #expect(error?.message.contains("UTF-16") == true && error?.message.contains("byte") == true)
        #expect(try await storedState(store) == (0, 0, 0))
        try await store.close()
    }

    @Test("UTF-16 decodes to the same text whatever the chunks the file arrives in, surrogate pairs included")
    func utf16Chunks() throws {
        let text = "José Ñandú 😀 Ω;x\n𝄞 end"
        for bigEndian in [false, true] {
            let bytes =
                (bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE] as [UInt8])
                + text.utf16.flatMap {
                    bigEndian ? [UInt8($0 >> 8), UInt8($0 & 0xFF)] : [UInt8($0 & 0xFF), UInt8($0 >> 8)]
                }
            #expect(UTF16ByteSource.order(ofStart: bytes) == (bigEndian ? .bigEndian : .littleEndian))
            for size in 1...9 {
                var source = UTF16ByteSource(
                    Chunks(bytes: bytes, size: size), order: bigEndian ? .bigEndian : .littleEndian, file: "t")
                var out: [UInt8] = []
                while let chunk = try source.next() { out += chunk }
                #expect(String(decoding: out, as: UTF8.self) == text, "chunks of \(size)")
            }
        }
    }

    @Test("A profile copied under a new id recognises the records the old one stored")
    func recordsKeyedOnTheRegister() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let first = try write(
            header + "1;10/03/2016;M;30;San Salvador;San Salvador\n2;11/03/2016;F;25;San Salvador;San Salvador\n")
        #expect(try await Importer(store: store).importFile(first, profile: try testProfile()).accepted == 2)
        // A new layout of the same register: the statistician copies the profile under another id.
        let copy = try testProfile { $0.id = "test-retornos-2017" }
        let second = try write(
            header + "2;11/03/2016;F;25;San Salvador;San Salvador\n3;12/03/2016;M;40;San Salvador;San Salvador\n",
            "export-2017.csv")
        let report = try await Importer(store: store).importFile(second, profile: copy)
        #expect(report.accepted == 1 && report.duplicates == 1)
        #expect(try await store.countCells(groupBy: []).first?.count == 3)
        // Another register of the same agency keeps its own record ids.
        let other = try testProfile {
            $0.id = "test-movimientos"; $0.register = "test-movimientos"
        }
        let movements = try write(
            header + "1;13/03/2016;M;33;San Salvador;San Salvador\n2;14/03/2016;F;52;San Salvador;San Salvador\n",
            "movimientos.csv")
        #expect(try await Importer(store: store).importFile(movements, profile: other).accepted == 2)
        try await store.close()
    }

    @Test("Placeholder checks give what folding each value and looking it up gives, for any spelling")
    func placeholderMatchingEqualsFolding() {
        let listed: [Placeholders.Kind: [String]] = [
            .document: ["S/N", "no tiene", "en trámite", "ningún", "año desconocido", "x"],
            .date: ["00/00/0000", "sin dato"],
            .name: ["N.N.", "ignorado", "señor x", "straße", "Øster"],
        ]  // the last two fold beyond ASCII
        let placeholders = Placeholders(values: listed.mapValues { Set($0.map { TextFolding.fold($0) }) })
        // The plain rule: fold (case, accents, spacing) and look up; no letter or digit at all is a
        // placeholder; a document of one digit repeated is one.
        func expected(_ text: String, _ kind: Placeholders.Kind) -> Bool {
            guard !text.isEmpty else { return false }
            if text.unicodeScalars.allSatisfy({ $0.isASCII && !$0.properties.isAlphabetic && !("0"..."9").contains($0) }
            ) {
                return true
            }
            if kind == .document, let first = text.first, first.isASCII, first.isNumber,
                text.allSatisfy({ $0 == first })
            {
                return true
            }
            return Set(listed[kind]!.map { TextFolding.fold($0) }).contains(TextFolding.fold(text))
        }
        var generator = SystemRandomNumberGenerator()
        let pieces = [
            "s", "S", "/", "n", "N", " ", "  ", "-", ".", "no", "NO", "tiene", "TIENE", "trámite", "TRÁMITE", "tramite",
            "ningún", "NINGÚN", "año", "AÑO", "ano", "desconocido", "0", "00/", "sin", "dato", "ignorado", "IGNORADO",
            "señor", "SEÑOR", "x", "X", "STRAßE", "straße", "ØSTER", "øster", "e\u{301}", "ü", "€", "😀", "ø", "ß",
            "María", "Pérez", "1", "7", "Ω", "\t",
        ]
        var texts =
            listed.values.flatMap { $0 } + [
                "", " ", "--", "000000", "99999", "0", "ÑÚÑEZ", "S / N", " no  tiene ",
                "EN TRAMITE", "En Trámite", "Ningun", "x\u{301}", "señor  X", "N. N.", "nn",
            ]
        for _ in 0..<20_000 {
            texts.append(
                (0..<Int.random(in: 1...5, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                    .joined())
        }
        for text in texts {
            for kind in Placeholders.Kind.allCases {
                #expect(
                    placeholders.contains(text, kind) == expected(text, kind),
                    "\(kind): \(text.unicodeScalars.map { String($0.value, radix: 16) })")
            }
        }
    }

    @Test(
        "Placeholders for unknown values are stored as missing, so documents and birth dates are counted only when real"
    )
    func placeholdersAreMissing() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let profile = try testProfile {
            $0.columns += [
                .init(name: "NOMBRE", field: .givenNames), .init(name: "NACIMIENTO", field: .birthDate),
                .init(name: "DUI", field: .documentNumber),
            ]
            $0.placeholders = [.document: ["EN TRAMITE"]]
        }
        let rows = [
            "1;10/03/2016;M;30;San Salvador;San Salvador;Ana;05/03/1986;01234567-8",
            "2;10/03/2016;F;41;San Salvador;San Salvador;NN;01/01/1900;S/N",
            "3;10/03/2016;F;25;San Salvador;San Salvador;N/N;00/00/0000;NO TIENE",
            "4;10/03/2016;M;33;San Salvador;San Salvador;Luis;;000000",
            "5;10/03/2016;M;52;San Salvador;San Salvador;José;;En trámite",
        ]
        let url = try write(header.dropLast() + ";NOMBRE;NACIMIENTO;DUI\n" + rows.joined(separator: "\n") + "\n")
        let report = try await Importer(store: store).importFile(url, profile: profile)
        #expect(report.accepted == 5 && report.rejected == 0)
        let events = try await store.events(importID: try #require(report.importID), limit: 10).sorted {
            $0.source.row < $1.source.row
        }
        #expect(events.map { $0.person.documentNumber != nil } == [true, false, false, false, false])
        #expect(events.map { $0.person.birthDate != nil } == [true, false, false, false, false])
        #expect(events.map { $0.person.givenNames != nil } == [true, false, false, true, true])
        #expect(events.map(\.person.age) == [30, 41, 25, 33, 52])  // the age column, not a birth in 1900
        let coverage = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .coverageDocument), policy: .unprotected)
        #expect(coverage.total.value == 20)
        try await store.close()
    }

    @Test("A child's blank unaccompanied flag is unknown, and the unaccompanied share leaves it out of both parts")
    func blankUnaccompaniedFlag() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let profile = try testProfile {
            $0.columns.append(.init(name: "NNA", field: .unaccompanied))
            $0.values[.unaccompanied] = ["true": ["SI"], "false": ["NO"]]
        }
        // Children: one unaccompanied, one accompanied, two with a blank flag; and an adult with a blank flag.
        let rows = [
            "1;10/03/2016;M;12;San Salvador;San Salvador;SI", "2;10/03/2016;F;9;San Salvador;San Salvador;NO",
            "3;10/03/2016;F;15;San Salvador;San Salvador;", "4;10/03/2016;M;7;San Salvador;San Salvador;",
            "5;10/03/2016;M;30;San Salvador;San Salvador;",
        ]
        let url = try write(header.dropLast() + ";NNA\n" + rows.joined(separator: "\n") + "\n")
        let report = try await Importer(store: store).importFile(url, profile: profile)
        #expect(report.accepted == 5)
        let events = try await store.events(importID: try #require(report.importID), limit: 10)
        let status = Dictionary(uniqueKeysWithValues: events.map { ($0.source.row, $0.returnDetails?.childStatus) })
        #expect(status == [1: .unaccompanied, 2: .accompanied, 3: nil, 4: nil, 5: .adult])
        let share = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .unaccompaniedShare), policy: .unprotected)
        #expect(share.total.value == 50)  // 1 of the 2 children whose status is known
        let byStatus = try await StatisticsEngine(store: store).run(
            StatisticsQuery(measure: .returns, by: [.childStatus]),
            policy: .unprotected)
        #expect(byStatus.cells.first { $0.key == ["_U"] }?.value == 2)
        try await store.close()
    }
}

@Test("Field ordinals are dense and distinct")
func fieldOrdinals() {
    #expect(Set(Field.allCases.map(\.ordinal)) == Set(0..<Field.allCases.count))
}

/// Bytes handed out in chunks of a fixed size.
private struct Chunks: ByteSource {
    let bytes: [UInt8]
    let size: Int
    var position = 0
    var fractionRead: Double { Double(position) / Double(max(bytes.count, 1)) }
    mutating func next() throws -> [UInt8]? {
        guard position < bytes.count else { return nil }
        defer { position += size }
        return Array(bytes[position..<min(position + size, bytes.count)])
    }
}
