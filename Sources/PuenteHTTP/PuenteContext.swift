import Foundation
import Hummingbird
import PuenteAccess

/// Request context: the caller's identity once `AccessMiddleware` has resolved it, and a JSON encoder
/// that sorts keys, so responses are byte-stable across processes.
public struct PuenteContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who is asking; nil for anonymous requests.
    public var identity: Identity?
    /// The client's IP address, for rate limits and the audit trail (nil in in-process tests); behind a
    /// trusted proxy, the address it forwarded (`ClientAddressMiddleware`).
    public internal(set) var address: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        address = source.channel.remoteAddress?.ipAddress
    }

    /// No route takes more than a login form; larger bodies are refused with 413.
    public var maxUploadSize: Int { 16 * 1024 }

    public var responseEncoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
