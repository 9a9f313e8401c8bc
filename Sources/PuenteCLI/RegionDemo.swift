import ArgumentParser
import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteIngest
import PuenteServices
import PuenteSynthetic

/// `puente demo --region`: three national nodes and a hub, each with its own store and key file under
/// one folder. Each node loads a generated year of its country, signs an agreement with the hub and
/// exports its package (kept in `packages/`); the hub serves its dashboard on loopback and the nodes
/// push their packages to it over HTTP, each with its own node token, keeping the hub's signed receipts.
struct RegionDemo {
    static let members: [(generator: String, node: String, country: String, organisation: String)] = [
        ("SV", "SV-DGME", "SLV", "DGME"), ("GT", "GT-IGM", "GTM", "IGM"), ("HN", "HN-INM", "HND", "INM"),
    ]
    static let hubID = "HB-SICA"

    var root: URL
    var year: Int
    var scale: Double

    /// A member's or the hub's store settings, parsed like the user's own.
    func storeOptions(_ name: String) throws -> StoreOptions {
        try StoreOptions.parse(["--database", root.appendingPathComponent("\(name)/\(name).sqlite").path])
    }

    /// A store and key file made anew, with the node's identity.
    func freshNode(_ name: String, id: String, country: String) async throws -> (StoreOptions, NodeIdentity) {
        let dir = root.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let options = try storeOptions(name)
        try await withStore(options) { _ in }
        return (options, try Keyring.initNode(id: id, country: country, file: options.keyFileURL!))
    }

    struct Prepared {
        var hub: StoreOptions
        var hubIdentity: NodeIdentity
        /// Member node id → its store settings and its token at the hub.
        var members: [(node: String, options: StoreOptions, token: String)]
    }

    /// Everything up to the packages: nodes, agreements, imports, exports, the hub's accounts for them.
    func prepare(operator actor: Actor) async throws -> Prepared {
        let (hubOptions, hub) = try await freshNode("hub", id: Self.hubID, country: "SLV")
        let packages = root.appendingPathComponent("packages")
        try? FileManager.default.removeItem(at: packages)
        try FileManager.default.createDirectory(at: packages, withIntermediateDirectories: true)
        var registry = MemberRegistry(
            hub: hub.id, issuedOn: CivilDate.today.description, expiresOn: CivilDate.today.description)
        var members: [(node: String, options: StoreOptions, token: String)] = []
        // One consistent region: the same people cross the shared borders, Mexico's figures count the
        // same returns.
        let generated = root.appendingPathComponent("data")
        try? FileManager.default.removeItem(at: generated)
        let region = try RegionGenerator(year: year, seed: 1, scale: scale).write(to: generated)
        for m in Self.members {
            let (options, node) = try await freshNode(m.generator, id: m.node, country: m.country)
            let data = generated.appendingPathComponent(m.generator)
            let summary = region.countries[m.generator]!
            var agreement = try SignedAgreement(
                drafting: Agreement(
                    id: "\(m.node)-HUB-\(year)", sender: .init(node), receiver: .init(hub),
                    purpose: .regionalStatistics, measures: ["returns", "entries", "exits"],
                    dimensions: [
                        "sex", "age_group", "nationality", "returning_from", "department", "place", "quarter",
                    ],
                    finestGeography: .department, finestPeriod: .quarter, validFrom: "\(year)-01-01",
                    validTo: "\(max(year, CivilDate.today.year) + 4)-12-31", retentionDays: 1825))
            try agreement.sign(by: node)
            try agreement.sign(by: hub)
            let agreementFile = try agreement.file()
            try writeFile(agreementFile, to: root.appendingPathComponent("\(m.generator)/agreement.json").path)
            let sent = try await withStore(options) { store in
                let importer = Importer(store: store)
                for file in summary.files {
                    let report = try await importer.importFile(
                        data.appendingPathComponent(file.file), profile: try ProfileCatalogue.load(file.profile))
                    say("\(m.node): loaded \(file.file), \(report.accepted) accepted")
                }
                _ = try await AgreementService(store: store, node: node).accept(
                    agreementFile, source: "agreement", by: actor)
                return try await ExchangeService(store: store, node: node).export(
                    agreement: agreement.terms.id, year: year, by: actor)
            }
            let file = packages.appendingPathComponent("\(m.node)-\(year)-\(sent.sequence).puente")
            try writeFile(Data(sent.file.utf8), to: file.path)
            say("\(m.node): package for \(year) signed and queued (\(file.lastPathComponent))")
            let token = try await withStore(hubOptions) { store in
                _ = try await AgreementService(store: store, node: hub).accept(
                    agreementFile, source: "agreement", by: actor)
                let access = AccessService(store: store)
                _ = try await access.createUser(username: m.node, role: .node, password: nil, by: actor)
                return try await access.createToken(username: m.node, label: "demo push", days: 1, by: actor).1
            }
            try registry.add(
                node: m.node, country: m.country, organisation: m.organisation, endpoint: nil,
                key: node.publicKeyBase64URL, kid: node.kid, on: .today)
            members.append((m.node, options, token))
        }
        // The hub signs the member registry and trusts it: senders' keys are checked against it.
        let signed = try SignedRegistry.issue(registry, by: hub, on: .today)
        try writeFile(try signed.file(), to: root.appendingPathComponent("hub/registry.json").path)
        let partner = generated.appendingPathComponent(region.partnerFigures)
        _ = try await withStore(hubOptions) { store in
            _ = try await ExchangeService(store: store, node: hub).trustRegistry(
                try signed.file(), source: "registry", hubKey: hub.publicKeyBase64URL, by: actor)
            // Mexico runs no node: its published returns by nationality are loaded as partner figures.
            _ = try await MirrorStatistics(regional: RegionalStatistics(store: store)).loadPartnerFigures(
                try Data(contentsOf: partner), name: partner.lastPathComponent, by: actor)
        }
        say("hub: loaded Mexico's returns by nationality (\(region.partnerFigures)) for mirror statistics")
        return Prepared(hub: hubOptions, hubIdentity: hub, members: members)
    }

    /// Each node pushes its queue to the hub at `endpoint`, as it would over the network.
    static func push(_ prepared: Prepared, endpoint: String, by actor: Actor) async throws {
        for member in prepared.members {
            let node = try member.options.nodeIdentity()
            let report = try await withStore(member.options) { store in
                try await ExchangeClient(exchange: ExchangeService(store: store, node: node), store: store).push(
                    endpoint: endpoint, token: member.token, by: actor)
            }
            for (package, receipt) in report.delivered {
                say(
                    "\(member.node): package \(package.sequence) delivered, \(receipt.receipt.outcome.rawValue) at the hub"
                )
            }
            if let problem = report.unreachable ?? report.refused.first.map({ "\($0.code): \($0.message)" }) {
                throw PuenteError(.storeUnavailable, "\(member.node) could not deliver its package: \(problem)")
            }
        }
    }
}
