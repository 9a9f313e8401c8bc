import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PuenteCore
import PuenteExchange

/// A party talking to the linkage unit over HTTP: it delivers its encodings package and fetches its
/// result (docs/exchange.md, "Linkage over HTTP").
extension ExchangeClient {
    /// Delivers an encodings package to the unit it is addressed to, at `endpoint` or at the unit's
    /// endpoint in the trusted member registry; the unit's answer says whether it matched.
    public func deliverEncodings(_ file: Data, source: String, endpoint: String?, token: String) async throws
        -> LinkageUnitService.Delivery
    {
        let package = try SignedPackage(file: file, source: source)
        let base = try await unitEndpoint(endpoint, unit: package.manifest.receiver)
        var request = HTTPClientRequest(url: base + "/api/v1/linkage/encodings")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/vnd.puente.package")
        request.body = .bytes(ByteBuffer(bytes: file))
        // The delivery that completes a pair waits for the match: minutes at a million records a side.
        let body = try await call(request, unit: package.manifest.receiver, at: base, timeout: .seconds(1800))
        do { return try JSONDecoder().decode(LinkageUnitService.Delivery.self, from: body) } catch {
            throw PuenteError(.storeUnavailable, "The unit at \(base) answered something other than a delivery.")
        }
    }

    /// The unit's latest result for this node under `agreement`; or, when the unit has none for it (it
    /// waits for a party's encodings, or keeps no such agreement), nil and the unit's reason.
    public func fetchLinkageResult(agreement: String, unit: String, endpoint: String?, token: String) async throws
        -> (file: Data?, reason: String?)
    {
        let base = try await unitEndpoint(endpoint, unit: unit)
        let path = agreement.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? agreement
        var request = HTTPClientRequest(url: base + "/api/v1/linkage/results/" + path)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        do {
            return (try await call(request, unit: unit, at: base, timeout: .seconds(600)), nil)
        } catch let error as PuenteError where error.code == .notFound {
            return (nil, error.message)
        }
    }

    func unitEndpoint(_ endpoint: String?, unit: String) async throws -> String {
        let registered = endpoint == nil ? try await trustedRegistry()?.member(unit)?.endpoint : nil
        guard let base = endpoint ?? registered else {
            throw PuenteError(.invalidArgument, Self.noEndpoint(unit))
        }
        return base.trimmingSuffix("/")
    }

    /// The body of a 2xx answer; otherwise the unit's refusal as an error with its code and message,
    /// or `storeUnavailable` when it could not be reached or failed.
    func call(_ request: HTTPClientRequest, unit: String, at base: String, timeout: Duration) async throws -> Data {
        let (status, body): (UInt, Data)
        do {
            (status, body) = try await withClient { client in
                let response = try await client.execute(request, timeout: .init(timeout))
                return (response.status.code, Data(try await response.body.collect(upTo: 1 << 30).readableBytesView))
            }
        } catch {
            throw PuenteError(.storeUnavailable, "\(unit) at \(base) could not be reached: \(Self.why(error)).")
        }
        guard (200..<300).contains(status) else {
            let refusal = Self.refusal(body)
            throw PuenteError(
                refusal.flatMap { PuenteError.Code(rawValue: $0.code) }
                    ?? (status >= 500 ? .storeUnavailable : .invalidInput),
                "\(unit) answered \(status): " + (refusal?.message ?? "no reason given."))
        }
        return body
    }
}
