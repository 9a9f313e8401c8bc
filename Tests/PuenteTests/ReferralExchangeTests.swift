import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteHTTP
import PuenteServices
import PuenteTesting
import Testing

/// A referral from El Salvador's node to an organisation that works on Guatemala's node: two real
/// stores, two node identities, a referral agreement both signed, and every package carried between
/// them as the file a push would deliver.
@Suite("Reintegration: referrals across nodes")
struct ReferralExchangeTests {
    static let sv = try! NodeIdentity.generate(id: "SV-DGME", country: "SLV")
    static let gt = try! NodeIdentity.generate(id: "GT-IGM", country: "GTM")
    static let partnerGT = Actor(name: "gabriela", role: .partner, organisation: "GT-ONG")
    static let otherPartnerGT = Actor(name: "gonzalo", role: .partner, organisation: "GT-OTRA")
    static let admin = Actor.commandOperator("cli:test")

    static func terms(fields: [String] = ["given_names", "phone", "skills"]) -> Agreement {
        Agreement(
            id: "SV-GT-REF", sender: .init(sv, encrypting: true), receiver: .init(gt, encrypting: true),
            purpose: .referral, measures: [], dimensions: [], finestGeography: .country, finestPeriod: .year,
            validFrom: "2016-01-01", validTo: "2030-12-31", retentionDays: 365, referralFields: fields)
    }

    @Test("Referral agreements name the fields a referral may carry and both parties' encryption keys")
    func referralTerms() throws {
        var agreement = try SignedAgreement(drafting: Self.terms())
        try agreement.sign(by: Self.sv)
        try agreement.sign(by: Self.gt)
        #expect(try agreement.notInForce(on: CivilDate(iso: "2026-01-01")!) == nil)
        var keyless = Self.terms()
        keyless.receiver.encryptionKey = nil
        #expect(throws: PuenteError.self) { try SignedAgreement(drafting: keyless) }
        var figures = Self.terms()
        figures.measures = ["returns"]
        #expect(throws: PuenteError.self) { try SignedAgreement(drafting: figures) }
        #expect(throws: PuenteError.self) { try SignedAgreement(drafting: Self.terms(fields: ["shoe_size"])) }
        var statistics = Agreement(
            id: "SV-HUB", sender: .init(Self.sv), receiver: .init(Self.gt), purpose: .regionalStatistics,
            measures: ["returns"], dimensions: ["sex"], finestGeography: .country, finestPeriod: .year,
            validFrom: "2016-01-01", validTo: "2030-12-31", retentionDays: 365)
        statistics.referralFields = ["phone"]
        #expect(throws: PuenteError.self) { try SignedAgreement(drafting: statistics) }
        // A party signs only terms naming its own encryption key.
        var wrongKey = Self.terms()
        wrongKey.receiver.encryptionKey = Self.sv.encryptionPublicKeyBase64URL
        var other = try SignedAgreement(drafting: wrongKey)
        #expect(throws: PuenteError.self) { try other.sign(by: Self.gt) }
    }

    /// The referring node's store (three returns, accounts, a case worker's consent) and the partner's
    /// node's store, both keeping the signed agreement and their partner registrations.
    func nodes(_ kind: StoreKind) async throws -> (sv: any PuenteStore, gt: any PuenteStore) {
        let (sv, _) = try await ReintegrationTests().prepared(kind)
        let gt = try await kind.makeStore()
        var agreement = try SignedAgreement(drafting: Self.terms())
        try agreement.sign(by: Self.sv)
        try agreement.sign(by: Self.gt)
        _ = try await AgreementService(store: sv, node: Self.sv).accept(
            try agreement.file(), source: "a", by: Self.admin)
        _ = try await AgreementService(store: gt, node: Self.gt).accept(
            try agreement.file(), source: "a", by: Self.admin)
        try await ReferralService(store: sv).register(
            Partner(id: "GT-ONG", name: "ONG de reinserción", services: [.vocationalTraining], node: "GT-IGM"),
            by: Self.admin)
        try await ReferralService(store: gt).register(
            Partner(id: "GT-ONG", name: "ONG de reinserción", services: [.vocationalTraining]), by: Self.admin)
        let access = AccessService(store: gt, hasher: PasswordHasher(logCost: 10))
        for actor in [Self.partnerGT, Self.otherPartnerGT] {
            try await access.createUser(
                username: actor.name, role: .partner, password: nil, organisation: actor.organisation, by: Self.admin)
        }
        return (sv, gt)
    }

    /// Delivers every package `from` has queued to `to`, and its receipts back: what a push does.
    @discardableResult
    func deliver(from: (store: any PuenteStore, node: NodeIdentity), to: (store: any PuenteStore, node: NodeIdentity))
        async throws -> [ExchangeService.Reception]
    {
        let sender = ExchangeService(store: from.store, node: from.node)
        let receiver = ExchangeService(store: to.store, node: to.node)
        var out: [ExchangeService.Reception] = []
        for package in try await sender.sent(undelivered: true) {
            let reception = try await receiver.receive(Data(package.file.utf8), source: "push", by: Self.admin)
            _ = try await sender.recordReceipt(try reception.receipt.file(), source: "receipt", by: Self.admin)
            out.append(reception)
        }
        return out
    }

    @Test(
        "A referral travels encrypted to the partner's node; acceptance, outcome and cancellation come back signed",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func loopAcrossNodes(kind: StoreKind) async throws {
        let (svStore, gtStore) = try await nodes(kind)
        let sv = (store: svStore, node: Self.sv)
        let gt = (store: gtStore, node: Self.gt)
        let cw = ReintegrationTests.cw
        let cases = CaseService(store: svStore)
        let referrals = ReferralService(store: svStore, node: Self.sv)
        let file = try await cases.open(.init(agency: "TEST", recordKey: "r1", phone: "7777-0000"), by: cw)
        _ = try await ReintegrationTests().consent(svStore, "r1", .referral, to: ["GT-ONG"])
        let request = ReferralService.Request(
            caseID: file.id, partner: "GT-ONG", service: "vocational_training", fields: ["given_names", "phone"])

        // Outside the agreement's fields, or on a node without an identity: refused, nothing sent.
        var tooMuch = request
        tooMuch.fields.append("plan")
        let outside = await #expect(throws: PuenteError.self) { try await referrals.refer(tooMuch, by: cw) }
        #expect(outside?.code == .invalidArgument && outside?.message.contains("plan") == true)
        await #expect(throws: PuenteError.self) { try await ReferralService(store: svStore).refer(request, by: cw) }
        #expect(try await svStore.sentPackages(undelivered: true).isEmpty)

        let referral = try await referrals.refer(request, by: cw)
        let queued = try await svStore.sentPackages(undelivered: true)
        #expect(queued.count == 1 && queued[0].receiver == "GT-IGM")
        // The package, the sender's copy of it, holds no personal value in clear.
        for value in ["Ana María", "Pérez", "7777-0000"] { #expect(!queued[0].file.contains(value)) }
        #expect(
            try await svStore.caseEntries(caseID: file.id).contains {
                $0.kind == "referral_sent" && $0.detail == "requested"
            })
        // The referring node cannot set the partner's statuses itself.
        await #expect(throws: PuenteError.self) {
            try await referrals.update(referral.id, to: .accepted, by: ReintegrationTests.sup)
        }

        let first = try await deliver(from: sv, to: gt)
        #expect(first.map(\.outcome) == [.published])
        // Delivered again (a lost receipt): nothing changes.
        let again = try await ExchangeService(store: gtStore, node: Self.gt).receive(
            Data(queued[0].file.utf8), source: "push", by: Self.admin)
        #expect(again.outcome == .duplicate)
        // What the partner's node keeps of the package is its signed header, not the ciphertext.
        #expect(try await gtStore.receivedPackages().count == 1)
        let kept = try #require(
            try await gtStore.receivedPackage(sender: "SV-DGME", agreement: "SV-GT-REF", sequence: 1))
        let header = try SignedPackage(file: Data(queued[0].file.utf8), source: "sent").header()
        #expect(kept.file == String(decoding: header, as: UTF8.self) && kept.file.count < queued[0].file.count)

        // The partner sees its referral, and only the fields it names, in an audited read.
        let exchange = ReferralExchange(store: gtStore, node: Self.gt)
        let inbox = try await exchange.incoming(by: Self.partnerGT)
        #expect(inbox.count == 1 && inbox[0].values.isEmpty && inbox[0].originID == referral.id)
        #expect(try await exchange.incoming(by: Self.otherPartnerGT).isEmpty)
        let shown = try await exchange.incomingReferral(inbox[0].id, by: Self.partnerGT)
        #expect(shown.values == ["given_names": "Ana María", "phone": "7777-0000"])
        await #expect(throws: PuenteError.noSuchReferral) {
            try await exchange.incomingReferral(inbox[0].id, by: Self.otherPartnerGT)
        }
        #expect(
            try await gtStore.auditEntries(after: 0, limit: 1000).contains {
                $0.action == "read_personal" && $0.target.hasPrefix("incoming_referral:\(inbox[0].id)")
            })

        // Acceptance comes back and moves the referral at the referring node.
        var incoming = try await exchange.updateIncoming(inbox[0].id, to: .accepted, by: Self.partnerGT)
        #expect(incoming.reportedStatus == .accepted)
        await #expect(throws: PuenteError.self) {
            try await exchange.updateIncoming(inbox[0].id, to: .completed, reason: "not_needed", by: Self.partnerGT)
        }
        try await deliver(from: gt, to: sv)
        var here = try #require(try await svStore.referral(id: referral.id))
        #expect(here.status == .accepted && here.day(reached: .accepted) != nil)
        #expect(
            try await svStore.caseEntries(caseID: file.id).contains {
                $0.kind == "referral_status" && $0.actor == "node:GT-IGM" && $0.detail == "accepted"
            })

        // The outcome too; the partner's node drops the fields once the referral is closed.
        incoming = try await exchange.updateIncoming(
            inbox[0].id, readAt: incoming.version, to: .completed, reason: "delivered", by: Self.partnerGT)
        #expect(incoming.values.isEmpty)
        #expect(try await exchange.incomingReferral(inbox[0].id, by: Self.partnerGT).values.isEmpty)
        try await deliver(from: gt, to: sv)
        here = try #require(try await svStore.referral(id: referral.id))
        #expect(here.status == .completed && here.reason == .delivered)
        // Nothing more is owed either way.
        #expect(try await ReferralExchange(store: svStore, node: Self.sv).sendPending(by: Self.admin).isEmpty)
        #expect(try await exchange.sendPending(by: Self.admin).isEmpty)
        // And the returnee's feedback closes the loop here.
        here = try await referrals.feedback(referral.id, received: true, usefulness: 4, by: cw)
        #expect(here.feedback?.received == true)

        // A consent withdrawn here cancels the referral here and, at the next push, there.
        let second = try await cases.open(.init(agency: "TEST", recordKey: "r2"), by: cw)
        let consent = try await ReintegrationTests().consent(svStore, "r2", .referral, to: ["GT-ONG"])
        let open = try await referrals.refer(
            .init(caseID: second.id, partner: "GT-ONG", service: "vocational_training", fields: ["given_names"]),
            by: cw)
        try await deliver(from: sv, to: gt)
        let secondIncoming = try #require(
            try await gtStore.incomingReferrals(id: nil, sender: "SV-DGME", originID: open.id, partner: nil).first)
        #expect(secondIncoming.values["given_names"] == "Ana María")
        try await ConsentService(store: svStore).withdraw(id: consent.id, by: cw)
        let owed = try await ReferralExchange(store: svStore, node: Self.sv).sendPending(by: Self.admin)
        #expect(owed.count == 1)
        try await deliver(from: sv, to: gt)
        let cancelled = try #require(
            try await gtStore.incomingReferrals(id: secondIncoming.id, sender: nil, originID: nil, partner: nil).first)
        #expect(cancelled.status == .cancelled && cancelled.reason == .consentWithdrawn && cancelled.values.isEmpty)
        await #expect(throws: PuenteError.self) {
            try await exchange.updateIncoming(secondIncoming.id, to: .accepted, by: Self.partnerGT)
        }
        #expect(try await ReferralExchange(store: svStore, node: Self.sv).sendPending(by: Self.admin).isEmpty)
        try await svStore.close()
        try await gtStore.close()
    }

    @Test(
        "The partner works a referral from another node on its screens and over the API, and each status leaves for the referring node",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func partnerScreens(kind: StoreKind) async throws {
        let (svStore, gtStore) = try await nodes(kind)
        let file = try await CaseService(store: svStore).open(
            .init(agency: "TEST", recordKey: "r1", phone: "7777-0000"), by: ReintegrationTests.cw)
        _ = try await ReintegrationTests().consent(svStore, "r1", .referral, to: ["GT-ONG"])
        let referral = try await ReferralService(store: svStore, node: Self.sv).refer(
            .init(
                caseID: file.id, partner: "GT-ONG", service: "vocational_training", fields: ["given_names", "phone"]),
            by: ReintegrationTests.cw)
        try await deliver(from: (svStore, Self.sv), to: (gtStore, Self.gt))
        let id = try #require(
            try await gtStore.incomingReferrals(id: nil, sender: nil, originID: nil, partner: nil).first
        ).id

        let access = AccessService(store: gtStore, hasher: PasswordHasher(logCost: 10))
        var issued: [String: String] = [:]
        for name in ["gabriela", "gonzalo"] {
            issued[name] = try await access.createToken(username: name, label: "t", days: 1, by: Self.admin).1
        }
        let tokens = issued
        var configuration = PuenteServer.Configuration()
        configuration.node = Self.gt
        let app = Application(router: PuenteServer.router(store: gtStore, configuration: configuration))
        try await app.test(.router) { client in
            func call(
                _ method: HTTPRequest.Method, _ uri: String, as who: String, form: String? = nil, json: String? = nil
            )
                async throws -> (HTTPResponse.Status, String)
            {
                try await client.execute(
                    uri: uri, method: method,
                    headers: [
                        .authorization: "Bearer \(tokens[who]!)",
                        .contentType: json == nil ? "application/x-www-form-urlencoded" : "application/json",
                    ],
                    body: (form ?? json).map { ByteBuffer(string: $0) }
                ) { ($0.status, String(buffer: $0.body)) }
            }
            var (status, html) = try await call(.get, "/partner", as: "gabriela")
            #expect(
                status == .ok && html.contains("/partner/incoming/\(id)") && html.contains("SV-DGME #\(referral.id)"))
            (status, html) = try await call(.get, "/partner/incoming/\(id)", as: "gabriela")
            #expect(status == .ok && html.contains("Ana María") && html.contains("7777-0000"))
            #expect(!html.contains("Pérez") && !html.contains("data-field=\"skills\""))
            (status, html) = try await call(.get, "/partner/incoming/\(id)", as: "gonzalo")
            #expect(status == .notFound && !html.contains("Ana María"))
            (status, _) = try await call(
                .post, "/partner/incoming/\(id)", as: "gabriela", form: "action=status&to=accepted&version=1")
            #expect(status == .seeOther)
            #expect(try await gtStore.sentPackages(undelivered: true).count == 1)
            (status, html) = try await call(
                .post, "/api/v1/incoming-referrals/\(id)/status", as: "gabriela",
                json: #"{"to":"completed","reason":"not_needed"}"#)
            #expect(status == .badRequest && html.contains("reason"))
            (status, html) = try await call(
                .post, "/api/v1/incoming-referrals/\(id)/status", as: "gabriela",
                json: #"{"to":"completed","reason":"delivered"}"#)
            #expect(status == .ok && !html.contains("Ana María"))
            (status, html) = try await call(.get, "/api/v1/incoming-referrals", as: "gabriela")
            #expect(status == .ok && html.contains("\"completed\"") && !html.contains("Ana María"))
        }
        try await deliver(from: (gtStore, Self.gt), to: (svStore, Self.sv))
        let here = try #require(try await svStore.referral(id: referral.id))
        #expect(here.status == .completed && here.reason == .delivered && here.day(reached: .accepted) != nil)
        try await svStore.close()
        try await gtStore.close()
    }

    @Test(
        "A partner's node refuses referral packages it cannot open, outside the agreement's fields, or not signed by the sender",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func refusals(kind: StoreKind) async throws {
        let (svStore, gtStore) = try await nodes(kind)
        let receiver = ExchangeService(store: gtStore, node: Self.gt)
        let day = CivilDate(iso: "2026-01-10")!
        let message = ReferralMessage.request(
            referral: 1, partner: "GT-ONG", service: .vocationalTraining, fields: [.givenNames],
            values: ["given_names": "Ana María"], on: day, acknowledgeBy: day.adding(days: 5), basis: "consent")
        func refusal(_ package: SignedPackage) async -> PuenteError.Code? {
            do {
                _ = try await receiver.receive(try package.file(), source: "test", by: Self.admin)
                return nil
            } catch let error as PuenteError {
                return error.code
            } catch {
                return nil
            }
        }
        // Encrypted to another key than the receiver's.
        var elsewhere = Self.terms()
        elsewhere.receiver.encryptionKey = Self.sv.encryptionPublicKeyBase64URL
        #expect(
            await refusal(
                try ReferralPackage.seal(message, terms: elsewhere, from: Self.sv, sequence: 1, createdAt: ""))
                == .packageMalformed)
        // A field the agreement does not let through.
        var plan = message
        plan.fields = [.givenNames, .plan]
        #expect(
            await refusal(
                try ReferralPackage.seal(plan, terms: Self.terms(), from: Self.sv, sequence: 2, createdAt: ""))
                == .outsideAgreement)
        // Signed by another key than the sender's.
        let impostor = NodeIdentity(
            id: "SV-DGME", country: "SLV", keyID: Self.sv.keyID, signingKey: .init())
        var forged = Self.terms()
        forged.sender = .init(impostor, encrypting: true)
        forged.receiver = .init(Self.gt, encrypting: true)
        #expect(
            await refusal(try ReferralPackage.seal(message, terms: forged, from: impostor, sequence: 3, createdAt: ""))
                == .signatureInvalid)
        // The partner's node sets no cancellation; the referring node no acceptance.
        let accepted = ReferralMessage.status(
            referral: 1, partner: "GT-ONG", status: .accepted, reason: nil, on: day)
        #expect(
            await refusal(
                try ReferralPackage.seal(accepted, terms: Self.terms(), from: Self.sv, sequence: 4, createdAt: ""))
                == .outsideAgreement)
        #expect(try await gtStore.incomingReferrals(id: nil, sender: nil, originID: nil, partner: nil).isEmpty)
        #expect(
            try await gtStore.auditEntries(after: 0, limit: 1000).filter { $0.action == "package_refused" }.count == 4)
        // A well-made request is kept.
        #expect(
            await refusal(
                try ReferralPackage.seal(message, terms: Self.terms(), from: Self.sv, sequence: 5, createdAt: ""))
                == nil)
        #expect(try await gtStore.incomingReferrals(id: nil, sender: nil, originID: nil, partner: "GT-ONG").count == 1)
        try await svStore.close()
        try await gtStore.close()
    }
}
