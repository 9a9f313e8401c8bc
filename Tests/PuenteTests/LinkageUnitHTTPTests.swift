import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteHTTP
import PuenteServices
import PuenteTesting
import Testing

/// The linkage unit served over HTTP on loopback: two nodes deliver their encodings with their own
/// node tokens, the unit matches on the second delivery and deletes the encodings, and each node
/// fetches and keeps its own result.
@Suite("Linkage over HTTP: delivered, matched on arrival, fetched by each party")
struct LinkageUnitHTTPTests {
    typealias Linkage = CrossBorderLinkageTests

    @Test(
        "Each party delivers with its own token, the unit matches when both are in and keeps no encodings after, each party fetches only its own result",
        arguments: StoreKind.available)
    func deliveredMatchedFetched(kind: StoreKind) async throws {
        let (dir, _) = try Fixtures.generated(country: "SV", seed: 23, scale: 0.02)
        let lines = try String(
            contentsOfFile: dir.appendingPathComponent("sv-dgme-retornos.csv").path, encoding: .isoLatin1
        ).split(separator: "\n").map(String.init)
        let half = lines.count / 2
        let agreement = try Linkage.signed(Linkage.terms())
        let svStore = try await Linkage.node(
            .sqliteMemory, Linkage.sv, [lines[0]] + lines[1..<half], dir: dir, agreements: [agreement])
        let gtStore = try await Linkage.node(
            .sqliteMemory, Linkage.gt, [lines[0]] + lines[half...], dir: dir, agreements: [agreement])
        let hubStore = try await kind.makeStore()
        // The unit keeps the agreement that names it, though it is no party to it.
        _ = try await AgreementService(store: hubStore, node: Linkage.hub).accept(
            try agreement.file(), source: "agreement", by: Linkage.officer)

        let access = AccessService(store: hubStore)
        var issued: [String: String] = [:]
        for (name, role) in [("SV-DGME", Role.node), ("GT-IGM", .node), ("HN-INM", .node), ("officer", .dataOfficer)] {
            _ = try await access.createUser(username: name, role: role, password: nil, by: Linkage.officer)
            issued[name] = try await access.createToken(username: name, label: "test", days: 1, by: Linkage.officer).1
        }
        let tokens = issued
        let id = agreement.terms.id
        let svFile = try await CrossBorderLinkage(store: svStore, node: Linkage.sv).encodings(
            agreement: id, secret: Linkage.secret, by: Linkage.officer
        ).package.file()
        let gtFile = try await CrossBorderLinkage(store: gtStore, node: Linkage.gt).encodings(
            agreement: id, secret: Linkage.secret, by: Linkage.officer
        ).package.file()
        // What the unit must find: the same match, made from the files directly.
        let direct = try LinkageUnit(node: Linkage.hub).match(
            agreement: agreement, packages: [(svFile, "SV"), (gtFile, "GT")])
        #expect(direct.matches > 10)

        var configuration = PuenteServer.Configuration()
        configuration.node = Linkage.hub
        let app = Application(router: PuenteServer.router(store: hubStore, configuration: configuration))
        try await app.test(.live) { http in
            let base = "http://127.0.0.1:\(try #require(http.port))"
            let sv = try ExchangeClient(exchange: ExchangeService(store: svStore, node: Linkage.sv), store: svStore)
            let gt = try ExchangeClient(exchange: ExchangeService(store: gtStore, node: Linkage.gt), store: gtStore)
            func refusal(_ body: () async throws -> some Any) async -> PuenteError? {
                do { _ = try await body() } catch let error as PuenteError { return error } catch { return nil }
                return nil
            }

            // Nothing yet: the unit says whose encodings it waits for.
            let before = try await sv.fetchLinkageResult(
                agreement: id, unit: "HB-SICA", endpoint: base, token: tokens["SV-DGME"]!)
            #expect(before.file == nil && before.reason?.contains("SV-DGME and GT-IGM") == true)
            // Guatemala's token cannot deliver El Salvador's encodings; an officer delivers nothing.
            #expect(
                await refusal {
                    try await gt.deliverEncodings(svFile, source: "sv", endpoint: base, token: tokens["GT-IGM"]!)
                }?.code == .senderUnknown)
            #expect(
                await refusal {
                    try await sv.deliverEncodings(svFile, source: "sv", endpoint: base, token: tokens["officer"]!)
                }?.code == .forbidden)
            #expect(try await hubStore.linkageUnitPackages(agreement: id, kind: .encodings, party: nil).isEmpty)

            let first = try await sv.deliverEncodings(svFile, source: "sv", endpoint: base, token: tokens["SV-DGME"]!)
            #expect(first.status == "waiting" && first.waitingFor == "GT-IGM" && first.matches == nil)
            let waiting = try await sv.fetchLinkageResult(
                agreement: id, unit: "HB-SICA", endpoint: base, token: tokens["SV-DGME"]!)
            #expect(waiting.file == nil && waiting.reason?.contains("encodings of GT-IGM.") == true)

            let second = try await gt.deliverEncodings(
                gtFile, source: "gt", endpoint: base, token: tokens["GT-IGM"]!)
            #expect(second.status == "matched" && second.matches == direct.matches)
            // Matched: the unit holds no encodings any more, only each party's result.
            #expect(try await hubStore.linkageUnitPackages(agreement: id, kind: .encodings, party: nil).isEmpty)
            #expect(
                try await hubStore.linkageUnitPackages(agreement: id, kind: .result, party: nil).map(\.party) == [
                    "GT-IGM", "SV-DGME",
                ])

            // A member that is no party gets nothing; each party gets its own result, signed by the unit.
            let outsider = try await sv.fetchLinkageResult(
                agreement: id, unit: "HB-SICA", endpoint: base, token: tokens["HN-INM"]!)
            #expect(outsider.file == nil && outsider.reason?.contains("with HN-INM as a party") == true)
            for (client, store, node) in [(sv, svStore, Linkage.sv), (gt, gtStore, Linkage.gt)] {
                let fetched = try await client.fetchLinkageResult(
                    agreement: id, unit: "HB-SICA", endpoint: base, token: tokens[node.id]!)
                let file = try #require(fetched.file)
                let package = try SignedPackage(file: file, source: "result")
                try package.verifySignature(publicKey: Linkage.hub.publicKeyBase64URL)
                #expect(package.manifest.receiver == node.id)
                let applied = try await CrossBorderLinkage(store: store, node: node).apply(
                    file, source: "result", by: Linkage.officer)
                #expect(applied.links == direct.matches)
            }
        }
        // The same links as the file route gives, on both sides.
        let svLinks = try await svStore.crossBorderLinks()
        #expect(svLinks.count == direct.matches && svLinks.allSatisfy { $0.partner == "GT-IGM" })
        let audited = try await hubStore.auditEntries(after: 0, limit: 1000).map(\.action)
        #expect(audited.filter { $0 == "package_received" }.count == 2)
        #expect(audited.filter { $0 == "linkage_matched" }.count == 1)
        #expect(audited.filter { $0 == "package_sent" }.count == 2)
        for store in [svStore, gtStore, hubStore] { try await store.close() }
    }
}
