import Foundation
import Hummingbird
import Logging
import PuenteCore

/// Turns Puente's errors into JSON error responses in one place: `{"error": {"code", "message"}}`.
/// Messages never hold request values (they may be personal data).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PuenteError {
            let status: HTTPResponse.Status = switch error.code {
            case .notFound: .notFound
            case .storeUnavailable: .serviceUnavailable
            case .storeFailure: .internalServerError
            case .conflict: .conflict
            default: .badRequest
            }
            return Self.json(status: status, code: error.code.rawValue, message: error.message)
        } catch let error as HTTPError {
            return Self.json(status: error.status, code: "http_\(error.status.code)", message: error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("Request failed", metadata: ["puente.error.type": "\(type(of: error))"])
            return Self.json(status: .internalServerError, code: "internal", message: "Puente could not answer; the server log has details.")
        }
    }

    static func json(status: HTTPResponse.Status, code: String, message: String) -> Response {
        let body = (try? JSONText.encode(["error": ["code": code, "message": message]])) ?? "{}"
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
