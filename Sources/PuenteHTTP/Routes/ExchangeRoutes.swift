import Foundation
import Hummingbird
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteServices

/// Packages delivered by other nodes, the member registry this node trusts, and the exchange log.
enum ExchangeRoutes {
    /// The largest package accepted over HTTP: a country-year of cells is a few megabytes.
    static let maxPackageSize = 64 * 1024 * 1024

    struct PackageSummary: Codable, Sendable {
        var direction, id, agreement, counterpart, period, status, at: String
        var sequence: Int
    }

    /// A service of the exchange, which exists only on a node with an identity.
    static func identified<Service>(_ service: Service?) throws -> Service {
        guard let service else {
            throw PuenteError(
                .notFound, "This node takes no part in the exchange yet: it has no identity (`puente node init`).")
        }
        return service
    }

    static func add(to router: Router<PuenteContext>, store: any PuenteStore, exchange: ExchangeService?) {
        @Sendable func service() throws -> ExchangeService { try identified(exchange) }
        // A package's signature says who made it; the node token says who delivers it. The answer is
        // the receiver's signed receipt, which the sender keeps.
        router.post("/api/v1/exchange/packages") { request, context -> Response in
            let exchange = try service()
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: maxPackageSize) } catch {
                throw PuenteError(.invalidInput, "A package over HTTP is at most \(maxPackageSize >> 20) MiB.")
            }
            let actor = Actor.account(context.identity, address: context.address)
            let reception = try await exchange.receive(
                Data(body.readableBytesView), source: "package delivered by \(actor.name)", by: actor)
            return Responses.text(
                String(decoding: try reception.receipt.file(), as: UTF8.self), type: "application/json; charset=utf-8",
                status: reception.outcome == .duplicate ? .ok : .created)
        }
        // Public: a signed document, checked by whoever fetches it.
        router.get("/api/v1/exchange/registry") { _, _ -> Response in
            guard let registry = try await store.trustedRegistry() else {
                throw PuenteError(.notFound, "This node keeps no member registry.")
            }
            return Responses.text(registry.document, type: "application/json; charset=utf-8")
        }
        router.get("/api/v1/exchange/log") { _, context -> Response in
            try Responses.json(
                try await service().log(by: .account(context.identity, address: context.address)))
        }
        router.get("/api/v1/exchange/packages") { _, _ -> Response in
            let exchange = try service()
            let sent = try await exchange.sent().map {
                PackageSummary(
                    direction: "sent", id: $0.id, agreement: $0.agreement, counterpart: $0.receiver, period: $0.period,
                    status: $0.deliveredAt == nil ? "queued" : "delivered", at: $0.deliveredAt ?? $0.createdAt,
                    sequence: $0.sequence)
            }
            let received = try await exchange.received().map {
                PackageSummary(
                    direction: "received", id: $0.id, agreement: $0.agreement, counterpart: $0.sender,
                    period: $0.period, status: $0.status.rawValue, at: $0.publishedAt ?? $0.receivedAt,
                    sequence: $0.sequence)
            }
            return try Responses.json(sent + received)
        }
    }
}
