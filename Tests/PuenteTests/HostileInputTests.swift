import CZlib
import Foundation
import PuenteCore
import PuenteTesting
import Testing

@testable import PuenteIngest

/// Hostile and broken files, made here byte by byte: each is refused with a clear error naming the
/// file (and what was expected), or read with its bad rows rejected one by one; nothing of a refused
/// file is stored, and decompression never holds more than a chunk whatever the file inflates to.
@Suite("Ingest: hostile files")
struct HostileInputTests {
    /// What a file of the corpus must come to.
    enum Outcome {
        /// Refused whole: the error's message holds this.
        case refused(String)
        /// Read: this many rows accepted and this many rejected.
        case read(accepted: Int, rejected: Int)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: @Sendable () -> [UInt8]
        var format: SourceProfile.Format
        var outcome: Outcome
        var testDescription: String { name }
    }

    static let header = "NUMERO_CASO;FECHA_INGRESO;SEXO;EDAD;MUNICIPIO;DEPARTAMENTO\n"
    static let row = "C-1;14/03/2016;M;34;;\n"
    static let csv = SourceProfile.Format(type: .csv, delimiter: ";", encoding: .utf8)
    static let detected = SourceProfile.Format(type: .csv, delimiter: ";")
    static let xlsx = SourceProfile.Format(type: .xlsx)
    static let jsonl = SourceProfile.Format(type: .jsonl)

    static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Seeded bytes, so a failure reproduces.
    static func noise(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    static let corpus: [Case] = [
        Case(name: "empty file", bytes: { [] }, format: csv, outcome: .refused("header")),
        Case(name: "random bytes", bytes: { noise(4096, seed: 7) }, format: detected, outcome: .refused("column")),
        Case(
            name: "a PNG named .csv",
            bytes: { [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + noise(2048, seed: 3) },
            format: detected, outcome: .refused("column")),
        Case(
            name: "invalid UTF-8 under a utf-8 profile", bytes: { text(header + row) + [0xFF, 0xFE, 0x3B, 0x0A] },
            format: csv, outcome: .refused("not valid UTF-8 from line 3 on")),
        Case(
            name: "an unclosed quote", bytes: { text(header + "\"C-1;14/03/2016;M;34;;\n" + row) }, format: csv,
            outcome: .refused("closing quote is missing")),
        Case(
            name: "an 8 MiB line", bytes: { text(header) + [UInt8](repeating: 0x61, count: 8 << 20) }, format: csv,
            outcome: .refused("longer than 1 MiB")),
        Case(
            name: "UTF-16 with half a character",
            bytes: { [0xFF, 0xFE] + utf16LE(header) + [0x00, 0xD8, 0x41, 0x00] },
            format: csv, outcome: .refused("lone surrogate")),
        Case(
            name: "a gzip bomb (64 MiB of one letter, no newline)",
            bytes: { gzip(text(header)) + gzipRepeating(0x61, megabytes: 64) }, format: csv,
            outcome: .refused("longer than 1 MiB")),
        Case(
            name: "a truncated gzip file", bytes: { Array(gzip(text(header + row + row)).dropLast(12)) }, format: csv,
            outcome: .refused("truncated")),
        Case(name: "text named .xlsx", bytes: { text(header + row) }, format: xlsx, outcome: .refused("not an XLSX")),
        Case(
            name: "a ZIP without its directory", bytes: { [0x50, 0x4B, 0x03, 0x04] + noise(300, seed: 11) },
            format: xlsx, outcome: .refused("no ZIP directory")),
        Case(
            name: "a ZIP bomb sheet (64 MiB of zeros)",
            bytes: { workbook(sheet: .deflated(zeros(64 << 20))) }, format: xlsx, outcome: .refused("sheet1.xml")),
        Case(
            name: "a part inflating past its declared size",
            bytes: { workbook(sheet: .deflated(zeros(8 << 20), declaredSize: 100)) }, format: xlsx,
            outcome: .refused("inflates to more than")),
        Case(
            name: "shared strings declaring 300 MiB",
            bytes: {
                workbook(
                    sheet: .stored(sheetXML(rows: 1)), sharedStrings: .stored(text("<sst/>"), declaredSize: 300 << 20))
            },
            format: xlsx, outcome: .refused("declares 300 MiB")),
        Case(
            name: "an unsupported compression method",
            bytes: { workbook(sheet: .stored(sheetXML(rows: 1), method: 12)) }, format: xlsx,
            outcome: .refused("unsupported compression")),
        Case(
            name: "an entity expansion bomb", bytes: { workbook(sheet: .stored(text(entityBomb))) }, format: xlsx,
            outcome: .refused("sheet1.xml")),
        Case(
            name: "an external entity", bytes: { workbook(sheet: .stored(text(externalEntity))) }, format: xlsx,
            outcome: .refused("sheet1.xml")),
        Case(
            name: "an 8 MiB JSON line",
            bytes: { text("{\"NUMERO_CASO\": \"") + [UInt8](repeating: 0x61, count: 8 << 20) },
            format: jsonl, outcome: .refused("longer than 1 MiB")),
        Case(
            name: "10,000 extra columns",
            bytes: {
                let extra = (1...10_000).map { "X\($0)" }.joined(separator: ";")
                let values = [String](repeating: "v", count: 10_000).joined(separator: ";")
                return text(header.dropLast() + ";" + extra + "\n" + row.dropLast() + ";" + values + "\n")
            }, format: csv, outcome: .read(accepted: 1, rejected: 0)),
        Case(
            name: "rows with too few and too many fields",
            bytes: { text(header + row + "C-2;14/03/2016\n" + "C-3;14/03/2016;M;34;;;;;\n") }, format: csv,
            outcome: .read(accepted: 1, rejected: 2)),
        Case(
            name: "control characters in values",
            bytes: { text(header + row + "C-\u{0}2;14/03/2016;M;34;;\n" + "C-3;14/03/2016;M\u{1B}[31m;34;;\n") },
            format: csv, outcome: .read(accepted: 1, rejected: 2)),
        Case(
            name: "formulas in cells, kept as text and never evaluated",
            bytes: {
                text(
                    header + "=1+1;14/03/2016;M;34;;\n" + "C-2;14/03/2016;=HYPERLINK(\"http://x\";\"M\");34;;\n"
                        + "C-3;@SUM(1);M;34;;\n")
            }, format: csv, outcome: .read(accepted: 1, rejected: 2)),
        Case(
            name: "JSON lines that are not objects, or nested 100,000 deep",
            bytes: {
                text("{\"NUMERO_CASO\":\"C-1\",\"FECHA_INGRESO\":\"14/03/2016\",\"SEXO\":\"M\"}\n[1,2]\nnot json\n")
                    + [UInt8](repeating: UInt8(ascii: "["), count: 100_000) + text("\n")
            }, format: jsonl, outcome: .read(accepted: 1, rejected: 3)),
        Case(
            name: "UTF-16 little-endian with its mark, under a utf-8 profile",
            bytes: { [0xFF, 0xFE] + utf16LE(header + row) }, format: csv, outcome: .read(accepted: 1, rejected: 0)),
        Case(
            name: "Windows-1252 accents, detected",
            bytes: { text(header) + Array("C-1;14/03/2016;M;34;;".utf8) + [0xE9, 0x0A] },
            format: detected, outcome: .read(accepted: 1, rejected: 0)),
    ]

    @Test(
        "Each file of the corpus is refused with a clear error, or read with its bad rows rejected", arguments: corpus)
    func corpusFile(_ file: Case) async throws {
        let url = try write(file.bytes(), "hostile" + (file.format.type == .xlsx ? ".xlsx" : ".csv"))
        let store = try await StoreKind.sqliteMemory.makeStore()
        let profile = try testProfile { $0.format = file.format }
        switch file.outcome {
        case .refused(let fragment):
            let error = await #expect(throws: PuenteError.self) {
                try await Importer(store: store).importFile(url, profile: profile)
            }
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "no error")")
            #expect(error?.location?.file == url.lastPathComponent)
            let state = try await storedState(store)
            #expect(state.events == 0 && state.committed == 0)
        case .read(let accepted, let rejected):
            let report = try await Importer(store: store).importFile(url, profile: profile)
            #expect(report.accepted == accepted && report.rejected == rejected, "\(report)")
            if file.name.hasPrefix("formulas") {
                let keys = try await store.events(importID: try #require(report.importID), limit: 10).map(
                    \.source.recordKey)
                #expect(keys == ["test-retornos:=1+1"])
            }
        }
        try await store.close()
    }

    @Test("Decompression hands out about a chunk at a time, whatever the data inflates to")
    func boundedInflation() throws {
        // 256 MiB of one letter in 1 MiB gzip members: a few hundred kilobytes on disk.
        let gz = try write(Self.gzipRepeating(0x61, megabytes: 256), "bomb.csv.gz")
        var source = try GzipByteSource(handle: try FileHandle(forReadingFrom: gz), file: "bomb.csv.gz")
        var largest = 0
        var total = 0
        while let chunk = try source.next() {
            largest = max(largest, chunk.count)
            total += chunk.count
        }
        #expect(total == 256 << 20 && largest <= (1 << 20) + (1 << 16))

        let xlsx = try write(Self.workbook(sheet: .deflated(Self.zeros(256 << 20))), "bomb.xlsx")
        let archive = try ZipArchive(handle: try FileHandle(forReadingFrom: xlsx), file: "bomb.xlsx")
        var entry = try archive.open("xl/worksheets/sheet1.xml")
        largest = 0
        total = 0
        while let chunk = try entry.next() {
            largest = max(largest, chunk.count)
            total += chunk.count
        }
        #expect(total == 256 << 20 && largest <= (1 << 20) + (1 << 16))
    }

    // MARK: Making the files

    static func utf16LE(_ s: String) -> [UInt8] { s.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

    static func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }

    /// zlib's deflate over `input`, as gzip or raw (ZIP) deflate.
    static func deflate(_ input: [UInt8], gzip: Bool) -> [UInt8] {
        var stream = z_stream()
        precondition(
            deflateInit2_(
                &stream, 9, Z_DEFLATED, gzip ? 31 : -15, 9, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            var status: Int32 = Z_OK
            repeat {
                buffer.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    status = CZlib.deflate(&stream, Z_FINISH)
                }
                out += buffer[..<(buffer.count - Int(stream.avail_out))]
            } while status == Z_OK
        }
        return out
    }

    static func gzip(_ input: [UInt8]) -> [UInt8] { deflate(input, gzip: true) }

    /// `megabytes` gzip members of 1 MiB of `byte` each (`cat a.gz a.gz` is a gzip file too).
    static func gzipRepeating(_ byte: UInt8, megabytes: Int) -> [UInt8] {
        let member = gzip([UInt8](repeating: byte, count: 1 << 20))
        return [UInt8]((0..<megabytes).map { _ in member }.joined())
    }

    /// A ZIP entry as a test writes it: its bytes, how they are stored, and the size its directory
    /// declares (the real one unless a test lies).
    struct Part {
        var data: [UInt8]
        var method: UInt16
        var size: Int
        var crc: UInt32

        static func stored(_ data: [UInt8], method: UInt16 = 0, declaredSize: Int? = nil) -> Part {
            Part(data: data, method: method, size: declaredSize ?? data.count, crc: crc32(data))
        }

        static func deflated(_ data: [UInt8], declaredSize: Int? = nil) -> Part {
            Part(
                data: HostileInputTests.deflate(data, gzip: false), method: 8, size: declaredSize ?? data.count,
                crc: crc32(data))
        }

        static func crc32(_ data: [UInt8]) -> UInt32 {
            UInt32(data.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, uInt($0.count)) })
        }
    }

    static func sheetXML(rows: Int) -> [UInt8] {
        text(
            "<worksheet><sheetData>"
                + (0...rows).map { r in
                    "<row r=\"\(r + 1)\">"
                        + (r == 0 ? ["NUMERO_CASO", "FECHA_INGRESO", "SEXO"] : ["C-\(r)", "14/03/2016", "M"]).map {
                            "<c t=\"inlineStr\"><is><t>\($0)</t></is></c>"
                        }.joined() + "</row>"
                }.joined() + "</sheetData></worksheet>")
    }

    static let entityBomb = """
        <?xml version="1.0"?>
        <!DOCTYPE worksheet [
        <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
        <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
        <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
        <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
        <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
        ]>
        <worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>NUMERO_CASO</t></is></c></row>
        <row r="2"><c t="inlineStr"><is><t>&e;</t></is></c></row></sheetData></worksheet>
        """

    static let externalEntity = """
        <?xml version="1.0"?>
        <!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/hostname">]>
        <worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>NUMERO_CASO</t></is></c></row>
        <row r="2"><c t="inlineStr"><is><t>&x;</t></is></c></row></sheetData></worksheet>
        """

    /// A workbook with one sheet (and shared strings when given), as ZIP bytes.
    static func workbook(sheet: Part, sharedStrings: Part? = nil) -> [UInt8] {
        var parts: [(String, Part)] = [
            (
                "xl/workbook.xml",
                .stored(text("<workbook><sheets><sheet name=\"S\" r:id=\"rId1\" xmlns:r=\"r\"/></sheets></workbook>"))
            ),
            ("xl/worksheets/sheet1.xml", sheet),
        ]
        if let sharedStrings { parts.append(("xl/sharedStrings.xml", sharedStrings)) }
        return zip(parts)
    }

    static func zip(_ parts: [(String, Part)]) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(v >> ($0 * 8) & 0xFF) } }
        var out: [UInt8] = []
        var directory: [UInt8] = []
        for (name, part) in parts {
            let offset = out.count
            let fields =
                u16(20) + u16(0) + u16(Int(part.method)) + u16(0) + u16(0) + u32(Int(part.crc))
                + u32(part.data.count) + u32(part.size) + u16(name.utf8.count) + u16(0)
            out += u32(0x0403_4b50) + fields + Array(name.utf8) + part.data
            directory +=
                u32(0x0201_4b50) + u16(20) + fields + u16(0) + u16(0) + u16(0) + u32(0) + u32(offset)
                + Array(name.utf8)
        }
        let start = out.count
        out += directory
        out +=
            u32(0x0605_4b50) + u16(0) + u16(0) + u16(parts.count) + u16(parts.count) + u32(directory.count)
            + u32(start) + u16(0)
        return out
    }
}
