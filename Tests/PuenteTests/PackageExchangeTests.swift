import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteHTTP
import PuenteIngest
import PuenteServices
import PuenteStatistics
import PuenteSynthetic
import PuenteTesting
import Testing

/// Packages between a sending node and a receiving one, on real stores: what is published, held,
/// acknowledged as a duplicate, corrected and refused.
@Suite("Exchange: signed packages sent and received")
struct PackageExchangeTests {
    static let sv = try! NodeIdentity.generate(id: "SV-DGME", country: "SLV")
    static let hub = try! NodeIdentity.generate(id: "HB-SICA", country: "SLV")
    static let officer = Actor.commandOperator("officer")
    static let day = CivilDate(iso: "2026-06-01")!

    static let terms = Agreement(
        id: "SV-HUB-2026", sender: .init(sv), receiver: .init(hub), purpose: .regionalStatistics,
        measures: ["returns"], dimensions: ["sex", "age_group", "department", "quarter"], finestGeography: .department,
        finestPeriod: .quarter, validFrom: "2016-01-01", validTo: "2030-12-31", retentionDays: 1825)

    static func agreementFile(_ terms: Agreement = terms) throws -> Data {
        var agreement = try SignedAgreement(drafting: terms)
        try agreement.sign(by: sv)
        try agreement.sign(by: hub)
        return try agreement.file()
    }

    /// A sender's store with a generated year of El Salvador's records and the agreement kept.
    static func senderStore() async throws -> any PuenteStore {
        let (dir, summary) = try Fixtures.generated(country: "SV", seed: 11, scale: 0.03)
        let store = try await StoreKind.sqliteMemory.makeStore()
        for file in summary.files {
            _ = try await Importer(store: store).importFile(
                dir.appendingPathComponent(file.file), profile: try ProfileCatalogue.load(file.profile))
        }
        _ = try await AgreementService(store: store, node: sv).accept(try agreementFile(), source: "a", by: officer)
        return store
    }

    static func receiverStore(_ kind: StoreKind) async throws -> any PuenteStore {
        let store = try await kind.makeStore()
        _ = try await AgreementService(store: store, node: hub).accept(try agreementFile(), source: "a", by: officer)
        return store
    }

    /// A package's file with the manifest and observations changed as `change` says, signed again by
    /// `signer`: what a sender (or a thief of its key) could send.
    static func resealed(
        _ file: Data, by signer: NodeIdentity = sv,
        change: (inout PackageManifest, inout [String]) -> Void
    ) throws -> Data {
        let package = try SignedPackage(file: file, source: "p")
        var manifest = package.manifest
        var lines = String(decoding: package.parts[0], as: UTF8.self).split(separator: "\n").map(String.init)
        change(&manifest, &lines)
        let csv = Data((lines.joined(separator: "\n") + "\n").utf8)
        return try SignedPackage.seal(
            manifest, parts: [(PackageContent.partName, PackageContent.mediaType, csv)], by: signer
        ).file()
    }

    /// The receiver's current observations, without the stamps that say when they arrived.
    static func state(_ store: any PuenteStore) async throws -> [String] {
        try await store.exchangeObservations(dataflow: SDMXFlow.flowID, updatedAfter: nil).map {
            "\($0.sender) \($0.seriesKey) \($0.period) \($0.value.map { String($0) } ?? "NaN") \($0.obsStatus) \($0.confStatus) \($0.packageID)"
        }.sorted()
    }

    @Test(
        "Packages are published in sequence whatever the order they arrive in; a duplicate changes nothing; each cell is the sender's published cell",
        arguments: StoreKind.available)
    func sequenceAndDuplicates(kind: StoreKind) async throws {
        let sender = try await Self.senderStore()
        let exchange = ExchangeService(store: sender, node: Self.sv)
        var files: [Data] = []
        for _ in 1...3 {
            files.append(
                Data(
                    try await exchange.export(agreement: "SV-HUB-2026", year: 2016, on: Self.day, by: Self.officer).file
                        .utf8))
        }
        #expect(try await sender.sentPackages(undelivered: true).map(\.sequence) == [1, 2, 3])

        let inOrder = try await Self.receiverStore(kind)
        let shuffled = try await Self.receiverStore(.sqliteMemory)
        let a = ExchangeService(store: inOrder, node: Self.hub)
        let b = ExchangeService(store: shuffled, node: Self.hub)
        for file in files {
            #expect(try await a.receive(file, source: "p", by: Self.officer, on: Self.day).outcome == .published)
        }
        #expect(try await b.receive(files[2], source: "p3", by: Self.officer, on: Self.day).outcome == .held)
        // Held: kept and visible, not published.
        #expect(try await Self.state(shuffled).isEmpty)
        #expect(try await shuffled.receivedPackages().map(\.status) == [.held])
        let first = try await b.receive(files[0], source: "p1", by: Self.officer, on: Self.day)
        #expect(first.outcome == .published && first.released.isEmpty)
        let second = try await b.receive(files[1], source: "p2", by: Self.officer, on: Self.day)
        #expect(second.outcome == .published && second.released == [3])
        #expect(try await Self.state(shuffled) == Self.state(inOrder))
        #expect(try await shuffled.receivedPackages().map(\.status) == [.published, .published, .published])

        // The same package again: said so, stored once, nothing changes.
        let before = try await Self.state(inOrder)
        let again = try await a.receive(files[1], source: "p2", by: Self.officer, on: Self.day)
        #expect(again.outcome == .duplicate)
        #expect(try await inOrder.receivedPackages().count == 3)
        #expect(try await Self.state(inOrder) == before)

        // The receipt is signed by the receiver, and the sender keeps it as proof of delivery.
        try again.receipt.verify(receiverKey: Self.hub.publicKeyBase64URL)
        _ = try await exchange.recordReceipt(try again.receipt.file(), source: "r", by: Self.officer)
        #expect(try await sender.sentPackages(undelivered: true).map(\.sequence) == [1, 3])

        // Every cell at the receiver is the cell the sender publishes for the same question.
        let engine = StatisticsEngine(store: sender)
        let table = try await engine.run(
            StatisticsQuery(
                measure: .returns, by: [.sex, .quarter], filters: [.year: ["2016"], .reportingCountry: ["SLV"]]),
            policy: .standard)
        let received = Dictionary(
            uniqueKeysWithValues: try await inOrder.exchangeObservations(dataflow: SDMXFlow.flowID, updatedAfter: nil)
                .map { ("\($0.seriesKey) \($0.period)", $0) })
        #expect(table.cells.count >= 8)
        for cell in table.cells {
            let series = (["Q", "SLV", "RETURN", cell.key[0]] + Array(repeating: "_T", count: 10)).joined(
                separator: ".")
            let observation = try #require(received["\(series) \(cell.key[1])"])
            #expect(observation.value == cell.value)
            #expect(observation.obsStatus == cell.obsStatus)
        }
        try await sender.close()
        try await inOrder.close()
        try await shuffled.close()
    }

    @Test(
        "A correction replaces the sender's year: changed cells are revised, missing ones deleted, and updatedAfter lists both"
    )
    func corrections() async throws {
        let sender = try await Self.senderStore()
        let receiver = try await Self.receiverStore(.sqliteMemory)
        let exchange = ExchangeService(store: sender, node: Self.sv)
        let hub = ExchangeService(store: receiver, node: Self.hub)
        let first = Data(
            try await exchange.export(agreement: "SV-HUB-2026", year: 2016, on: Self.day, by: Self.officer).file.utf8)
        _ = try await hub.receive(first, source: "p1", by: Self.officer, on: Self.day)
        let published = try await receiver.exchangeObservations(dataflow: SDMXFlow.flowID, updatedAfter: nil)
        try await Task.sleep(for: .milliseconds(20))
        let mark = Timestamp.precise()
        try await Task.sleep(for: .milliseconds(20))

        // The correction drops two cells and revises one.
        var dropped: [String] = []
        var revised = ""
        let correction = try Self.resealed(first) { manifest, lines in
            manifest.sequence = 2
            manifest.id = "correction-2"
            for i in [2, 3] {
                let f = lines[i].split(separator: ",").map(String.init)
                dropped.append(f[3..<17].joined(separator: ".") + " " + f[17])
            }
            var f = lines[4].split(separator: ",").map(String.init)
            revised = f[3..<17].joined(separator: ".") + " " + f[17]
            f[18] = String(Int(f[18])! + 5)
            lines[4] = f.joined(separator: ",")
            lines.removeSubrange(2...3)
        }
        #expect(try await hub.receive(correction, source: "p2", by: Self.officer, on: Self.day).outcome == .published)
        let now = try await receiver.exchangeObservations(dataflow: SDMXFlow.flowID, updatedAfter: nil)
        #expect(now.count == published.count - 2)
        let names = Set(now.map { "\($0.seriesKey) \($0.period)" })
        #expect(dropped.allSatisfy { !names.contains($0) })
        let changes = try await receiver.exchangeObservations(dataflow: SDMXFlow.flowID, updatedAfter: mark)
        #expect(
            Set(changes.map { "\($0.seriesKey) \($0.period) \($0.deleted)" })
                == Set(dropped.map { $0 + " true" } + [revised + " false"]))
        // The hub's SDMX REST answer to updatedAfter: the revision, and the deletions in a Delete data set.
        var configuration = PuenteServer.Configuration(publicStatistics: true)
        configuration.node = Self.hub
        configuration.hub = true
        let app = Application(router: PuenteServer.router(store: receiver, configuration: configuration))
        try await app.test(.router) { client in
            let body = try await client.execute(
                uri: "/sdmx/data/DF_MIG_FLOW/all?updatedAfter=\(mark)", method: .get
            ) { String(buffer: $0.body) }
            let sets = body.components(separatedBy: "<message:DataSet ")
            #expect(sets.count == 3 && sets[2].hasPrefix("structureRef=\"PUENTE_DSD_MIG_FLOW_1_0\" action=\"Delete\""))
            #expect(sets[1].components(separatedBy: "<generic:Obs>").count - 1 == 1)
            #expect(sets[2].components(separatedBy: "<generic:Obs>").count - 1 == 2)
            let bad = try await client.execute(uri: "/sdmx/data/DF_MIG_FLOW/A.SLV", method: .get) { $0.status }
            #expect(bad == .badRequest)
        }
        try await sender.close()
        try await receiver.close()
    }

    @Test(
        "Refusals, each with its own code and an audit entry, and nothing kept: changed bytes, the wrong receiver, content beyond the terms, unknown code lists, a reused sequence, an agreement not in force, and senders the registry does not trust",
        arguments: StoreKind.available)
    func refusals(kind: StoreKind) async throws {
        let sender = try await Self.senderStore()
        let receiver = try await Self.receiverStore(kind)
        let exchange = ExchangeService(store: sender, node: Self.sv)
        let hub = ExchangeService(store: receiver, node: Self.hub)
        let p1 = Data(
            try await exchange.export(agreement: "SV-HUB-2026", year: 2016, on: Self.day, by: Self.officer).file.utf8)
        var refusals: [PuenteError.Code] = []
        func refused(_ file: Data, on day: CivilDate = Self.day) async -> PuenteError.Code? {
            do {
                _ = try await hub.receive(file, source: "p", by: Self.officer, on: day)
                return nil
            } catch let error as PuenteError {
                refusals.append(error.code)
                return error.code
            } catch {
                return nil
            }
        }
        func changed(_ file: Data, _ from: String, _ to: String) -> Data {
            Data(String(decoding: file, as: UTF8.self).replacingOccurrences(of: from, with: to).utf8)
        }
        // A changed byte: in the frame, the manifest (still canonical), the signature or a part.
        #expect(await refused(changed(p1, "puente-package/1", "puente-package/2")) == .packageMalformed)
        #expect(await refused(changed(p1, "\"period\":\"2016\"", "\"period\":\"2017\"")) == .signatureInvalid)
        #expect(await refused(changed(p1, "\"sequence\":1", "\"sequence\":7")) == .signatureInvalid)
        #expect(await refused(changed(p1, "_T,_T,2016-Q1,", "_T,_T,2016-Q2,")) == .packageTampered)
        #expect(await refused(p1 + Data("x".utf8)) == .packageTampered)
        var signatureLine = String(decoding: p1, as: UTF8.self).split(separator: "\n")[2]
        signatureLine.removeLast()
        #expect(await refused(changed(p1, String(signatureLine), signatureLine + "A")) != nil)
        // Not for this node.
        let svSide = ExchangeService(store: sender, node: Self.sv)
        await #expect(throws: PuenteError.self) { try await svSide.receive(p1, source: "p", by: Self.officer) }

        // Beyond the terms, though signed by the sender: a dimension, a finer geography, an exact figure,
        // a weaker protection, a measure; and a code list version unknown here.
        #expect(
            await refused(try Self.resealed(p1) { m, _ in m.dimensions.append("nationality") }) == .outsideAgreement)
        #expect(
            await refused(
                try Self.resealed(p1) { _, lines in
                    var f = lines[1].split(separator: ",").map(String.init)
                    f[3 + SDMXFlow.dimensionIDs.firstIndex(of: "TERRITORY")!] = "SV-0614"
                    lines[1] = f.joined(separator: ",")
                }) == .outsideAgreement)
        #expect(
            await refused(
                try Self.resealed(p1) { _, lines in lines[1] = lines[1].replacingOccurrences(of: ",E,", with: ",A,") })
                == .outsideAgreement)
        #expect(await refused(try Self.resealed(p1) { m, _ in m.protection = "suppression" }) == .outsideAgreement)
        #expect(await refused(try Self.resealed(p1) { m, _ in m.measures.append("entries") }) == .outsideAgreement)
        #expect(
            await refused(try Self.resealed(p1) { m, _ in m.codeLists[1].version = "2.0" }) == .codeListUnknown)
        #expect(
            await refused(try Self.resealed(p1) { m, _ in m.codeLists[1].sha256 = String(repeating: "0", count: 64) })
                == .codeListUnknown)
        // Signed by another node in the sender's name.
        let thief = try NodeIdentity.generate(id: "SV-DGME", country: "SLV")
        #expect(await refused(try Self.resealed(p1, by: thief) { _, _ in }) == .signatureInvalid)

        // Nothing was kept by any of those.
        #expect(try await receiver.receivedPackages().isEmpty)
        #expect(try await hub.receive(p1, source: "p1", by: Self.officer, on: Self.day).outcome == .published)
        // Another package under a sequence number already seen.
        #expect(await refused(try Self.resealed(p1) { m, _ in m.id = "other" }) == .sequenceReused)
        // Outside the agreement's dates.
        let p2 = Data(
            try await exchange.export(agreement: "SV-HUB-2026", year: 2016, on: Self.day, by: Self.officer).file.utf8)
        #expect(await refused(p2, on: CivilDate(iso: "2031-01-01")!) == .agreementNotInForce)

        // With a member registry: the sender must be an active member signing with its current key.
        var registry = MemberRegistry(hub: Self.hub.id, issuedOn: "2026-01-01", expiresOn: "2026-12-31")
        try registry.add(
            node: "GT-IGM", country: "GTM", organisation: "IGM", endpoint: nil, key: Self.hub.publicKeyBase64URL,
            kid: "GT-IGM/k1", on: Self.day)
        var signed = try SignedRegistry.issue(registry, by: Self.hub, on: Self.day, days: 60)
        _ = try await hub.trustRegistry(try signed.file(), source: "r1", on: Self.day, by: Self.officer)
        #expect(await refused(p2) == .senderUnknown)
        try registry.add(
            node: "SV-DGME", country: "SLV", organisation: "DGME", endpoint: nil, key: Self.sv.publicKeyBase64URL,
            kid: Self.sv.kid, on: Self.day)
        registry.version = signed.registry.version
        signed = try SignedRegistry.issue(registry, by: Self.hub, on: Self.day, days: 60)
        _ = try await hub.trustRegistry(try signed.file(), source: "r2", on: Self.day, by: Self.officer)
        // An older registry is a rollback.
        var old = MemberRegistry(hub: Self.hub.id, issuedOn: "2026-01-01", expiresOn: "2026-12-31")
        old.version = 0
        await #expect(throws: PuenteError.self) {
            try await hub.trustRegistry(
                try SignedRegistry.issue(old, by: Self.hub, on: Self.day).file(), source: "r0", on: Self.day,
                by: Self.officer)
        }
        let rotated = try NodeIdentity.generate(id: "SV-DGME", country: "SLV")
        try registry.rotate(node: "SV-DGME", key: rotated.publicKeyBase64URL, kid: rotated.kid, on: Self.day)
        registry.version = signed.registry.version
        signed = try SignedRegistry.issue(registry, by: Self.hub, on: Self.day, days: 60)
        _ = try await hub.trustRegistry(try signed.file(), source: "r3", on: Self.day, by: Self.officer)
        #expect(await refused(p2) == .keyRetired)
        // Signed with the new key it is accepted.
        let p2new = try Self.resealed(p2, by: rotated) { _, _ in }
        #expect(try await hub.receive(p2new, source: "p2", by: Self.officer, on: Self.day).outcome == .published)
        try registry.revoke(node: "SV-DGME", on: Self.day)
        registry.version = signed.registry.version
        signed = try SignedRegistry.issue(registry, by: Self.hub, on: Self.day, days: 60)
        _ = try await hub.trustRegistry(try signed.file(), source: "r4", on: Self.day, by: Self.officer)
        let p3 = try Self.resealed(p2, by: rotated) { m, _ in
            m.sequence = 3
            m.id = "third"
        }
        #expect(await refused(p3) == .senderRevoked)

        // A revoked agreement stops the flow at once.
        let fresh = try await Self.receiverStore(.sqliteMemory)
        let other = ExchangeService(store: fresh, node: Self.hub)
        _ = try await AgreementService(store: fresh, node: Self.hub).revoke(
            id: "SV-HUB-2026", reason: "ended", on: Self.day, by: Self.officer)
        do {
            _ = try await other.receive(p1, source: "p1", by: Self.officer, on: Self.day)
            Issue.record("A package under a revoked agreement was accepted.")
        } catch let error as PuenteError {
            #expect(error.code == .agreementNotInForce)
        }

        // Every refusal is in the audit trail with its code.
        let audited = try await receiver.auditEntries(after: 0, limit: 1000).filter { $0.action == "package_refused" }
        #expect(audited.count == refusals.count)
        for (entry, code) in zip(audited, refusals) { #expect(entry.target.hasSuffix("code:\(code.rawValue)")) }
        #expect(try await receiver.receivedPackages().map(\.sequence) == [1, 2])
        try await sender.close()
        try await receiver.close()
        try await fresh.close()
    }

    @Test(
        "Over HTTP, a package needs its sender's node token as well as its signature; the receiver's signed receipt comes back; while the receiver is down the package stays queued"
    )
    func overHTTP() async throws {
        let sender = try await Self.senderStore()
        let receiver = try await Self.receiverStore(.sqliteMemory)
        let access = AccessService(store: receiver)
        let admin = Actor.commandOperator("test")
        var issued: [String: String] = [:]
        for (name, role) in [("SV-DGME", Role.node), ("GT-IGM", .node), ("officer", .dataOfficer)] {
            _ = try await access.createUser(username: name, role: role, password: nil, by: admin)
            issued[name] = try await access.createToken(username: name, label: "test", days: 1, by: admin).1
        }
        let tokens = issued
        let exchange = ExchangeService(store: sender, node: Self.sv)
        let client = try ExchangeClient(exchange: exchange, store: sender, connectTimeout: .seconds(1))
        let sent = try await exchange.export(agreement: "SV-HUB-2026", year: 2016, by: Self.officer)

        // Nobody listens on the discard port: the package stays queued, and the node carries on.
        let down = try await client.push(endpoint: "http://127.0.0.1:9", token: tokens["SV-DGME"]!, by: Self.officer)
        #expect(down.unreachable != nil && down.delivered.isEmpty && down.queued == 1)

        var configuration = PuenteServer.Configuration()
        configuration.node = Self.hub
        let app = Application(router: PuenteServer.router(store: receiver, configuration: configuration))
        try await app.test(.live) { http in
            func post(_ body: String, token: String?) async throws -> (HTTPResponse.Status, String) {
                try await http.execute(
                    uri: "/api/v1/exchange/packages", method: .post,
                    headers: token.map { [.authorization: "Bearer \($0)"] } ?? [:], body: ByteBuffer(string: body)
                ) { ($0.status, String(buffer: $0.body)) }
            }
            #expect(try await post(sent.file, token: nil).0 == .unauthorized)
            #expect(try await post(sent.file, token: tokens["officer"]).0 == .forbidden)
            // Another member's token cannot deliver SV-DGME's package.
            let (status, body) = try await post(sent.file, token: tokens["GT-IGM"])
            #expect(status == .forbidden && body.contains("sender_unknown"))
            let (tampered, reason) = try await post(
                sent.file.replacingOccurrences(of: ",E,F\n", with: ",E,D\n"), token: tokens["SV-DGME"])
            #expect(tampered == .badRequest && reason.contains("package_tampered"))

            let port = try #require(http.port)
            let report = try await client.push(
                endpoint: "http://127.0.0.1:\(port)/", token: tokens["SV-DGME"]!, by: Self.officer)
            #expect(report.delivered.count == 1 && report.refused.isEmpty && report.queued == 0)
            #expect(report.delivered.first?.receipt.receipt.outcome == .published)
            // Delivered again by hand: the receiver says it had it.
            let (again, receipt) = try await post(sent.file, token: tokens["SV-DGME"])
            #expect(again == .ok)
            #expect(try SignedReceipt(file: Data(receipt.utf8), source: "r").receipt.outcome == .duplicate)
        }
        let kept = try #require(try await sender.sentPackages(undelivered: false).first)
        #expect(kept.deliveredAt != nil && kept.receipt != nil)
        #expect(try await receiver.receivedPackages().map(\.id) == [sent.id])
        let refused = try await receiver.auditEntries(after: 0, limit: 100).filter { $0.action == "package_refused" }
        #expect(
            refused.map { $0.target.components(separatedBy: "code:").last } == ["sender_unknown", "package_tampered"])
        try await sender.close()
        try await receiver.close()
    }

    @Test(
        "The receiver keeps a sender's year only as long as the agreement says; then it is gone and the same package again changes nothing",
        arguments: StoreKind.available)
    func retentionAtTheReceiver(kind: StoreKind) async throws {
        let sender = try await Self.senderStore()
        let receiver = try await Self.receiverStore(kind)
        let hub = ExchangeService(store: receiver, node: Self.hub)
        let file = Data(
            try await ExchangeService(store: sender, node: Self.sv).export(
                agreement: "SV-HUB-2026", year: 2016, by: Self.officer
            ).file.utf8)
        _ = try await hub.receive(file, source: "p1", by: Self.officer)
        #expect(try await !Self.state(receiver).isEmpty)
        let today = CivilDate.today
        // Retention counts from the latest delivery of the year: 1825 days are kept, the 1826th is not.
        #expect(try await hub.applyRetention(on: today.adding(days: 1825), by: Self.officer) == 0)
        #expect(try await !Self.state(receiver).isEmpty)
        #expect(try await hub.applyRetention(on: today.adding(days: 1826), by: Self.officer) == 1)
        #expect(try await Self.state(receiver).isEmpty)
        let kept = try await receiver.receivedPackages()
        #expect(kept.map(\.status) == [.expired])
        let expired = try await receiver.receivedPackage(sender: "SV-DGME", agreement: "SV-HUB-2026", sequence: 1)
        #expect(expired?.file.isEmpty == true)
        // Delivered again: acknowledged, never published anew.
        #expect(try await hub.receive(file, source: "p1", by: Self.officer).outcome == .duplicate)
        #expect(try await Self.state(receiver).isEmpty)
        let audited = try await receiver.auditEntries(after: 0, limit: 100).map(\.action)
        #expect(audited.contains("received_expired"))
        try await sender.close()
        try await receiver.close()
    }
}

@Suite("Exchange: agreements marked automatic are exported by the sender's schedule")
struct ScheduledExportTests {
    @Test("A package per year at first, none while nothing changes, a correction when a year's figures change")
    func changedYearsOnly() async throws {
        let sv = PackageExchangeTests.sv, officer = PackageExchangeTests.officer
        var terms = PackageExchangeTests.terms
        terms.id = "SV-HUB-AUTO"
        terms.automatic = true
        let store = try await PackageExchangeTests.senderStore()
        _ = try await AgreementService(store: store, node: sv).accept(
            try PackageExchangeTests.agreementFile(terms), source: "auto", by: officer)
        let exchange = ExchangeService(store: store, node: sv)
        // Only the automatic agreement, and only the year the node has events in.
        let first = try await exchange.exportChanged(on: PackageExchangeTests.day, by: officer)
        #expect(first.map(\.agreement) == ["SV-HUB-AUTO"] && first.map(\.period) == ["2016"])
        #expect(try await exchange.exportChanged(on: PackageExchangeTests.day, by: officer).isEmpty)
        // A late record of 2016 changes the year's figures: the next round sends a correction.
        let (dir, summary) = try Fixtures.generated(country: "SV", seed: 12, scale: 0.001)
        let lines = try String(contentsOf: dir.appendingPathComponent(summary.files[0].file), encoding: .isoLatin1)
            .split(separator: "\n").map(String.init)
        func late(_ n: Int) throws -> URL {
            let url = dir.appendingPathComponent("late-\(n).csv")
            let row = lines[n].replacingOccurrences(of: "DAM-2016-", with: "DAM-2016-9")
            try (lines[0] + "\n" + row + "\n").write(to: url, atomically: true, encoding: .isoLatin1)
            return url
        }
        let profile = try ProfileCatalogue.load(summary.files[0].profile)
        #expect(try await Importer(store: store).importFile(try late(1), profile: profile).accepted == 1)
        let second = try await exchange.exportChanged(on: PackageExchangeTests.day, by: officer)
        #expect(second.map(\.period) == ["2016"] && second.first?.sequence == 2)
        // Not in force any more: nothing leaves.
        try await AgreementService(store: store, node: sv).revoke(
            id: "SV-HUB-AUTO", reason: "ended", on: PackageExchangeTests.day, by: officer)
        #expect(try await Importer(store: store).importFile(try late(2), profile: profile).accepted == 1)
        #expect(try await exchange.exportChanged(on: PackageExchangeTests.day, by: officer).isEmpty)
        try await store.close()
    }
}
