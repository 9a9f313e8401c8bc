import Crypto
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteServices
import PuenteTesting
import Testing

@Suite("Exchange: canonical JSON, node identity and document signatures")
struct ExchangeTests {
    static func hex(_ text: String) -> Data {
        Data(
            stride(from: 0, to: text.count, by: 2).map { i in
                UInt8(
                    text[text.index(text.startIndex, offsetBy: i)..<text.index(text.startIndex, offsetBy: i + 2)],
                    radix: 16)!
            })
    }

    @Test("RFC 8032's Ed25519 vectors verify (signatures are checked by verifying, never by their bytes)")
    func ed25519Vectors() throws {
        // Test 1 (empty message) and test 2 (one byte) of RFC 8032, section 7.1.
        let vectors = [
            (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            ),
            (
                "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
            ),
        ]
        for (secret, publicKey, message, signature) in vectors {
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: Self.hex(secret))
            #expect(key.publicKey.rawRepresentation == Self.hex(publicKey))
            #expect(key.publicKey.isValidSignature(Self.hex(signature), for: Self.hex(message)))
            var changed = Self.hex(signature)
            changed[0] ^= 1
            #expect(!key.publicKey.isValidSignature(changed, for: Self.hex(message)))
            #expect(key.publicKey.isValidSignature(try key.signature(for: Self.hex(message)), for: Self.hex(message)))
        }
    }

    @Test("Canonical JSON sorts members by UTF-16 code units and escapes as RFC 8785 does")
    func canonicalJSON() throws {
        // RFC 8785, section 3.2.3: the sorting example.
        let members = ["\u{20ac}", "\r", "\u{fb33}", "1", "\u{1f600}", "\u{80}", "\u{f6}"]
        let object = JSONValue.object(
            Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1, .integer(Int64($0))) }))
        let sorted = ["\r", "1", "\u{80}", "\u{f6}", "\u{20ac}", "\u{1f600}", "\u{fb33}"]
        let expected =
            "{"
            + sorted.map { name -> String in
                let quoted = name == "\r" ? "\"\\r\"" : "\"\(name)\""
                return quoted + ":" + String(members.firstIndex(of: name)!)
            }.joined(separator: ",") + "}"
        #expect(String(decoding: CanonicalJSON.encode(object), as: UTF8.self) == expected)

        let text = #"{ "b" : [ 1 , true , null , -7 ], "a" : "q\"\\\n\u000f\u00e9/" , "c": {"z": {}, "y": []} }"#
        let value = try JSONValue.parse(Data(text.utf8), source: "doc.json")
        #expect(
            String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
                == #"{"a":"q\"\\\n\u000fé/","b":[1,true,null,-7],"c":{"y":[],"z":{}}}"#)
        #expect(throws: PuenteError.self) { try JSONValue.parse(Data(#"{"share": 0.5}"#.utf8), source: "doc.json") }
    }

    @Test("A signed document verifies only unchanged, for its own type and with its signer's key")
    func signatures() throws {
        let node = try NodeIdentity.generate(id: "SV-DGME", country: "SLV")
        let other = try NodeIdentity.generate(id: "GT-IGM", country: "GTM")
        let document = try JSONValue.parse(
            Data(#"{"agreement": "SV-HUB-1", "measures": ["returns"], "cells": 150000, "note": "Ñandú"}"#.utf8),
            source: "a")
        let signature = try DocumentSignature.sign(document, type: "puente-agreement+json", by: node)
        // Detached: the compact form holds no payload, and reads back to the same signature.
        let compact = signature.compact
        #expect(compact.split(separator: ".", omittingEmptySubsequences: false).map(\.isEmpty) == [false, true, false])
        let read = try DocumentSignature(compact: compact, source: "a.jws")
        #expect(read == signature && read.header.kid == "SV-DGME/\(node.keyID)" && read.header.alg == "EdDSA")
        try read.verify(document, type: "puente-agreement+json", key: node.publicKey)

        func refusal(_ body: () throws -> Void) -> PuenteError.Code? {
            do { try body() } catch let error as PuenteError { return error.code } catch { return nil }
            return nil
        }
        guard case .object(var members) = document else { Issue.record("not an object"); return }
        members["cells"] = .integer(150001)
        #expect(
            refusal { try read.verify(.object(members), type: "puente-agreement+json", key: node.publicKey) }
                == .signatureInvalid)
        #expect(
            refusal { try read.verify(document, type: "puente-package+json", key: node.publicKey) } == .signatureInvalid
        )
        #expect(
            refusal { try read.verify(document, type: "puente-agreement+json", key: other.publicKey) }
                == .signatureInvalid)
        // The same members in another order are the same document.
        let reordered = try JSONValue.parse(
            Data(#"{"note": "Ñandú", "cells": 150000, "measures": ["returns"], "agreement": "SV-HUB-1"}"#.utf8),
            source: "b")
        try read.verify(reordered, type: "puente-agreement+json", key: node.publicKey)
        // A header written any other way than canonically is not read.
        let loose = Base64URL.encode(Data(#"{"typ":"puente-agreement+json","alg":"EdDSA","kid":"x"}"#.utf8))
        #expect(
            refusal {
                _ = try DocumentSignature(compact: loose + ".." + Base64URL.encode(signature.signature), source: "c")
            } == .invalidInput)
        #expect(refusal { _ = try DocumentSignature(compact: "abc.def.ghi", source: "d") } == .invalidInput)
    }

    @Test("The node's identity lives in the key file: written once, kept when keys are added, never replaced")
    func identityInKeyFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("puente-node-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("node.keys")
        try Keyring.create(file: file)
        #expect(try Keyring.load(file: file).node == nil)
        #expect(throws: PuenteError.self) { try Keyring.initNode(id: "sv", country: "SLV", file: file) }
        let node = try Keyring.initNode(id: "SV-DGME", country: "SLV", file: file)
        _ = try Keyring.addKey(file: file)
        let loaded = try #require(try Keyring.load(file: file).node)
        #expect(
            loaded.kid == node.kid && loaded.country == "SLV"
                && loaded.publicKey.rawRepresentation == node.publicKey.rawRepresentation)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)
        #expect(throws: PuenteError.self) { try Keyring.initNode(id: "SV-OTHER", country: "SLV", file: file) }
        #expect(try Keyring.load(file: file).node?.kid == node.kid)
        // A signing key without the node it belongs to is a broken file, named as such.
        let text = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").filter {
            !$0.hasPrefix("node ")
        }
        #expect(throws: PuenteError.self) { try Keyring.parse(text.joined(separator: "\n")) }
    }

    @Test("An agreement is in force only signed by both parties over unchanged terms, and only within its dates")
    func agreements() throws {
        let sender = try NodeIdentity.generate(id: "SV-DGME", country: "SLV")
        let receiver = try NodeIdentity.generate(id: "HB-SICA", country: "SLV")
        let stranger = try NodeIdentity.generate(id: "GT-IGM", country: "GTM")
        let terms = Agreement(
            id: "SV-HUB-2026", sender: .init(sender), receiver: .init(receiver), purpose: .regionalStatistics,
            measures: ["returns"], dimensions: ["sex", "age_group", "department", "quarter"],
            finestGeography: .department,
            finestPeriod: .quarter, validFrom: "2026-01-01", validTo: "2027-12-31", retentionDays: 1825)
        var agreement = try SignedAgreement(drafting: terms)
        let day = CivilDate(iso: "2026-06-01")!
        #expect(try agreement.notInForce(on: day) != nil)
        try agreement.sign(by: sender)
        #expect(try agreement.notInForce(on: day)?.hasPrefix("HB-SICA") == true)
        #expect(throws: PuenteError.self) { try agreement.sign(by: stranger) }
        try agreement.sign(by: receiver)
        #expect(try agreement.notInForce(on: day) == nil)
        #expect(try agreement.notInForce(on: CivilDate(iso: "2025-12-31")!) != nil)
        #expect(try agreement.notInForce(on: CivilDate(iso: "2028-01-01")!)?.contains("expired") == true)

        // The file reads back to the same agreement, in force; changed terms void both signatures.
        let file = try agreement.file()
        let read = try SignedAgreement(file: file, source: "a.json")
        #expect(read == agreement)
        #expect(try read.notInForce(on: day) == nil)
        var changed = read
        changed.terms.retentionDays = 3650
        #expect(try changed.signatureStatus().allSatisfy { !$0.signed })
        // A signature moved to the other party's place does not count for it.
        var swapped = read
        swapped.signatures["HB-SICA"] = read.signatures["SV-DGME"]
        #expect(try swapped.signatureStatus().map(\.signed) == [true, false])

        // Terms that would let exact figures or unknown measures flow are refused before anyone signs.
        var exact = terms
        exact.minimumProtection = "none"
        #expect(throws: PuenteError.self) { try SignedAgreement(drafting: exact) }
        var unknown = terms
        unknown.measures = ["deaths"]
        #expect(throws: PuenteError.self) { try SignedAgreement(drafting: unknown) }
        var backwards = terms
        backwards.validTo = "2025-01-01"
        #expect(throws: PuenteError.self) { try SignedAgreement(drafting: backwards) }
    }

    @Test("A node keeps only agreements it is party to with both signatures, and nothing is in force once revoked")
    func keptAgreements() async throws {
        let sv = try NodeIdentity.generate(id: "SV-DGME", country: "SLV")
        let hub = try NodeIdentity.generate(id: "HB-SICA", country: "SLV")
        let gt = try NodeIdentity.generate(id: "GT-IGM", country: "GTM")
        var agreement = try SignedAgreement(
            drafting: Agreement(
                id: "SV-HUB-2026", sender: .init(sv), receiver: .init(hub), purpose: .regionalStatistics,
                measures: ["returns"], dimensions: ["sex", "department", "quarter"], finestGeography: .department,
                finestPeriod: .quarter, validFrom: "2026-01-01", validTo: "2027-12-31", retentionDays: 1825))
        let store = try await StoreKind.sqliteMemory.makeStore()
        let service = AgreementService(store: store, node: sv)
        let officer = Actor.commandOperator("dpo")
        try agreement.sign(by: sv)
        await #expect(throws: PuenteError.self) {
            try await service.accept(try agreement.file(), source: "a", by: officer)
        }
        try agreement.sign(by: hub)
        let file = try agreement.file()
        await #expect(throws: PuenteError.self) {
            try await AgreementService(store: store, node: gt).accept(file, source: "a", by: officer)
        }
        #expect(try await service.accept(file, source: "a", by: officer).isNew)
        #expect(try await !service.accept(file, source: "a", by: officer).isNew)
        #expect(
            try await service.inForce(id: "SV-HUB-2026", on: CivilDate(iso: "2026-06-01")!).terms == agreement.terms)
        await #expect(throws: PuenteError.self) {
            try await service.inForce(id: "SV-HUB-2026", on: CivilDate(iso: "2028-01-01")!)
        }
        await #expect(throws: PuenteError.self) { try await service.inForce(id: "OTHER") }

        _ = try await service.revoke(
            id: "SV-HUB-2026", reason: "replaced", on: CivilDate(iso: "2026-07-01")!, by: officer)
        #expect(
            try await service.inForce(id: "SV-HUB-2026", on: CivilDate(iso: "2026-06-30")!).terms.id == "SV-HUB-2026")
        await #expect(throws: PuenteError.self) {
            try await service.inForce(id: "SV-HUB-2026", on: CivilDate(iso: "2026-07-01")!)
        }
        let actions = try await store.auditEntries(after: 0, limit: 10).map(\.action)
        #expect(actions == ["agreement_accepted", "agreement_revoked"])
        try await store.close()
    }

    @Test(
        "The member registry: signed by its hub, refused when changed, rolled back or long expired; revoked keys are not trusted"
    )
    func memberRegistry() throws {
        let hub = try NodeIdentity.generate(id: "HB-SICA", country: "SLV")
        let sv = try NodeIdentity.generate(id: "SV-DGME", country: "SLV")
        let gt = try NodeIdentity.generate(id: "GT-IGM", country: "GTM")
        let day = CivilDate(iso: "2026-03-01")!
        var registry = MemberRegistry(hub: hub.id, issuedOn: day.description, expiresOn: day.description)
        try registry.add(
            node: sv.id, country: "SLV", organisation: "DGME", endpoint: nil, key: sv.publicKeyBase64URL, kid: sv.kid,
            on: day)
        try registry.add(
            node: gt.id, country: "GTM", organisation: "IGM", endpoint: "https://gt.example/",
            key: gt.publicKeyBase64URL, kid: gt.kid, on: day)
        #expect(throws: PuenteError.self) {
            try registry.add(
                node: sv.id, country: "SLV", organisation: "DGME", endpoint: nil, key: sv.publicKeyBase64URL,
                kid: sv.kid, on: day)
        }
        let v1 = try SignedRegistry.issue(registry, by: hub, on: day, days: 30)
        #expect(v1.registry.version == 1 && v1.registry.expiresOn == "2026-03-31")
        let read = try SignedRegistry(file: try v1.file(), source: "registry.json")
        #expect(try read.verify(hubKey: hub.publicKeyBase64URL, highestTrusted: 0, on: day) == .trusted)
        #expect(throws: PuenteError.self) { try read.verify(hubKey: sv.publicKeyBase64URL, highestTrusted: 0, on: day) }

        // A changed byte of the registry (here: a member's key swapped) fails the hub's signature.
        var forged = read
        forged.registry.members[1].keys[0].x = hub.publicKeyBase64URL
        #expect(throws: PuenteError.self) {
            try forged.verify(hubKey: hub.publicKeyBase64URL, highestTrusted: 0, on: day)
        }

        // Rotation keeps the old key for what it signed; revocation trusts none of the member's keys.
        let newSV = try NodeIdentity.generate(id: "SV-DGME", country: "SLV")
        var next = v1.registry
        try next.rotate(node: sv.id, key: newSV.publicKeyBase64URL, kid: newSV.kid, on: day.adding(days: 10))
        try next.revoke(node: gt.id, on: day.adding(days: 10))
        let v2 = try SignedRegistry.issue(next, by: hub, on: day.adding(days: 10))
        #expect(v2.registry.version == 2)
        #expect(try v2.verify(hubKey: hub.publicKeyBase64URL, highestTrusted: 1, on: day.adding(days: 10)) == .trusted)
        #expect(v2.registry.member(sv.id)?.currentKey?.kid == newSV.kid)
        #expect((try? v2.registry.trustedKey(kid: sv.kid).get()) == sv.publicKeyBase64URL)
        #expect((try? v2.registry.trustedKey(kid: newSV.kid).get()) == newSV.publicKeyBase64URL)
        #expect((try? v2.registry.trustedKey(kid: gt.kid).get()) == nil)
        #expect((try? v2.registry.trustedKey(kid: "MX-INM/s00000000").get()) == nil)

        // Once version 2 is trusted, version 1 is a rollback; an expired registry works for a grace period only.
        #expect(throws: PuenteError.self) {
            try read.verify(hubKey: hub.publicKeyBase64URL, highestTrusted: 2, on: day)
        }
        let expired = day.adding(days: 10 + 30 + 3)
        #expect(
            try v2.verify(hubKey: hub.publicKeyBase64URL, highestTrusted: 2, on: expired)
                == .trustedInGrace(expiredOn: v2.registry.expiresOn))
        #expect(throws: PuenteError.self) {
            try v2.verify(hubKey: hub.publicKeyBase64URL, highestTrusted: 2, on: day.adding(days: 10 + 30 + 8))
        }
    }
}
