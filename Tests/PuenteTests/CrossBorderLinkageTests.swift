import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteIngest
import PuenteLinkage
import PuenteStatistics
import PuenteSynthetic
import PuenteTesting
import Testing

@testable import PuenteServices

/// Two nodes and a linkage unit on real stores: each node encodes its returns under a linkage
/// agreement, the unit matches without the secret, each node keeps the links to its own events.
@Suite("Linkage between countries: two nodes, a linkage unit, no name crossing")
struct CrossBorderLinkageTests {
    static let sv = try! NodeIdentity.generate(id: "SV-DGME", country: "SLV")
    static let gt = try! NodeIdentity.generate(id: "GT-IGM", country: "GTM")
    static let hub = try! NodeIdentity.generate(id: "HB-SICA", country: "SLV")
    static let officer = Actor.commandOperator("officer")
    static let secret = Array("the secret SV and GT agreed on paper".utf8)

    static func terms(id: String = "SV-GT-LINK-2026", result: String = "pairs") -> Agreement {
        Agreement(
            id: id, sender: .init(sv), receiver: .init(gt), purpose: .linkage, measures: [], dimensions: [],
            finestGeography: .country, finestPeriod: .year, validFrom: "2026-01-01", validTo: "2030-12-31",
            retentionDays: 365,
            linkage: .init(
                unit: .init(hub), scheme: PPRLScheme.standard.parameterHash, result: result,
                thresholdPerMille: Int(PPRLScheme.standardPersonThreshold * 1000), events: ["RETURN"]))
    }

    static func signed(_ terms: Agreement) throws -> SignedAgreement {
        var agreement = try SignedAgreement(drafting: terms)
        try agreement.sign(by: sv)
        try agreement.sign(by: gt)
        return agreement
    }

    /// A node's store holding `lines` of El Salvador's generated returns (header first), with the
    /// agreements kept.
    static func node(
        _ kind: StoreKind, _ identity: NodeIdentity, _ lines: [String], dir: URL, agreements: [SignedAgreement]
    ) async throws -> any PuenteStore {
        let store = try await kind.makeStore()
        let file = dir.appendingPathComponent("\(identity.id).csv")
        try lines.joined(separator: "\n").appending("\n").write(to: file, atomically: true, encoding: .isoLatin1)
        _ = try await Importer(store: store).importFile(file, profile: try ProfileCatalogue.load("sv-dgme-retornos"))
        for agreement in agreements {
            _ = try await AgreementService(store: store, node: identity).accept(
                try agreement.file(), source: "a", by: officer)
        }
        return store
    }

    @Test(
        "Encoded, matched by the unit, kept by each node: links to the right persons, no name in any package, consent and erasure respected, drifted parameters refused by name",
        arguments: StoreKind.available)
    func betweenTwoNodes(kind: StoreKind) async throws {
        let (dir, _) = try Fixtures.generated(country: "SV", seed: 21, scale: 0.03)
        let lines = try String(
            contentsOfFile: dir.appendingPathComponent("sv-dgme-retornos.csv").path, encoding: .isoLatin1
        ).split(separator: "\n").map(String.init)
        // Two registers of the same country's returns: persons who returned in both halves of the year
        // are in both, each time with the errors of that record.
        let half = lines.count / 2
        let pairs = try Self.signed(Self.terms()),
            counts = try Self.signed(Self.terms(id: "SV-GT-COUNT", result: "counts"))
        let svStore = try await Self.node(
            kind, Self.sv, [lines[0]] + lines[1..<half], dir: dir, agreements: [pairs, counts])
        let gtStore = try await Self.node(
            .sqliteMemory, Self.gt, [lines[0]] + lines[half...], dir: dir, agreements: [pairs, counts])
        // Each node links its own records into persons first, in clear, at home.
        var config = try PersonLinking.defaultConfig()
        config.randomPairs = 20_000
        for store in [svStore, gtStore] {
            _ = try await PersonLinkingService(store: store).link(PersonLinking(config: config), by: Self.officer)
        }
        let svLinkage = CrossBorderLinkage(store: svStore, node: Self.sv)
        let gtLinkage = CrossBorderLinkage(store: gtStore, node: Self.gt)

        // One Salvadoran withdrew consent to exchange: never encoded.
        let svEvents = try await svStore.events(importID: 1, limit: 100_000)
        let withdrawn = svEvents[3]
        let consent = try await ConsentService(store: svStore).record(
            .init(
                agency: withdrawn.source.agency, recordKey: withdrawn.source.recordKey, purpose: "exchange",
                givenOn: "2026-01-02"), by: Self.officer)
        try await ConsentService(store: svStore).withdraw(id: consent.id, by: Self.officer)

        let svSent = try await svLinkage.encodings(agreement: "SV-GT-LINK-2026", secret: Self.secret, by: Self.officer)
        let gtSent = try await gtLinkage.encodings(agreement: "SV-GT-LINK-2026", secret: Self.secret, by: Self.officer)
        #expect(svSent.encoded == svEvents.count - 1 && svSent.leftOut == 1)
        let files = [try svSent.package.file(), try gtSent.package.file()]

        // The unit's view: no name, birth date or document of any record, in any package it sees.
        let clear = svEvents.flatMap { e in
            [e.person.givenNames, e.person.surnames, e.person.documentNumber, e.person.birthDate?.description]
                .compactMap { $0 }.filter { $0.count >= 5 }
        }
        #expect(clear.count > 100)
        // What a package shows: its manifest, and every CSV field but three kinds, each checked for its
        // form and then left out of the scan: the encodings (base64 of 2,048 bits), the pseudonyms of
        // events and persons (12 bytes of a keyed hash in base64url) and the event days, which must be
        // the events' own days. The signature is left out too: lowered, random base64 letters spell a
        // name now and then.
        let svPseudonym = svLinkage.pseudonyms(agreement: "SV-GT-LINK-2026")
        let svDays = Dictionary(uniqueKeysWithValues: svEvents.map { (svPseudonym($0.id), $0.date.description) })
        func pseudonym(_ field: String) -> Bool { field.count == 16 && Base64URL.decode(field)?.count == 12 }
        func leaks(_ file: Data) throws -> [String] {
            let package = try SignedPackage(file: file, source: "p")
            var text = String(decoding: try CanonicalJSON.encode(package.manifest), as: UTF8.self)
            for part in package.parts {
                let rows = String(decoding: part, as: UTF8.self).split(separator: "\n")
                let encodings = rows.first == "id,clk,type,day,person"
                for row in rows.dropFirst() {
                    let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                    #expect(f.count == 5)
                    guard f.count == 5 else { continue }
                    if encodings {  // id,clk,type,day,person
                        #expect(pseudonym(f[0]) && pseudonym(f[4]))
                        #expect(Data(base64Encoded: f[1])?.count == 256)
                        if let day = svDays[f[0]] { #expect(f[3] == day) }
                        text += f[2] + "\n"
                    } else {  // record,partner_record,dice_per_mille,partner_type,partner_day
                        #expect(pseudonym(f[0]) && pseudonym(f[1]))
                        #expect(CivilDate(iso: f[4]) != nil)  // the partner's event day
                        text += f[2...3].joined(separator: ",") + "\n"
                    }
                }
            }
            let lowered = text.lowercased()
            return clear.filter { lowered.contains($0.lowercased()) }
        }
        #expect(try files.flatMap { try leaks($0) } == [])

        let outcome = try LinkageUnit(node: Self.hub).match(
            agreement: pairs, packages: [(files[0], "SV.puente"), (files[1], "GT.puente")])
        #expect(outcome.matches > 20)
        for result in outcome.results.values { #expect(try leaks(try result.file()).isEmpty) }

        let svApplied = try await svLinkage.apply(try outcome.results["SV-DGME"]!.file(), source: "r", by: Self.officer)
        let gtApplied = try await gtLinkage.apply(try outcome.results["GT-IGM"]!.file(), source: "r", by: Self.officer)
        #expect(svApplied.links == outcome.matches && gtApplied.links == outcome.matches)
        let svLinks = try await svStore.crossBorderLinks(), gtLinks = try await gtStore.crossBorderLinks()
        #expect(svLinks.allSatisfy { $0.partner == "GT-IGM" } && gtLinks.allSatisfy { $0.partner == "SV-DGME" })
        #expect(!svLinks.contains { $0.event == withdrawn.id })

        // Each link joins records of one person, by the generator's truth, for nearly all links; and
        // most persons in both registers are found.
        var person: [String: String] = [:]
        for row in try Fixtures.truthRows(dir.appendingPathComponent("truth/sv-dgme-retornos.truth.csv")) {
            person[row["record_key"]!] = row["person_id"]!
        }
        func personOf(_ e: MovementEvent) -> String? {
            let key = e.source.recordKey
            return person[key] ?? key.split(separator: ":").last.flatMap { person[String($0)] }
        }
        let svByID = Dictionary(uniqueKeysWithValues: svEvents.map { ($0.id, $0) })
        let gtByID = Dictionary(
            uniqueKeysWithValues: try await gtStore.events(importID: 1, limit: 100_000).map { ($0.id, $0) })
        // SV's link names GT's record by GT's pseudonym, which only GT can turn back into its event.
        let gtPseudonym = gtLinkage.pseudonyms(agreement: "SV-GT-LINK-2026")
        let gtByPseudonym = Dictionary(uniqueKeysWithValues: gtByID.keys.map { (gtPseudonym($0), $0) })
        let correct = svLinks.filter { link in
            guard let gtEvent = gtByPseudonym[link.partnerRecord].flatMap({ gtByID[$0] }) else { return false }
            return personOf(svByID[link.event]!) == personOf(gtEvent)
        }.count
        #expect(Double(correct) >= 0.9 * Double(svLinks.count))
        let svPersons = Set(svEvents.compactMap(personOf)), gtPersons = Set(gtByID.values.compactMap(personOf))
        let common = svPersons.intersection(gtPersons).count
        let found = Set(svLinks.compactMap { svByID[$0.event].flatMap(personOf) }).intersection(gtPersons).count
        #expect(common > 20 && Double(found) >= 0.8 * Double(common), "found \(found) of \(common)")

        // Cross-border figures: each linked event once, described by its nearest partner event, counted
        // here apart from the service.
        let statistics = CrossBorderStatistics(store: svStore)
        let exactTable = try await statistics.table(
            .linkedAbroad, by: ["type", "partner", "partner_type", "order"], exact: true, purpose: "test",
            by: Self.officer)
        var expected: [[String]: Int] = [:]
        for (event, links) in Dictionary(grouping: svLinks, by: \.event) {
            let day = svByID[event]!.date.daysSinceEpoch
            let nearest = links.min {
                (abs($0.partnerDay.daysSinceEpoch - day), $0.partnerRecord)
                    < (abs($1.partnerDay.daysSinceEpoch - day), $1.partnerRecord)
            }!
            let days = nearest.partnerDay.daysSinceEpoch - day
            let order = days > 0 ? "partner_after" : days < 0 ? "partner_before" : "same_day"
            expected[["RETURN", "GTM", nearest.partnerType.rawValue, order], default: 0] += 1
        }
        #expect(
            Dictionary(uniqueKeysWithValues: exactTable.cells.map { ($0.key, Int($0.value ?? -1)) }) == expected)
        #expect(exactTable.total.value.map(Int.init) == Set(svLinks.map(\.event)).count)
        let share = try await statistics.table(.linkedShare, by: [], exact: true, purpose: "test", by: Self.officer)
        let linkedShare = 100 * Double(Set(svLinks.map(\.event)).count) / Double(svEvents.count)
        #expect(abs((share.total.value ?? 0) - linkedShare) < 0.005)  // shares are published to two decimals
        // Protected as published: every cell perturbed (E) or suppressed (Q), never given as counted.
        let protected = try await statistics.table(.linkedAbroad, by: ["type", "order"], by: Self.officer)
        #expect(protected.cells.allSatisfy { ["E", "Q"].contains($0.obsStatus) || $0.value == 0 })

        // Erasure removes a person's links; a result applied again drops the erased record's matches.
        let erased = svByID[svLinks[0].event]!
        _ = try await svStore.erasePersonalData(agency: erased.source.agency, recordKeys: [erased.source.recordKey])
        #expect(try await !svStore.crossBorderLinks().contains { $0.event == erased.id })
        let again = try await svLinkage.apply(try outcome.results["SV-DGME"]!.file(), source: "r", by: Self.officer)
        #expect(again.dropped >= 1 && again.links! < outcome.matches)

        // Parameters that drifted: refused by the unit, naming the party and both hashes.
        var drifted = PPRLScheme.standard
        drifted.flipPerMille = 20
        let package = try SignedPackage(file: files[1], source: "GT.puente")
        var manifest = package.manifest
        manifest.linkage!.parameterHash = drifted.parameterHash
        let resealed = try SignedPackage.seal(
            manifest, parts: [(LinkagePackages.encodingsPart, "text/csv; charset=utf-8", package.parts[0])], by: Self.gt
        )
        #expect {
            _ = try LinkageUnit(node: Self.hub).match(
                agreement: pairs, packages: [(files[0], "SV.puente"), (try resealed.file(), "GT.puente")])
        } throws: { error in
            let text = "\(error)"
            return text.contains("GT-IGM") && text.contains(drifted.parameterHash)
                && text.contains(PPRLScheme.standard.parameterHash)
        }
        // A node encoding with other parameters is refused before anything is sealed.
        await #expect(throws: PuenteError.self) {
            _ = try await gtLinkage.encodings(
                agreement: "SV-GT-LINK-2026", secret: Self.secret, scheme: drifted, by: Self.officer)
        }
        // A package signed by another key than the party's is refused.
        let forged = try SignedPackage.seal(
            package.manifest, parts: [(LinkagePackages.encodingsPart, "text/csv; charset=utf-8", package.parts[0])],
            by: Self.hub)
        #expect(throws: PuenteError.self) {
            _ = try LinkageUnit(node: Self.hub).match(
                agreement: pairs, packages: [(files[0], "SV.puente"), (try forged.file(), "GT.puente")])
        }

        // A counts agreement: each party learns how many, and keeps no link.
        let svCount = try await svLinkage.encodings(agreement: "SV-GT-COUNT", secret: Self.secret, by: Self.officer)
        let gtCount = try await gtLinkage.encodings(agreement: "SV-GT-COUNT", secret: Self.secret, by: Self.officer)
        let counted = try LinkageUnit(node: Self.hub).match(
            agreement: counts,
            packages: [(try svCount.package.file(), "SV.puente"), (try gtCount.package.file(), "GT.puente")])
        let gtCounts = try await gtLinkage.apply(try counted.results["GT-IGM"]!.file(), source: "c", by: Self.officer)
        #expect(gtCounts.links == nil && gtCounts.counts?.pairs == counted.matches)
        #expect(gtCounts.counts?.records == gtSent.encoded)
        #expect(try await gtStore.crossBorderLinks().allSatisfy { $0.agreement == "SV-GT-LINK-2026" })
        try await svStore.close()
        try await gtStore.close()
    }
}
