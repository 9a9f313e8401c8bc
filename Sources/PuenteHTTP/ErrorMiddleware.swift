import Foundation
import Hummingbird
import Logging
import PuenteCore

/// Turns Puente's errors into JSON error responses in one place: `{"error": {"code", "message"}}`.
/// Messages never hold request values (they may be personal data).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as PuenteError {
            let status = error.httpStatus
            guard status == .internalServerError else {
                return Responses.error(status: status, code: error.code.rawValue, message: error.message)
            }
            // Puente's own messages never hold request or stored values, so the log may have them whole.
            let reference = Self.reference()
            context.logger.error(
                "Request failed",
                metadata: [
                    "puente.error.reference": "\(reference)", "puente.error.code": "\(error.code.rawValue)",
                    "puente.error.message": "\(error.message)",
                ])
            return Responses.error(
                status: status, code: error.code.rawValue,
                message: error.message + " (reference \(reference) in the server log)")
        } catch let error as HTTPError {
            return Responses.error(
                status: error.status, code: "http_\(error.status.code)",
                message: error.body ?? error.status.reasonPhrase)
        } catch {
            // Another library's error may quote a value it was given: the log gets its type, domain and
            // code, never its description.
            let reference = Self.reference()
            let bridged = error as NSError
            context.logger.error(
                "Request failed",
                metadata: [
                    "puente.error.reference": "\(reference)", "puente.error.type": "\(type(of: error))",
                    "puente.error.domain": "\(bridged.domain)", "puente.error.code": "\(bridged.code)",
                ])
            return Responses.error(
                status: .internalServerError, code: "internal",
                message: "Puente could not answer; the server log has details under reference \(reference).")
        }
    }

    /// A short random id that ties an error response to its line in the server log.
    static func reference() -> String {
        (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

extension PuenteError {
    /// The HTTP status an error answers with, for JSON and for the screens alike.
    var httpStatus: HTTPResponse.Status {
        switch code {
        case .notFound: .notFound
        case .storeUnavailable: .serviceUnavailable
        case .storeFailure: .internalServerError
        case .conflict: .conflict
        case .forbidden, .senderUnknown, .senderRevoked, .keyRetired, .outsideAgreement, .agreementNotInForce:
            .forbidden
        case .sequenceReused: .conflict
        case .unauthenticated: .unauthorized
        case .tooManyRequests: .tooManyRequests
        default: .badRequest
        }
    }
}
