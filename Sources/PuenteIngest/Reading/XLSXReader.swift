import Foundation
import PuenteCore

/// Reads the rows of one sheet of an XLSX workbook as text, streaming the sheet so that memory holds
/// one chunk of it (and the workbook's shared strings), whatever the number of rows. The parts are
/// parsed as XML by libxml2, so namespace prefixes (`<x:row>`), either kind of quote, entities,
/// CDATA and encodings other than UTF-8 read as they should.
struct XLSXReader {
    let archive: ZipArchive
    let sheetPart: String
    let sharedStrings: [String]

    init(handle: FileHandle, file: String, sheet: String?) throws {
        archive = try ZipArchive(handle: handle, file: file)
        let sheets = try Self.parse("xl/workbook.xml", of: archive, with: WorkbookHandler()).sheets
        guard let chosen = sheet.map({ wanted in sheets.first { $0.name == wanted } }) ?? sheets.first else {
            let names = sheets.map { "`\($0.name)`" }.joined(separator: ", ")
            throw PuenteError(
                .invalidInput,
                sheet == nil
                    ? "The workbook has no sheet."
                    : "The workbook has no sheet `\(sheet!)`; its sheets are \(names).", at: InputLocation(file: file))
        }
        var target = "worksheets/sheet1.xml"
        if archive.entries["xl/_rels/workbook.xml.rels"] != nil,
            let t = try Self.parse("xl/_rels/workbook.xml.rels", of: archive, with: RelationshipsHandler()).targets[
                chosen.relationship]
        {
            target = t
        }
        sheetPart = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        sharedStrings =
            archive.entries["xl/sharedStrings.xml"] == nil
            ? []
            : try Self.parse("xl/sharedStrings.xml", of: archive, with: SharedStringsHandler()).strings
    }

    /// Runs a whole (small) part through `handler`.
    static func parse<Handler: XMLStreamHandler>(_ part: String, of archive: ZipArchive, with handler: Handler) throws
        -> Handler
    {
        var source = try archive.openWhole(part)
        let stream = try XMLStream(handler: handler, part: part, file: archive.file)
        while let chunk = try source.next() { try stream.feed(chunk) }
        try stream.finish()
        return handler
    }

    /// The rows of the sheet, a chunk at a time.
    func rows() throws -> Rows {
        let handler = SheetHandler(sharedStrings: sharedStrings)
        return Rows(
            source: try archive.open(sheetPart), handler: handler,
            stream: try XMLStream(handler: handler, part: sheetPart, file: archive.file))
    }

    struct Rows {
        var source: ZipArchive.EntrySource
        let handler: SheetHandler
        let stream: XMLStream
        var done = false
        var fractionRead: Double { source.fractionRead }

        /// The rows completed by the next chunk of the sheet (each with its cells and row number), or
        /// `nil` at the end.
        mutating func next() throws -> [([String], Int)]? {
            while handler.rows.isEmpty && !done {
                if let chunk = try source.next() {
                    try stream.feed(chunk)
                } else {
                    try stream.finish()
                    done = true
                }
            }
            guard !handler.rows.isEmpty else { return nil }
            defer { handler.rows.removeAll(keepingCapacity: true) }
            return handler.rows
        }
    }

    /// `C12` → 2 (0-based column of an A1 reference).
    static func columnIndex(_ reference: String) -> Int {
        var n = 0
        for b in reference.utf8 {
            guard b >= UInt8(ascii: "A"), b <= UInt8(ascii: "Z") else { break }
            n = n * 26 + Int(b - UInt8(ascii: "A") + 1)
        }
        return max(n - 1, 0)
    }
}

/// The sheets of `xl/workbook.xml`: name and relationship id, in workbook order.
final class WorkbookHandler: XMLStreamHandler {
    var sheets: [(name: String, relationship: String)] = []

    func start(_ element: XMLName, _ attributes: XMLAttributes) {
        guard element.is("sheet") else { return }
        sheets.append((attributes["name"] ?? "", attributes["id", qualified: true] ?? ""))
    }
    func end(_ element: XMLName) {}
    func characters(_ text: UnsafeBufferPointer<UInt8>) {}
}

/// The targets of `xl/_rels/workbook.xml.rels`, by relationship id.
final class RelationshipsHandler: XMLStreamHandler {
    var targets: [String: String] = [:]

    func start(_ element: XMLName, _ attributes: XMLAttributes) {
        guard element.is("Relationship"), let id = attributes["Id"], let target = attributes["Target"] else { return }
        targets[id] = target
    }
    func end(_ element: XMLName) {}
    func characters(_ text: UnsafeBufferPointer<UInt8>) {}
}

/// Collects the text of `<t>` runs, leaving out phonetic runs (`<rPh>`), as a string item or an
/// inline string is read.
struct TextRuns {
    private var text: [UInt8] = []
    private var inRun = false
    private var phoneticDepth = 0

    mutating func reset() { text.removeAll(keepingCapacity: true); inRun = false; phoneticDepth = 0 }
    mutating func start(_ element: XMLName) {
        if element.is("rPh") { phoneticDepth += 1 } else if element.is("t") && phoneticDepth == 0 { inRun = true }
    }
    mutating func end(_ element: XMLName) {
        if element.is("rPh") { phoneticDepth -= 1 } else if element.is("t") { inRun = false }
    }
    mutating func characters(_ bytes: UnsafeBufferPointer<UInt8>) { if inRun { text.append(contentsOf: bytes) } }
    var string: String { String(decoding: text, as: UTF8.self) }
}

/// The shared strings of `xl/sharedStrings.xml`, in order.
final class SharedStringsHandler: XMLStreamHandler {
    var strings: [String] = []
    private var item = TextRuns()

    func start(_ element: XMLName, _ attributes: XMLAttributes) {
        if element.is("si") { item.reset() } else { item.start(element) }
    }
    func end(_ element: XMLName) {
        if element.is("si") { strings.append(item.string) } else { item.end(element) }
    }
    func characters(_ text: UnsafeBufferPointer<UInt8>) { item.characters(text) }
}

/// Turns a sheet's `<row>`s into cell texts: shared and inline strings resolved, booleans as
/// TRUE/FALSE, numbers and dates as written; a missing cell is an empty text at its column.
final class SheetHandler: XMLStreamHandler {
    let sharedStrings: [String]
    /// Rows completed and not yet taken, each with its sheet row number.
    var rows: [([String], Int)] = []
    private var cells: [String] = []
    private var rowNumber = 0
    private var inCell = false
    private var column = 0
    private var cellType: String?
    private var inValue = false
    private var value: [UInt8] = []
    private var inline = TextRuns()

    init(sharedStrings: [String]) { self.sharedStrings = sharedStrings }

    func start(_ element: XMLName, _ attributes: XMLAttributes) {
        if element.is("row") {
            rowNumber = attributes["r"].flatMap { Int($0) } ?? rowNumber + 1
            cells.removeAll(keepingCapacity: true)
        } else if element.is("c") {
            inCell = true
            column = attributes["r"].map(XLSXReader.columnIndex) ?? cells.count
            cellType = attributes["t"]
            value.removeAll(keepingCapacity: true)
            inline.reset()
        } else if inCell {
            if element.is("v") { inValue = true } else { inline.start(element) }
        }
    }

    func end(_ element: XMLName) {
        if element.is("row") {
            while let last = cells.last, last.isEmpty { cells.removeLast() }
            rows.append((cells, rowNumber))
        } else if element.is("c") {
            inCell = false
            let text: String
            switch cellType {
            case "s":
                let index = Int(String(decoding: value, as: UTF8.self)) ?? -1
                text = sharedStrings.indices.contains(index) ? sharedStrings[index] : ""
            case "inlineStr": text = inline.string
            case "b": text = value.isEmpty ? "" : value == [UInt8(ascii: "1")] ? "TRUE" : "FALSE"
            default: text = String(decoding: value, as: UTF8.self)
            }
            while cells.count < column { cells.append("") }
            if column < cells.count { cells[column] = text } else { cells.append(text) }
        } else if inCell {
            if element.is("v") { inValue = false } else { inline.end(element) }
        }
    }

    func characters(_ text: UnsafeBufferPointer<UInt8>) {
        if inValue { value.append(contentsOf: text) } else if inCell { inline.characters(text) }
    }
}
