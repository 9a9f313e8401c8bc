import Foundation
import Hummingbird
import PuenteAccess
import PuenteCore
import PuenteServices

/// The linkage unit's door (docs/exchange.md, "Linkage over HTTP"): parties deliver their encodings
/// packages, the unit matches once both are in, and each party fetches its own result.
enum LinkageUnitRoutes {
    /// The largest encodings package accepted: about 380 bytes a record, so a million records fit.
    static let maxEncodingsSize = 512 * 1024 * 1024

    static func add(to router: Router<PuenteContext>, unit: LinkageUnitService?) {
        @Sendable func service() throws -> LinkageUnitService { try ExchangeRoutes.identified(unit) }
        router.post("/api/v1/linkage/encodings") { request, context -> Response in
            let unit = try service()
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: maxEncodingsSize) } catch {
                throw PuenteError(
                    .invalidInput, "An encodings package over HTTP is at most \(maxEncodingsSize >> 20) MiB.")
            }
            let actor = Actor.account(context.identity, address: context.address)
            let delivery = try await unit.deliver(
                Data(body.readableBytesView), source: "encodings delivered by \(actor.name)", by: actor)
            return try Responses.json(delivery, status: .created)
        }
        router.get("/api/v1/linkage/results/{agreement}") { _, context -> Response in
            let unit = try service()
            let agreement = try context.parameters.require("agreement")
            let file = try await unit.result(
                agreement: agreement, by: .account(context.identity, address: context.address))
            return Responses.text(String(decoding: file, as: UTF8.self), type: "application/vnd.puente.package")
        }
    }
}
