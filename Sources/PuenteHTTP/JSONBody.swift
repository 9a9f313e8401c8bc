import Foundation
import Hummingbird
import PuenteCore

/// JSON request bodies, read the same way by every route that takes one.
enum JSONBody {
    /// Decodes a JSON body; errors name the field and the expected type, never the value sent. An empty
    /// body reads as `{}` where every field is optional.
    static func decode<T: Decodable>(
        _ type: T.Type, from request: Request, context: PuenteContext,
        emptyAllowed: Bool = false
    ) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: context.maxUploadSize) } catch {
            throw HTTPError(.contentTooLarge, message: "The request body is larger than this route accepts.")
        }
        let notJSON = PuenteError(
            .invalidArgument, "The body must be a JSON object (Content-Type: application/json); see /openapi.json.")
        let data = buffer.readableBytes == 0 && emptyAllowed ? Data("{}".utf8) : Data(buffer.readableBytesView)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw PuenteError(.invalidArgument, "\(key.stringValue): required in the JSON body.")
        } catch DecodingError.typeMismatch(let expected, let location), DecodingError.valueNotFound(
            let expected, let location)
        {
            guard let field = location.codingPath.last(where: { $0.intValue == nil })?.stringValue else {
                throw notJSON
            }
            throw PuenteError(.invalidArgument, "\(field): expected \(describe(expected)).")
        } catch DecodingError.dataCorrupted(let context) {
            // A value outside a field's allowed set (an enum): named by the field, the allowed values are
            // in the OpenAPI document.
            guard let field = context.codingPath.last(where: { $0.intValue == nil })?.stringValue else { throw notJSON }
            throw PuenteError(.invalidArgument, "\(field): not one of the values it takes; see /openapi.json.")
        } catch {
            throw notJSON
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is [String].Type: "a list of strings"
        case is Int64.Type, is Int.Type: "a whole number"
        default: "a value of another type"
        }
    }
}
