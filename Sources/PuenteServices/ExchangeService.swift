import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteReference
import PuenteStatistics

/// Packages between nodes, both ways. A sender builds a package of protected statistics under an
/// agreement in force and keeps it (with its sequence number) until a receipt comes back. A receiver
/// checks every package before it keeps anything: frame and hashes, the sender's key against the
/// member registry it trusts (or the agreement's key when there is none), the signature, the agreement
/// in force, the content against the terms, the code lists and the sequence. What it refuses is in the
/// audit trail with the refusal's code; what it accepts is published in sequence order, held while an
/// earlier package is missing, and a package delivered twice changes nothing.
public struct ExchangeService: Sendable {
    let store: any PuenteStore
    let node: NodeIdentity
    let agreements: AgreementService
    let engine: StatisticsEngine
    let disclosure: DisclosurePolicy
    let content: PackageContent
    let audit: AuditLog

    public init(
        store: any PuenteStore, node: NodeIdentity, disclosure: DisclosurePolicy = .standard,
        reference: ReferenceData = .shared
    ) {
        self.store = store
        self.node = node
        agreements = AgreementService(store: store, node: node)
        engine = StatisticsEngine(store: store, reference: reference)
        self.disclosure = disclosure
        content = PackageContent(reference: reference)
        audit = AuditLog(store: store)
    }

    // MARK: Sending

    /// Builds, signs and keeps the package of `year` under an agreement in force in which this node is
    /// the sender: every count measure the agreement shares, broken down by each combination of its
    /// dimensions (totals as `_T`) and its finest period, protected as the node's public statistics are
    /// with the agreement's method, so a cell has the same value here and at the receiver.
    public func export(agreement id: String, year: Int, on date: CivilDate = .today, by actor: Actor) async throws
        -> SentPackage
    {
        let agreement = try await agreements.inForce(id: id, on: date)
        let terms = agreement.terms
        guard terms.sender.node == node.id else {
            throw PuenteError(.forbidden, "This node (\(node.id)) is not the sender in agreement \(id).")
        }
        return try await seal(
            terms: terms, year: year, csv: try await observationsCSV(terms: terms, year: year), by: actor)
    }

    /// For each agreement in force marked `automatic` in which this node sends: a package for every
    /// year this node has events in whose payload differs from the last package sent for that year (all
    /// of them the first time; afterwards only corrections). What `serve --push-every` runs before pushing.
    public func exportChanged(on date: CivilDate = .today, by actor: Actor) async throws -> [SentPackage] {
        var out: [SentPackage] = []
        var lastSent: [String: SentPackage] = [:]  // "agreement year" → the highest sequence sent
        for p in try await store.sentPackages(undelivered: false) {
            let key = "\(p.agreement) \(p.period)"
            if (lastSent[key]?.sequence ?? 0) < p.sequence { lastSent[key] = p }
        }
        for kept in try await store.agreements() {
            guard let terms = try? kept.signed().terms, terms.automatic == true, terms.sender.node == node.id,
                (try? await agreements.inForce(id: kept.id, on: date)) != nil
            else { continue }
            let years = try await engine.run(
                StatisticsQuery(measure: .events, by: [.year], filters: [.reportingCountry: [terms.sender.country]]),
                policy: disclosure
            ).cells.compactMap { Int($0.key[0]) }
            for year in years.sorted() {
                let csv = try await observationsCSV(terms: terms, year: year)
                if let last = lastSent["\(kept.id) \(year)"],
                    let manifest = try? SignedPackage(file: Data(last.file.utf8), source: last.id).manifest,
                    manifest.parts.map(\.sha256) == [SignedPackage.digest(of: csv)]
                {
                    continue
                }
                out.append(try await seal(terms: terms, year: year, csv: csv, by: actor))
            }
        }
        return out
    }

    /// Signs a package of `csv` for `year` under `terms`, queues it and audits it.
    func seal(terms: Agreement, year: Int, csv: Data, by actor: Actor) async throws -> SentPackage {
        let id = terms.id
        let manifest = PackageManifest(
            id: UUID().uuidString.lowercased(), sender: node.id, receiver: terms.receiver.node, agreement: id,
            dataflow: SDMXFlow.flowReference, codeLists: content.codeListPins, period: String(year),
            frequency: PackageContent.frequency(for: terms.finestPeriod), measures: terms.measures,
            dimensions: terms.dimensions, protection: terms.minimumProtection,
            sequence: try await store.nextSentSequence(agreement: id), createdAt: Timestamp.now())
        let package = try SignedPackage.seal(
            manifest, parts: [(PackageContent.partName, PackageContent.mediaType, csv)], by: node)
        let file = try package.file()
        let sent = SentPackage(
            id: manifest.id, agreement: id, receiver: manifest.receiver, sequence: manifest.sequence,
            period: manifest.period, digest: SignedPackage.digest(of: file),
            file: String(decoding: file, as: UTF8.self),
            createdAt: manifest.createdAt)
        try await store.saveSentPackage(sent)
        try await audit.record(
            .init(
                actor: actor.name, action: "package_created",
                target: "package:\(manifest.id) agreement:\(id) to:\(manifest.receiver) sequence:\(manifest.sequence) "
                    + "period:\(manifest.period) sha256:\(sent.digest)", address: actor.address))
        return sent
    }

    /// The payload: SDMX-CSV rows of every table the agreement allows, each cell once: every period from
    /// the year down to the finest allowed, so a receiver never adds up perturbed quarters into a year
    /// the sender publishes otherwise.
    func observationsCSV(terms: Agreement, year: Int) async throws -> Data {
        let periods = Agreement.Period.allCases.prefix { $0 != terms.finestPeriod } + [terms.finestPeriod]
        let breakdown = terms.dimensions.compactMap(PuenteStatistics.Dimension.init(rawValue:)).filter {
            ![.year, .quarter, .month, .reportingCountry].contains($0)
        }
        var policy = disclosure
        policy.method = DisclosurePolicy.Method(rawValue: terms.minimumProtection)!
        var out = CSVWriter.line(SDMXFlow.csvHeader)
        var seen = Set<String>()
        for name in terms.measures {
            guard let measure = Measure(rawValue: name), SDMXFlow.movementCodes[measure] != nil else {
                throw PuenteError(
                    .invalidArgument, "Measure \(name) is not a count: packages carry counts in SDMX.")
            }
            let tables = periods.flatMap { period in
                Self.subsets(of: breakdown).map { $0 + [PuenteStatistics.Dimension(rawValue: period.rawValue)!] }
            }
            for by in tables {
                let query = StatisticsQuery(
                    measure: measure, by: by,
                    filters: [.year: [String(year)], .reportingCountry: [terms.sender.country]])
                for row in try await engine.run(query, policy: policy).sdmxCSVRows() {
                    // The key and period (columns up to TIME_PERIOD) name the cell.
                    guard seen.insert(row[3...(3 + SDMXFlow.dimensionIDs.count)].joined(separator: ",")).inserted
                    else { continue }
                    out += CSVWriter.line(row)
                }
            }
        }
        return Data(out.utf8)
    }

    /// Every combination of the dimensions (the empty one first) that SDMX can show: at most one of those
    /// that share a DSD dimension (age and age_group both show as AGE).
    static func subsets(of dimensions: [PuenteStatistics.Dimension]) -> [[PuenteStatistics.Dimension]] {
        var out: [[PuenteStatistics.Dimension]] = [[]]
        for d in dimensions {
            let component = SDMXFlow.dimensionIDs.first { SDMXFlow.shownDimensions(of: $0).contains(d) }
            out += out.filter { subset in
                !subset.contains { other in SDMXFlow.shownDimensions(of: component ?? "").contains(other) }
            }.map { $0 + [d] }
        }
        return out
    }

    /// Packages sent, oldest first (not delivered yet only, when `undelivered`).
    public func sent(undelivered: Bool = false) async throws -> [SentPackage] {
        try await store.sentPackages(undelivered: undelivered)
    }

    /// Records the receiver's receipt for a package this node sent, after checking the receiver's
    /// signature by the key its agreement names.
    public func recordReceipt(_ file: Data, source: String, by actor: Actor) async throws -> SignedReceipt {
        let receipt = try SignedReceipt(file: file, source: source)
        guard
            let sent = try await store.sentPackages(undelivered: false).first(where: {
                $0.id == receipt.receipt.package
            })
        else { throw PuenteError(.notFound, "No package with that id was sent from this node.") }
        guard sent.digest == receipt.receipt.sha256 else {
            throw PuenteError(.signatureInvalid, "The receipt is for another file than the one sent under that id.")
        }
        guard let kept = try await store.agreement(id: sent.agreement) else { throw PuenteError.noSuchAgreement }
        let terms = try kept.signed().terms
        try receipt.verify(receiverKey: (terms.counterpart(of: node.id) ?? terms.receiver).key)
        try await store.markDelivered(
            packageID: sent.id, at: receipt.receipt.receivedAt,
            receipt: String(decoding: try receipt.file(), as: UTF8.self))
        try await audit.record(
            .init(
                actor: actor.name, action: "package_delivered",
                target:
                    "package:\(sent.id) agreement:\(sent.agreement) to:\(sent.receiver) outcome:\(receipt.receipt.outcome.rawValue)",
                address: actor.address))
        return receipt
    }

    // MARK: Receiving

    /// A package that passed every check: what a receiver would keep.
    public struct CheckedPackage: Sendable {
        public var package: SignedPackage
        public var digest: String
        public var observations: [ExchangeObservation]
        /// What a referral package carries, decrypted (statistics packages have none).
        public var referral: ReferralMessage?
        /// Set when the same package was received before.
        public var duplicateOf: ReceivedPackage?
    }

    /// Every check a receiver makes, without keeping anything: `puente exchange verify` and the first
    /// half of `receive`. Throws the refusal, with its code, when the package would be refused.
    /// `deliveredBy`: the node account that delivered it over HTTP, which must be its sender.
    public func check(_ file: Data, source: String, deliveredBy: String? = nil, on date: CivilDate = .today)
        async throws -> CheckedPackage
    {
        let package = try SignedPackage(file: file, source: source)
        let manifest = package.manifest
        let at = InputLocation(file: source)
        if let deliveredBy, deliveredBy != manifest.sender {
            throw PuenteError(
                .senderUnknown, "The token of \(deliveredBy) delivered a package from \(manifest.sender).", at: at)
        }
        guard manifest.receiver == node.id else {
            throw PuenteError(
                .packageMisaddressed,
                "The package is addressed to \(manifest.receiver), not to this node (\(node.id)).",
                at: at)
        }
        guard let kept = try await store.agreement(id: manifest.agreement) else {
            throw PuenteError(.outsideAgreement, "No agreement \(manifest.agreement) is kept here.", at: at)
        }
        let terms = try kept.signed().terms
        // Figures flow from the sender to the receiver; referral agreements carry statuses back too.
        let parties =
            terms.purpose == .referral
            ? terms.counterpart(of: node.id)?.node == manifest.sender
            : terms.sender.node == manifest.sender && terms.receiver.node == node.id
        guard parties else {
            throw PuenteError(
                .outsideAgreement,
                "Agreement \(terms.id) is between \(terms.sender.node) and \(terms.receiver.node), not from \(manifest.sender) to this node.",
                at: at)
        }
        try package.verifySignature(publicKey: try await senderKey(package, terms: terms, on: date, at: at))
        do {
            _ = try await agreements.inForce(id: terms.id, on: date)
        } catch let error as PuenteError where error.code == .agreementNotInForce {
            throw PuenteError(error.code, error.message, at: at)
        }
        var observations: [ExchangeObservation] = []
        var referral: ReferralMessage?
        if terms.purpose == .referral {
            let message = try ReferralPackage.open(package, by: node, source: source)
            try message.check(terms: terms, from: manifest.sender, source: source)
            referral = message
        } else {
            try content.checkManifest(manifest, terms: terms, source: source)
            observations = try content.observations(of: package, terms: terms, source: source)
        }
        let digest = SignedPackage.digest(of: file)
        var duplicate: ReceivedPackage?
        if let earlier = try await store.receivedPackage(
            sender: manifest.sender, agreement: manifest.agreement, sequence: manifest.sequence)
        {
            guard earlier.digest == digest else {
                throw PuenteError(
                    .sequenceReused,
                    "Another package from \(manifest.sender) under \(manifest.agreement) has sequence number \(manifest.sequence) already.",
                    at: at)
            }
            duplicate = earlier
        } else if referral == nil,  // each referral message stands alone: no order to keep
            manifest.sequence
                <= (try await store.lastPublishedSequence(sender: manifest.sender, agreement: manifest.agreement))
        {
            throw PuenteError(
                .sequenceReused,
                "Sequence number \(manifest.sequence) from \(manifest.sender) under \(manifest.agreement) was published already.",
                at: at)
        }
        return CheckedPackage(
            package: package, digest: digest, observations: observations, referral: referral, duplicateOf: duplicate)
    }

    /// The key the sender's signature must verify with: from the member registry this node trusts, where
    /// the member must be active and the key neither revoked nor retired; without a registry (two nodes
    /// exchanging directly), the key the agreement names for the sender.
    func senderKey(_ package: SignedPackage, terms: Agreement, on date: CivilDate, at: InputLocation) async throws
        -> String
    {
        let manifest = package.manifest
        let kid = package.signature.header.kid
        guard kid.hasPrefix(manifest.sender + "/") else {
            throw PuenteError(.senderUnknown, "Signed by \(kid), not by the sender \(manifest.sender).", at: at)
        }
        guard let trusted = try await store.trustedRegistry() else {
            return (terms.counterpart(of: node.id) ?? terms.sender).key
        }
        let registry = try SignedRegistry(file: Data(trusted.document.utf8), source: "trusted registry").registry
        if let expires = CivilDate(iso: registry.expiresOn),
            date.daysSinceEpoch - expires.daysSinceEpoch > SignedRegistry.graceDays
        {
            throw PuenteError(
                .senderUnknown,
                "The member registry trusted here expired on \(registry.expiresOn); fetch a newer one from the hub.",
                at: at)
        }
        guard let member = registry.member(manifest.sender) else {
            throw PuenteError(.senderUnknown, "\(manifest.sender) is not a member of the exchange.", at: at)
        }
        guard member.status == .active else {
            throw PuenteError(.senderRevoked, "\(manifest.sender) was revoked from the exchange.", at: at)
        }
        guard let key = member.keys.first(where: { $0.kid == kid }) else {
            throw PuenteError(.senderUnknown, "\(kid) is not a key of \(manifest.sender).", at: at)
        }
        if let revoked = key.revokedOn {
            throw PuenteError(.senderRevoked, "\(kid) was revoked on \(revoked).", at: at)
        }
        if let retired = key.retiredOn {
            throw PuenteError(
                .keyRetired, "\(kid) was retired on \(retired); packages are signed with the sender's current key.",
                at: at)
        }
        return key.x
    }

    /// What became of a received package, with the receipt to send back.
    public struct Reception: Sendable {
        public var manifest: PackageManifest
        public var outcome: PackageReceipt.Outcome
        /// Held packages this one released, by sequence number.
        public var released: [Int]
        public var receipt: SignedReceipt
    }

    /// Checks a package and keeps it: published when it is next in its sequence (then any held packages
    /// that now follow are published too), held after a gap, and only acknowledged when it arrived
    /// before. A refusal is audited with its code and thrown; nothing is kept.
    public func receive(_ file: Data, source: String, by actor: Actor, on date: CivilDate = .today) async throws
        -> Reception
    {
        let checked: CheckedPackage
        do {
            checked = try await check(
                file, source: source, deliveredBy: actor.role == .node ? actor.name : nil, on: date)
        } catch let error as PuenteError where Self.refusals.contains(error.code) {
            try await audit.record(
                .init(
                    actor: actor.name, action: "package_refused",
                    target: "sha256:\(SignedPackage.digest(of: file)) code:\(error.code.rawValue)",
                    purpose: error.message, address: actor.address))
            throw error
        }
        let manifest = checked.package.manifest
        let now = Timestamp.now()
        var outcome: PackageReceipt.Outcome
        var released: [Int] = []
        if checked.duplicateOf != nil {
            outcome = .duplicate
        } else if let message = checked.referral {
            // Applied first, then kept: applying is idempotent, so a crash between the two only makes the
            // sender deliver again. Only the frame, manifest and signature are kept, not the encrypted
            // part: what it said lives sealed in the referral, and is dropped with it.
            try await ReferralExchange(store: store, node: node).apply(
                message, from: manifest.sender, agreement: manifest.agreement, by: actor)
            let header = try checked.package.header()
            try await store.publishPackage(
                ReceivedPackage(
                    id: manifest.id, sender: manifest.sender, agreement: manifest.agreement,
                    sequence: manifest.sequence, period: manifest.period, digest: checked.digest, status: .held,
                    receivedAt: now, file: String(decoding: header, as: UTF8.self)),
                dataflow: ReferralPackage.dataflow, observations: [], periods: [], at: Timestamp.precise())
            outcome = .published
        } else {
            let received = ReceivedPackage(
                id: manifest.id, sender: manifest.sender, agreement: manifest.agreement, sequence: manifest.sequence,
                period: manifest.period, digest: checked.digest, status: .held, receivedAt: now,
                file: String(decoding: file, as: UTF8.self))
            let last = try await store.lastPublishedSequence(sender: manifest.sender, agreement: manifest.agreement)
            if manifest.sequence == last + 1 {
                try await publish(received, observations: checked.observations, frequency: manifest.frequency)
                outcome = .published
                released = try await releaseHeld(
                    after: manifest.sequence, sender: manifest.sender, agreement: manifest.agreement, on: date)
            } else {
                try await store.holdPackage(received)
                outcome = .held
            }
        }
        try await audit.record(
            .init(
                actor: actor.name, action: "package_received",
                target: "package:\(manifest.id) from:\(manifest.sender) agreement:\(manifest.agreement) "
                    + "sequence:\(manifest.sequence) outcome:\(outcome.rawValue) sha256:\(checked.digest)"
                    + (released.isEmpty ? "" : " released:" + released.map(String.init).joined(separator: ",")),
                address: actor.address))
        let receipt = try SignedReceipt.sign(
            PackageReceipt(manifest: manifest, sha256: checked.digest, outcome: outcome, receivedAt: now), by: node)
        return Reception(manifest: manifest, outcome: outcome, released: released, receipt: receipt)
    }

    func publish(_ package: ReceivedPackage, observations: [ExchangeObservation], frequency: String) async throws {
        var published = package
        published.status = .published
        let now = Timestamp.precise()
        published.publishedAt = now
        try await store.publishPackage(
            published, dataflow: SDMXFlow.flowID, observations: observations,
            periods: PackageContent.periods(of: package.period, upTo: frequency), at: now)
    }

    /// Publishes held packages that follow `sequence` without a gap, while their agreement is in force.
    func releaseHeld(after sequence: Int, sender: String, agreement: String, on date: CivilDate) async throws -> [Int] {
        var released: [Int] = []
        var next = sequence + 1
        while let held = try await store.receivedPackage(sender: sender, agreement: agreement, sequence: next),
            held.status == .held
        {
            guard let terms = try? await agreements.inForce(id: agreement, on: date).terms else { break }
            let package = try SignedPackage(file: Data(held.file.utf8), source: "held package \(held.id)")
            let observations = try content.observations(of: package, terms: terms, source: "held package \(held.id)")
            try await publish(held, observations: observations, frequency: package.manifest.frequency)
            released.append(next)
            next += 1
        }
        return released
    }

    /// The codes of refusals (audited as such); other errors are the receiver's own trouble.
    static let refusals: Set<PuenteError.Code> = [
        .packageMalformed, .packageTampered, .packageMisaddressed, .signatureInvalid, .senderUnknown, .senderRevoked,
        .keyRetired, .outsideAgreement, .agreementNotInForce, .codeListUnknown, .sequenceReused,
    ]

    /// The receiver's side of each agreement's retention: a year a sender sent is kept `retentionDays`
    /// after its latest package was published, then its figures are deleted and its packages expire
    /// (audited as `received_expired`). Applies to revoked and expired agreements too: they stop the
    /// flow at once, and what came before is kept no longer than they said. Returns the years expired.
    public func applyRetention(on date: CivilDate = .today, by actor: Actor) async throws -> Int {
        var latest: [String: ReceivedPackage] = [:]
        for p in try await store.receivedPackages() where p.status == .published {
            let id = "\(p.sender) \(p.agreement) \(p.period)"
            if (latest[id]?.publishedAt ?? "") < (p.publishedAt ?? "") { latest[id] = p }
        }
        var expired = 0
        for p in latest.values.sorted(by: {
            ($0.agreement, $0.sender, $0.period) < ($1.agreement, $1.sender, $1.period)
        }) {
            guard let kept = try await store.agreement(id: p.agreement),
                let terms = try? kept.signed().terms,
                let published = (p.publishedAt?.prefix(10)).flatMap({ CivilDate(iso: String($0)) }),
                date.daysSinceEpoch - published.daysSinceEpoch > terms.retentionDays
            else { continue }
            let cells = try await store.expireReceived(
                sender: p.sender, agreement: p.agreement, year: p.period,
                periods: PackageContent.periods(of: p.period, upTo: "M"))
            try await audit.record(
                .init(
                    actor: actor.name, action: "received_expired",
                    target: "agreement:\(p.agreement) from:\(p.sender) period:\(p.period) observations:\(cells)",
                    purpose: "retention of \(terms.retentionDays) days", address: actor.address))
            expired += 1
        }
        return expired
    }

    /// Packages received, by sender, agreement and sequence.
    public func received() async throws -> [ReceivedPackage] { try await store.receivedPackages() }

    // MARK: The member registry

    /// Trusts a registry the hub signed: by the hub's key (`hubKey`, or the key an agreement kept here
    /// names for the hub), not older than the version trusted, not expired beyond the grace period.
    public func trustRegistry(
        _ file: Data, source: String, hubKey: String? = nil, on date: CivilDate = .today, by actor: Actor
    ) async throws -> (SignedRegistry, SignedRegistry.Verdict) {
        let signed = try SignedRegistry(file: file, source: source)
        let hub = signed.registry.hub
        var key = hubKey
        if key == nil {
            for kept in try await store.agreements() {
                let terms = try kept.signed().terms
                if let party = [terms.sender, terms.receiver].first(where: { $0.node == hub }) {
                    key = party.key
                    break
                }
            }
        }
        if key == nil, hub == node.id { key = node.publicKeyBase64URL }
        guard let key else {
            throw PuenteError(
                .senderUnknown, "No agreement kept here names a key for the hub \(hub); give the hub's key.")
        }
        let highest = try await store.trustedRegistry()?.version ?? 0
        let verdict = try signed.verify(hubKey: key, highestTrusted: highest, on: date)
        if signed.registry.version > highest {
            try await store.trustRegistry(
                version: signed.registry.version, document: String(decoding: try signed.file(), as: UTF8.self),
                at: Timestamp.now())
            try await audit.record(
                .init(
                    actor: actor.name, action: "registry_trusted",
                    target: "registry:\(hub) version:\(signed.registry.version)",
                    address: actor.address))
        }
        return (signed, verdict)
    }
}

extension ExchangeService {
    /// The audit actions that make up the exchange log.
    public static let logActions: Set<String> = [
        "package_created", "package_delivered", "package_received", "package_refused", "registry_trusted",
        "received_expired",
    ]

    /// The exchange log: what was sent, received, refused and acknowledged, when and under which
    /// agreement. It is the part of the audit trail with the exchange's actions, so it shares the
    /// trail's hash chain (`puente audit verify` checks both); reading it is itself recorded.
    public func log(by actor: Actor) async throws -> [AuditEntry] {
        var out: [AuditEntry] = []
        var after: Int64 = 0
        while true {
            let page = try await store.auditEntries(after: after, limit: 5_000)
            out += page.filter { Self.logActions.contains($0.action) }
            guard let last = page.last else { break }
            after = last.sequence
        }
        try await audit.record(
            .init(actor: actor.name, action: "audit_read", target: "exchange log", address: actor.address))
        return out
    }
}
