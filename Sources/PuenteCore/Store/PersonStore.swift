/// Persons found by record linkage over the stored events: which events belong to the same person,
/// the cells that let statistics count persons instead of events, and the clerical review queue.
///
/// A link run replaces the links as a whole, in one transaction; person ids stay stable across runs
/// (see `PersonLinking`).
public protocol PersonStore: Sendable {
    /// Hands every event of one committed batch to `body` in id order, personal fields opened
    /// (personal data: callers must be entitled to it). Streams: memory does not grow with the batch.
    func forEachEvent(importID: Int64, _ body: (MovementEvent) throws -> Void) async throws

    /// The events with these ids, in id order, personal fields opened (personal data: callers must be
    /// entitled to it, and audit the read).
    func events(ids: [Int64]) async throws -> [MovementEvent]

    /// Event id → person id of every linked event.
    func personLinks() async throws -> [Int64: Int64]

    /// The newest link run, if persons were ever linked.
    func latestLinkRun() async throws -> LinkRun?

    /// Stores a link run: its links and person cells replace the previous ones, its review pairs replace
    /// the pending ones (decided pairs are kept). One transaction: readers see the old run or the new.
    /// Returns the run's id.
    @discardableResult
    func savePersons(_ run: LinkRun, links: PersonLinks, cells: [PersonCell], review: [ReviewPair]) async throws
        -> Int64

    /// Hands every person cell of the latest run to `body`.
    func forEachPersonCell(_ body: (PersonCell) throws -> Void) async throws

    /// Pairs of the clerical review queue, most probable first: pending ones, or all with decisions.
    func reviewPairs(pendingOnly: Bool, limit: Int) async throws -> [ReviewPair]

    /// Records a reviewer's decision on a pair of the queue; later runs respect it.
    func decideReview(eventL: Int64, eventR: Int64, match: Bool, by reviewer: String) async throws
}

/// Event ids and the person each belongs to, as two parallel arrays (millions of them: no tuples).
public struct PersonLinks: Sendable, Equatable {
    public var eventIDs: [Int64] = []
    public var personIDs: [Int64] = []

    public init() {}

    public mutating func append(event: Int64, person: Int64) {
        eventIDs.append(event)
        personIDs.append(person)
    }

    public var count: Int { eventIDs.count }
}

/// Which period an event opens for its person, among the events of the same type: the person's first
/// ever, first of the year, of the quarter, of the month, or none. A person counted in a period is
/// counted once, at the event that opens it, so person counts add up across any breakdown.
public enum PersonFirst: Int, Codable, Sendable, Comparable, CaseIterable {
    case none = 0, month, quarter, year, ever

    public static func < (a: PersonFirst, b: PersonFirst) -> Bool { a.rawValue < b.rawValue }
}

/// Events of linked persons aggregated by their statistical columns and what they open.
public struct PersonCell: Hashable, Sendable {
    public var first: PersonFirst
    public var key: CellKey
    public var tally: CellTally

    public init(first: PersonFirst, key: CellKey, tally: CellTally) {
        self.first = first
        self.key = key
        self.tally = tally
    }
}

/// One run of `puente link persons`, with what it found.
public struct LinkRun: Codable, Hashable, Sendable {
    public var id: Int64
    /// `full` (every pair compared again) or `incremental` (only pairs with a new event).
    public var mode: String
    public var startedAt: String
    public var finishedAt: String
    /// The committed batches the run covers, ascending: person statistics are current while these are
    /// exactly the committed ones.
    public var importIDs: [Int64]
    /// Each batch's revision when the run read it, in `importIDs` order (a changed revision means the
    /// records a batch counts changed, so the persons are out of date too).
    public var importRevisions: [Int]
    public var events: Int
    public var persons: Int
    public var candidatePairs: Int
    public var linkedPairs: Int
    public var reviewPairs: Int
    /// Blocks skipped as too large in this run, and the records in them (compared under the other
    /// rules only). Reported by the run, not stored.
    public var oversizedBlocks = 0
    public var oversizedRecords = 0

    public init(
        id: Int64 = 0, mode: String, startedAt: String, finishedAt: String, imports: [CommittedImport], events: Int,
        persons: Int, candidatePairs: Int, linkedPairs: Int, reviewPairs: Int
    ) {
        self.id = id
        self.mode = mode
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.importIDs = imports.map(\.id)
        self.importRevisions = imports.map(\.revision)
        self.events = events
        self.persons = persons
        self.candidatePairs = candidatePairs
        self.linkedPairs = linkedPairs
        self.reviewPairs = reviewPairs
    }

    /// The committed batches the run covers, with their revisions.
    public var imports: [CommittedImport] {
        importIDs.indices.map {
            CommittedImport(id: importIDs[$0], revision: $0 < importRevisions.count ? importRevisions[$0] : 0)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, mode, events, persons
        case startedAt = "started_at", finishedAt = "finished_at", importIDs = "import_ids", importRevisions =
            "import_revisions"
        case candidatePairs = "candidate_pairs", linkedPairs = "linked_pairs", reviewPairs = "review_pairs"
    }
}

/// A pair of stored events in the uncertain band, for a person to decide. It carries no personal
/// value: only the events' ids and what each comparison contributed.
public struct ReviewPair: Codable, Hashable, Sendable {
    /// The pair's event ids, the smaller first.
    public var eventL: Int64
    public var eventR: Int64
    public var probability: Double
    public var contributions: [Contribution]
    /// nil while pending; true for a match, false for a non-match.
    public var decision: Bool?
    public var decidedBy: String?
    public var decidedAt: String?

    public init(
        eventL: Int64, eventR: Int64, probability: Double, contributions: [Contribution],
        decision: Bool? = nil, decidedBy: String? = nil, decidedAt: String? = nil
    ) {
        self.eventL = min(eventL, eventR)
        self.eventR = max(eventL, eventR)
        self.probability = probability
        self.contributions = contributions
        self.decision = decision
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
    }

    /// What one comparison field contributed: its agreement level and weight (log2 odds).
    public struct Contribution: Codable, Hashable, Sendable {
        public var field: String
        public var level: String
        public var weight: Double
        public init(field: String, level: String, weight: Double) {
            self.field = field
            self.level = level
            self.weight = weight
        }
    }

    enum CodingKeys: String, CodingKey {
        case probability, contributions, decision
        case eventL = "event_l", eventR = "event_r", decidedBy = "decided_by", decidedAt = "decided_at"
    }
}

extension CommittedImport {
    /// Batches as a link run stores them: ids and revisions as two JSON arrays, in the same order. Runs
    /// stored before batches had revisions have none: revision 0, as those batches had then.
    public static func decode(ids: String, revisions: String?) throws -> [CommittedImport] {
        let ids: [Int64] = try JSONText.decode(ids)
        let revisions: [Int] = try revisions.map { try JSONText.decode($0) } ?? []
        return ids.indices.map { CommittedImport(id: ids[$0], revision: $0 < revisions.count ? revisions[$0] : 0) }
    }
}
