import CLibXML2
import Foundation
import PuenteCore

/// What an `XMLStream` reports: elements by their local name (whatever prefix a writer chose) and the
/// character data between them, already decoded (entities, character references, CDATA, encodings).
protocol XMLStreamHandler: AnyObject {
    func start(_ element: XMLName, _ attributes: XMLAttributes)
    func end(_ element: XMLName)
    func characters(_ text: UnsafeBufferPointer<UInt8>)
}

/// An element's local name, as libxml2 hands it over (valid during the callback only).
struct XMLName {
    let bytes: UnsafePointer<xmlChar>

    /// Compares without allocating: the handlers ask this for every element of a sheet.
    func `is`(_ name: StaticString) -> Bool { strcmp(bytes, name.utf8Start) == 0 }
}

/// The attributes of a start tag, as libxml2's (localname, prefix, URI, value, end) quintuples.
struct XMLAttributes {
    let count: Int
    let values: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?

    /// The value of the attribute with this local name; `qualified` asks for one in a namespace (as
    /// `r:id` is), otherwise only an attribute without one matches.
    subscript(_ name: StaticString, qualified qualified: Bool = false) -> String? {
        guard let values else { return nil }
        for i in 0..<count {
            let base = values + 5 * i
            guard let local = base[0], strcmp(local, name.utf8Start) == 0, (base[2] != nil) == qualified,
                let start = base[3], let end = base[4]
            else { continue }
            return String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
        }
        return nil
    }
}

/// A streaming XML parser (libxml2's push parser with SAX2 callbacks): bytes go in chunk by chunk, as
/// they come out of the ZIP archive, and the handler hears of each element as soon as it is complete.
/// No external entity or DTD is loaded and nothing is printed: an error is thrown, naming the part and
/// the line but none of the text (a sheet holds personal data).
final class XMLStream {
    private let context: xmlParserCtxtPtr
    private let part: String
    private let file: String
    private let handler: any XMLStreamHandler

    init(handler: any XMLStreamHandler, part: String, file: String) throws {
        self.handler = handler
        self.part = part
        self.file = file
        var sax = xmlSAXHandler()
        sax.initialized = XML_SAX2_MAGIC
        sax.startElementNs = { context, localname, _, _, _, _, attributeCount, _, attributes in
            guard let context, let localname else { return }
            let stream = Unmanaged<XMLStream>.fromOpaque(context).takeUnretainedValue()
            stream.handler.start(
                XMLName(bytes: localname),
                XMLAttributes(count: Int(attributeCount), values: attributes))
        }
        sax.endElementNs = { context, localname, _, _ in
            guard let context, let localname else { return }
            Unmanaged<XMLStream>.fromOpaque(context).takeUnretainedValue().handler.end(XMLName(bytes: localname))
        }
        let characters: charactersSAXFunc = { context, bytes, length in
            guard let context, let bytes else { return }
            Unmanaged<XMLStream>.fromOpaque(context).takeUnretainedValue().handler
                .characters(UnsafeBufferPointer(start: bytes, count: Int(length)))
        }
        sax.characters = characters
        sax.cdataBlock = characters
        // The context is created before `self` is complete, so the handler's pointer is set just after.
        guard let context = xmlCreatePushParserCtxt(&sax, nil, nil, 0, nil) else {
            throw PuenteError(
                .invalidInput, "The workbook cannot be read: out of memory for its XML.", at: InputLocation(file: file))
        }
        self.context = context
        context.pointee.userData = Unmanaged.passUnretained(self).toOpaque()
        xmlCtxtUseOptions(
            context,
            Int32(
                XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue
                    | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue))
    }

    deinit { xmlFreeParserCtxt(context) }

    func feed(_ bytes: [UInt8]) throws {
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                xmlParseChunk(context, $0, Int32(buffer.count), 0)
            }
        }
        try check(status)
    }

    /// Ends the document: an unclosed element is an error here.
    func finish() throws { try check(xmlParseChunk(context, nil, 0, 1)) }

    private func check(_ status: Int32) throws {
        guard status != 0 || context.pointee.wellFormed == 0 else { return }
        let line = xmlCtxtGetLastError(context)?.pointee.line ?? 0
        throw PuenteError(
            .invalidInput,
            "The workbook cannot be read: its part `\(part)` is not well-formed XML"
                + (line > 0 ? " (line \(line) of the part)" : "")
                + "; the file is damaged or was not written by a spreadsheet program.",
            at: InputLocation(file: file))
    }
}
