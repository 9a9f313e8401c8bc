import Foundation
import Hummingbird
import PuenteCore

/// Building responses: text of a media type, JSON values, and the one JSON error shape.
enum Responses {
    static func text(_ body: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// `value` as JSON with sorted keys. A value that cannot be encoded is an error (a 500 with a
    /// reference), never a body of `null` a client would take for an answer.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        text(try JSONText.encode(value), type: "application/json; charset=utf-8", status: status)
    }

    /// `{"error": {"code", "message"}}`. Two strings always encode; the fallback only keeps this path
    /// free of `throws`, as it is the one error handlers take.
    static func error(status: HTTPResponse.Status, code: String, message: String) -> Response {
        let body =
            (try? JSONText.encode(["error": ["code": code, "message": message]])) ?? #"{"error":{"code":"internal"}}"#
        return text(body, type: "application/json; charset=utf-8", status: status)
    }
}
