/// A package this node created for a partner: the file as signed (so a push can be repeated byte for
/// byte until it is delivered) and the receiver's signed receipt once it is.
public struct SentPackage: Hashable, Sendable {
    public var id: String
    public var agreement: String
    public var receiver: String
    public var sequence: Int
    /// The period it covers (`2016`).
    public var period: String
    /// SHA-256 of the file, lower-case hex.
    public var digest: String
    /// The package file (UTF-8 text).
    public var file: String
    public var createdAt: String
    public var deliveredAt: String?
    /// The receiver's signed receipt (JSON), kept as proof of delivery.
    public var receipt: String?

    public init(
        id: String, agreement: String, receiver: String, sequence: Int, period: String, digest: String,
        file: String, createdAt: String, deliveredAt: String? = nil, receipt: String? = nil
    ) {
        self.id = id
        self.agreement = agreement
        self.receiver = receiver
        self.sequence = sequence
        self.period = period
        self.digest = digest
        self.file = file
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.receipt = receipt
    }
}

/// A package this node accepted from a partner: published (its observations are in
/// `ExchangeObservation`s) or held until the packages before it in its sequence arrive.
public struct ReceivedPackage: Hashable, Sendable {
    public enum Status: String, Sendable, Codable {
        /// Verified and kept, waiting for an earlier sequence number.
        case held
        /// Its observations replaced the sender's for its period.
        case published
        /// Published once; its period's figures were deleted when the agreement's retention ran out (the
        /// record stays, so the same package delivered again is a duplicate, never published anew).
        case expired
    }

    public var id: String
    public var sender: String
    public var agreement: String
    public var sequence: Int
    public var period: String
    public var digest: String
    public var status: Status
    public var receivedAt: String
    public var publishedAt: String?
    /// The package file (UTF-8 text).
    public var file: String

    public init(
        id: String, sender: String, agreement: String, sequence: Int, period: String, digest: String,
        status: Status, receivedAt: String, publishedAt: String? = nil, file: String
    ) {
        self.id = id
        self.sender = sender
        self.agreement = agreement
        self.sequence = sequence
        self.period = period
        self.digest = digest
        self.status = status
        self.receivedAt = receivedAt
        self.publishedAt = publishedAt
        self.file = file
    }
}

/// One observation a partner sent: an SDMX series key and period, its (protected) value and flags, and
/// where it came from. A correction that drops a cell leaves a deletion (`deleted`), so a consumer
/// asking for what changed since a moment sees it go.
public struct ExchangeObservation: Hashable, Sendable {
    public var sender: String
    public var agreement: String
    public var dataflow: String
    /// The DSD's dimension codes joined by `.`, in DSD order (without the period).
    public var seriesKey: String
    public var period: String
    /// Nil when the sender suppressed it.
    public var value: Double?
    public var obsStatus: String
    public var confStatus: String
    public var packageID: String
    public var updatedAt: String
    public var deleted: Bool

    public init(
        sender: String, agreement: String, dataflow: String, seriesKey: String, period: String, value: Double?,
        obsStatus: String, confStatus: String, packageID: String, updatedAt: String = "", deleted: Bool = false
    ) {
        self.sender = sender
        self.agreement = agreement
        self.dataflow = dataflow
        self.seriesKey = seriesKey
        self.period = period
        self.value = value
        self.obsStatus = obsStatus
        self.confStatus = confStatus
        self.packageID = packageID
        self.updatedAt = updatedAt
        self.deleted = deleted
    }

    /// Whether `other` says the same about the same cell (what a correction compares).
    public func sameFigure(as other: ExchangeObservation) -> Bool {
        value == other.value && obsStatus == other.obsStatus && confStatus == other.confStatus
    }
}

/// A figure a partner that runs no node published (a statistics office's table, such as Mexico's
/// returns by nationality), loaded by an analyst to set against what members sent. Not personal data,
/// not protected by Puente: it is kept as published, with where it came from.
public struct PartnerFigure: Hashable, Sendable, Codable {
    /// ISO 3166-1 alpha-3 of the country that published it.
    public var reporter: String
    /// `RETURN` (the counterpart's nationals returned to it by the reporter), `ENTRY` (entries from the
    /// counterpart) or `EXIT` (exits to it).
    public var flow: String
    public var counterpart: String
    /// `2016`, `2016-Q1` or `2016-01`.
    public var period: String
    public var value: Double
    /// The publication it comes from.
    public var source: String
    /// SHA-256 of the file it was loaded from, and when.
    public var digest: String
    public var loadedAt: String

    public init(
        reporter: String, flow: String, counterpart: String, period: String, value: Double, source: String,
        digest: String = "", loadedAt: String = ""
    ) {
        self.reporter = reporter
        self.flow = flow
        self.counterpart = counterpart
        self.period = period
        self.value = value
        self.source = source
        self.digest = digest
        self.loadedAt = loadedAt
    }
}

/// What a node keeps of the exchange: packages it sent (its queue and receipts), packages it received
/// (held or published), the observations they carried, and the member registry it trusts. Implemented
/// by both stores; each method is one transaction.
public protocol ExchangeStore: Sendable {
    /// The next sequence number for a package under `agreement` (1 for the first).
    func nextSentSequence(agreement: String) async throws -> Int
    /// Keeps a package created for a partner; `conflict` when its agreement has that sequence already.
    func saveSentPackage(_ package: SentPackage) async throws
    /// Packages sent, oldest first; only those not delivered yet when `undelivered`.
    func sentPackages(undelivered: Bool) async throws -> [SentPackage]
    /// Records delivery and the receiver's receipt.
    func markDelivered(packageID: String, at: String, receipt: String) async throws

    /// The package kept from `sender` under `agreement` with that sequence number, if any.
    func receivedPackage(sender: String, agreement: String, sequence: Int) async throws -> ReceivedPackage?
    /// Every package received, by sender, agreement and sequence, without their files (a hub keeps
    /// megabytes of them; `receivedPackage` reads one whole).
    func receivedPackages() async throws -> [ReceivedPackage]
    /// The highest sequence number published (or published and since expired) from `sender` under
    /// `agreement` (0 when none).
    func lastPublishedSequence(sender: String, agreement: String) async throws -> Int
    /// Keeps a package held for an earlier one.
    func holdPackage(_ package: ReceivedPackage) async throws
    /// Publishes a package in one transaction: the package is kept (or a held one marked published) and
    /// its observations replace the sender's under the agreement and dataflow for `periods`. A figure
    /// that changed is updated, a new cell inserted, a cell missing from the package marked deleted, all
    /// stamped `at`; unchanged cells are left as they are.
    func publishPackage(
        _ package: ReceivedPackage, dataflow: String, observations: [ExchangeObservation], periods: [String], at: String
    ) async throws
    /// Deletes what `sender` sent under `agreement` for `periods` and marks the packages of `year` expired
    /// (their files emptied); returns how many observations went.
    func expireReceived(sender: String, agreement: String, year: String, periods: [String]) async throws -> Int
    /// Changes whenever a package is published (how many, and the last publication's stamp): what a
    /// cache of received observations checks before it answers.
    func publicationStamp() async throws -> String
    /// Observations received, by sender, series and period; those changed after `updatedAfter` only when
    /// given (deletions included), otherwise the current ones only.
    func exchangeObservations(dataflow: String, updatedAfter: String?) async throws -> [ExchangeObservation]

    /// The member registry file trusted, highest version (nil before the first).
    func trustedRegistry() async throws -> (version: Int, document: String)?
    /// Keeps a registry version as trusted; `conflict` when a higher one is kept (a rollback).
    func trustRegistry(version: Int, document: String, at: String) async throws

    /// Keeps partners' published figures in one transaction, each replacing the one kept for the same
    /// reporter, flow, counterpart and period.
    func savePartnerFigures(_ figures: [PartnerFigure]) async throws
    /// Every partner figure kept, by reporter, flow, counterpart and period.
    func partnerFigures() async throws -> [PartnerFigure]
    /// Replaces, in one transaction, the links kept under `agreement` by `links`.
    func replaceCrossBorderLinks(agreement: String, _ links: [CrossBorderLink]) async throws
    /// The links kept, under every agreement.
    func crossBorderLinks() async throws -> [CrossBorderLink]

    /// As a linkage unit: keeps a party's encodings or a party's result, replacing the one kept for the
    /// same agreement, party and kind.
    func saveLinkageUnitPackage(_ package: LinkageUnitPackage) async throws
    /// As a linkage unit: the packages of `kind` kept under `agreement`, of `party` only when given.
    func linkageUnitPackages(agreement: String, kind: LinkageUnitPackage.Kind, party: String?) async throws
        -> [LinkageUnitPackage]
    /// As a linkage unit, in one transaction: keeps the results of a match and deletes the encodings it
    /// consumed (those with the ids given; encodings that replaced them meanwhile stay).
    func finishLinkageMatch(agreement: String, consumed: [String], results: [LinkageUnitPackage]) async throws
}

/// A package the linkage unit keeps between a party's delivery and the match (its encodings), or between
/// the match and the party's fetch (its result). Encodings are deleted once matched.
public struct LinkageUnitPackage: Hashable, Sendable {
    public enum Kind: String, Sendable { case encodings, result }
    public var agreement: String
    /// The party that sent the encodings, or that the result is for.
    public var party: String
    public var kind: Kind
    public var id: String
    /// The package file (UTF-8 text).
    public var file: String
    public var storedAt: String

    public init(agreement: String, party: String, kind: Kind, id: String, file: String, storedAt: String) {
        self.agreement = agreement
        self.party = party
        self.kind = kind
        self.id = id
        self.file = file
        self.storedAt = storedAt
    }

    /// The SQL both stores share.
    public static let schema = """
        CREATE TABLE linkage_unit_package (
            agreement TEXT NOT NULL,
            party TEXT NOT NULL,
            kind TEXT NOT NULL,
            package_id TEXT NOT NULL,
            file TEXT NOT NULL,
            stored_at TEXT NOT NULL,
            PRIMARY KEY (agreement, party, kind)
        )
        """
    public static let columns = "agreement, party, kind, package_id, file, stored_at"
    public static func kind(_ text: String) throws -> Kind {
        guard let kind = Kind(rawValue: text) else {
            throw PuenteError(.invalidInput, "A stored linkage package's kind is \(text).")
        }
        return kind
    }
}

extension PuenteError {
    public static let sequenceTaken = PuenteError(
        .conflict, "A package under this agreement has that sequence number already.")
    public static let registryRollback = PuenteError(
        .conflict, "A newer member registry is trusted already; an older one is refused as a rollback.")
}

/// A link between one of this node's events and a record of another node, found by the linkage unit
/// on encodings alone under a linkage agreement. The partner's record is known only by its pseudonym
/// under that agreement: the same pseudonym is the same record there, and means nothing elsewhere.
public struct CrossBorderLink: Hashable, Sendable {
    public var agreement: String
    public var event: Int64
    /// The other party's node id.
    public var partner: String
    public var partnerRecord: String
    /// The encodings' Dice coefficient in thousandths.
    public var dicePerMille: Int
    /// The partner's event: its type (`ENTRY`, …) and day, as the partner sent them with its encodings.
    public var partnerType: EventType
    public var partnerDay: CivilDate
    public var receivedAt: String

    public init(
        agreement: String, event: Int64, partner: String, partnerRecord: String, dicePerMille: Int,
        partnerType: EventType, partnerDay: CivilDate, receivedAt: String
    ) {
        self.agreement = agreement
        self.event = event
        self.partner = partner
        self.partnerRecord = partnerRecord
        self.dicePerMille = dicePerMille
        self.partnerType = partnerType
        self.partnerDay = partnerDay
        self.receivedAt = receivedAt
    }
}

/// The SQL both stores share for cross-border links.
public enum CrossBorderLinkRows {
    static func table(integer: String) -> [String] {
        [
            """
            CREATE TABLE cross_border_link (
                agreement TEXT NOT NULL,
                event_id \(integer) NOT NULL,
                partner TEXT NOT NULL,
                partner_record TEXT NOT NULL,
                dice_per_mille INTEGER NOT NULL,
                partner_type TEXT NOT NULL,
                partner_day TEXT NOT NULL,
                received_at TEXT NOT NULL,
                PRIMARY KEY (agreement, event_id, partner_record)
            )
            """,
            "CREATE INDEX cross_border_link_event ON cross_border_link (event_id)",
        ]
    }
    public static let sqliteSchema = table(integer: "INTEGER").map { $0 + ";" }.joined(separator: "\n")
    public static let postgresSchema = table(integer: "BIGINT")
    public static let columns =
        "agreement, event_id, partner, partner_record, dice_per_mille, partner_type, partner_day, received_at"
    public static func type(_ text: String) throws -> EventType {
        guard let t = EventType(rawValue: text) else {
            throw PuenteError(.invalidInput, "A stored link's partner event type is \(text).")
        }
        return t
    }
    public static func day(_ text: String) throws -> CivilDate {
        guard let d = CivilDate(iso: text) else {
            throw PuenteError(.invalidInput, "A stored link's partner day is \(text).")
        }
        return d
    }
    /// Removes the links of an erased record (agency, record key).
    public static let eraseForRecord =
        "DELETE FROM cross_border_link WHERE event_id IN (SELECT id FROM movement_event WHERE agency = $1 AND record_key = $2)"
}
