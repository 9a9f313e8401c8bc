import Foundation
import PuenteCore

/// Reads the rows of one sheet of an XLSX workbook as text, streaming the sheet so that memory holds
/// one chunk of it (and the workbook's shared strings), whatever the number of rows.
struct XLSXReader {
    let archive: ZipArchive
    let sheetPart: String
    let sharedStrings: [String]

    init(handle: FileHandle, file: String, sheet: String?) throws {
        archive = try ZipArchive(handle: handle, file: file)
        let workbook = try archive.contents("xl/workbook.xml")
        let sheets = XML.elements("sheet", in: workbook).map { (name: XML.attribute("name", in: $0) ?? "",
                                                                  rid: XML.attribute("r:id", in: $0) ?? "") }
        guard let chosen = sheet.map({ wanted in sheets.first { $0.name == wanted } }) ?? sheets.first else {
            let names = sheets.map { "`\($0.name)`" }.joined(separator: ", ")
            throw PuenteError(.invalidInput, sheet == nil ? "The workbook has no sheet."
                              : "The workbook has no sheet `\(sheet!)`; its sheets are \(names).", at: InputLocation(file: file))
        }
        var target = "worksheets/sheet1.xml"
        if let rels = try? archive.contents("xl/_rels/workbook.xml.rels"),
           let rel = XML.elements("Relationship", in: rels).first(where: { XML.attribute("Id", in: $0) == chosen.rid }),
           let t = XML.attribute("Target", in: rel) {
            target = t
        }
        sheetPart = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        if archive.entries["xl/sharedStrings.xml"] != nil {
            let xml = try archive.contents("xl/sharedStrings.xml")
            sharedStrings = XML.segments("si", in: xml).map { XML.text(of: $0) }
        } else {
            sharedStrings = []
        }
    }

    /// The rows of the sheet, a chunk at a time.
    func rows() throws -> Rows { Rows(reader: self, source: try archive.open(sheetPart)) }

    struct Rows {
        let reader: XLSXReader
        var source: ZipArchive.EntrySource
        var carry: [UInt8] = []
        var lastRow = 0
        var done = false
        var fractionRead: Double { source.fractionRead }

        /// The rows completed by the next chunk of the sheet (each with its cells and row number), or
        /// `nil` at the end.
        mutating func next() throws -> [([String], Int)]? {
            var out: [([String], Int)] = []
            while out.isEmpty && !done {
                if let chunk = try source.next() {
                    carry.append(contentsOf: chunk)
                    // Handle every complete <row>…</row> in hand; keep the rest for the next chunk.
                    guard let end = XML.lastIndex(of: Array("</row>".utf8), in: carry) else { continue }
                    for row in XML.segments("row", in: carry[..<(end + 6)]) { out.append(reader.cells(of: row, &lastRow)) }
                    carry.removeSubrange(..<(end + 6))
                } else {
                    done = true
                    for row in XML.segments("row", in: carry[...]) { out.append(reader.cells(of: row, &lastRow)) }
                }
            }
            return out.isEmpty ? nil : out
        }
    }

    func cells(of row: XML.Segment, _ lastRow: inout Int) -> ([String], Int) {
        let number = XML.attribute("r", in: row.openTag).flatMap { Int($0) } ?? lastRow + 1
        lastRow = number
        var cells: [String] = []
        for cell in XML.segments("c", in: row.body) {
            let reference = XML.attribute("r", in: cell.openTag)
            let column = reference.map(Self.columnIndex) ?? cells.count
            while cells.count < column { cells.append("") }
            let value: String
            switch XML.attribute("t", in: cell.openTag) {
            case "s":
                let index = XML.segments("v", in: cell.body).first.map { XML.text(of: $0) }.flatMap { Int($0) }
                value = index.flatMap { $0 < sharedStrings.count ? sharedStrings[$0] : nil } ?? ""
            case "inlineStr":
                value = XML.text(of: XML.Segment(openTag: [], body: cell.body))
            case "b":
                value = XML.segments("v", in: cell.body).first.map { XML.text(of: $0) == "1" ? "TRUE" : "FALSE" } ?? ""
            default:
                value = XML.segments("v", in: cell.body).first.map { XML.text(of: $0) } ?? ""
            }
            if column < cells.count { cells[column] = value } else { cells.append(value) }
        }
        while let last = cells.last, last.isEmpty { cells.removeLast() }
        return (cells, number)
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

/// Just enough XML scanning for the regular, machine-written parts of an Office file.
enum XML {
    struct Segment {
        /// The bytes of the opening tag, attributes included.
        var openTag: ArraySlice<UInt8>
        /// What lies between the opening and closing tags (empty for `<x/>`).
        var body: ArraySlice<UInt8>
    }

    /// The `<name …>…</name>` elements in `bytes`, not nested in one another.
    static func segments(_ name: String, in bytes: ArraySlice<UInt8>) -> [Segment] {
        let open = Array("<\(name)".utf8), close = Array("</\(name)>".utf8)
        var out: [Segment] = []
        var i = bytes.startIndex
        while let start = find(open, in: bytes, from: i) {
            let after = start + open.count
            guard after < bytes.endIndex else { break }
            let next = bytes[after]
            // `<c` must not match `<col`: the name ends at a space, `>` or `/`.
            guard next == UInt8(ascii: " ") || next == UInt8(ascii: ">") || next == UInt8(ascii: "/") else { i = after; continue }
            guard let tagEnd = bytes[after...].firstIndex(of: UInt8(ascii: ">")) else { break }
            let tag = bytes[start...tagEnd]
            if bytes[tagEnd - 1] == UInt8(ascii: "/") {
                out.append(Segment(openTag: tag, body: bytes[tagEnd..<tagEnd]))
                i = tagEnd + 1
                continue
            }
            guard let end = find(close, in: bytes, from: tagEnd + 1) else { break }
            out.append(Segment(openTag: tag, body: bytes[(tagEnd + 1)..<end]))
            i = end + close.count
        }
        return out
    }

    static func segments(_ name: String, in bytes: [UInt8]) -> [Segment] { segments(name, in: bytes[...]) }

    /// Opening tags of `<name …>` elements (for elements read by their attributes only).
    static func elements(_ name: String, in bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        segments(name, in: bytes).map(\.openTag)
    }

    /// The value of attribute `name` in an opening tag, entities decoded.
    static func attribute(_ name: String, in tag: ArraySlice<UInt8>) -> String? {
        let pattern = Array(" \(name)=\"".utf8)
        guard let start = find(pattern, in: tag, from: tag.startIndex) else { return nil }
        let valueStart = start + pattern.count
        guard let end = tag[valueStart...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return decodeEntities(tag[valueStart..<end])
    }

    /// The character data of a segment: the concatenated `<t>` runs of a string item (phonetic runs
    /// excluded), or the body itself when it has no `<t>`.
    static func text(of segment: Segment) -> String {
        let body = segment.body
        guard find(Array("<".utf8), in: body, from: body.startIndex) != nil else { return decodeEntities(body) }
        var withoutPhonetic = body
        var out = ""
        if let ph = find(Array("<rPh".utf8), in: body, from: body.startIndex) { withoutPhonetic = body[..<ph] }
        for t in segments("t", in: withoutPhonetic) { out += decodeEntities(t.body) }
        return out
    }

    static func decodeEntities(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        let s = String(decoding: bytes, as: UTF8.self)
        var out = ""
        var rest = s[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                if let scalar = number.flatMap(Unicode.Scalar.init) { out.unicodeScalars.append(scalar) } else { out += "&\(entity);" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        out += rest
        return out
    }

    static func find(_ needle: [UInt8], in hay: ArraySlice<UInt8>, from: Int) -> Int? {
        guard let first = needle.first, hay.endIndex - from >= needle.count else { return nil }
        var i = from
        let last = hay.endIndex - needle.count
        while i <= last {
            guard let j = hay[i...last].firstIndex(of: first) else { return nil }
            var k = 1
            while k < needle.count && hay[j + k] == needle[k] { k += 1 }
            if k == needle.count { return j }
            i = j + 1
        }
        return nil
    }

    static func lastIndex(of needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = hay.count - needle.count
        while i >= 0 {
            if hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }
}
