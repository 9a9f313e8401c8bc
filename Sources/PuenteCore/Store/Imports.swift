/// What Puente knows about one file being imported, before it is stored.
public struct ImportRequest: Hashable, Codable, Sendable {
    public var profile: String
    public var agency: String
    public var file: String
    /// SHA-256 (hex) of the file's bytes: the same file is recognised whatever its name.
    public var contentHash: String
    public var mode: ImportMode

    public init(profile: String, agency: String, file: String, contentHash: String, mode: ImportMode = .add) {
        self.profile = profile
        self.agency = agency
        self.file = file
        self.contentHash = contentHash
        self.mode = mode
    }
}

/// What an import does with a record whose key is already counted.
public enum ImportMode: String, Codable, Sendable, CaseIterable {
    /// The record stored first counts; a later copy is kept as a duplicate that counts nowhere, and counts
    /// instead if the batch holding the first is rolled back.
    case add
    /// The agency re-exported corrected records: this batch's version counts from its commit, the previous
    /// one is kept (and counts again if this batch is rolled back).
    case replace
}

/// A committed batch as statistics see it. `revision` grows whenever the records it counts change after
/// its commit (a rollback elsewhere made one of its duplicates count, or a correction replaced one of its
/// records), so whatever was computed from it knows to compute again.
public struct CommittedImport: Hashable, Codable, Sendable {
    public var id: Int64
    public var revision: Int

    public init(id: Int64, revision: Int = 0) {
        self.id = id
        self.revision = revision
    }
}

/// The lifecycle of an import batch. Only committed batches count in statistics.
public enum ImportStatus: String, Codable, Sendable {
    /// Rows are being written; invisible to queries. A batch left pending by a killed import is
    /// discarded when the same file is imported again, or rolled back by hand.
    case pending
    case committed
    case rolledBack = "rolled_back"
}

/// Counts every import ends with: `read == accepted + rejected + duplicates`.
public struct ImportCounts: Hashable, Codable, Sendable {
    public var read: Int
    /// Rows stored and counted.
    public var accepted: Int
    public var rejected: Int
    /// Rows stored whose record was already counted: kept, counted nowhere.
    public var duplicates: Int
    /// Of the accepted rows, those that replaced a previous version of their record (`ImportMode.replace`).
    public var replaced: Int

    public init(read: Int = 0, accepted: Int = 0, rejected: Int = 0, duplicates: Int = 0, replaced: Int = 0) {
        self.read = read
        self.accepted = accepted
        self.rejected = rejected
        self.duplicates = duplicates
        self.replaced = replaced
    }

    public var isBalanced: Bool { read == accepted + rejected + duplicates }
}

/// A stored import batch.
public struct ImportRecord: Hashable, Codable, Sendable {
    public var id: Int64
    public var request: ImportRequest
    public var status: ImportStatus
    /// ISO 8601 timestamp (UTC) when the batch started.
    public var startedAt: String
    public var counts: ImportCounts

    public init(id: Int64, request: ImportRequest, status: ImportStatus, startedAt: String, counts: ImportCounts) {
        self.id = id
        self.request = request
        self.status = status
        self.startedAt = startedAt
        self.counts = counts
    }
}

/// One reason a row was rejected: which field broke which rule, and what was expected.
public struct RejectionReason: Hashable, Codable, Sendable {
    /// Stable rule id, e.g. `required`, `date_format`, `code_exists`, `birth_before_event`.
    public var rule: String
    public var field: String
    public var expected: String

    public init(rule: String, field: String, expected: String) {
        self.rule = rule
        self.field = field
        self.expected = expected
    }
}

/// A row kept in quarantine: its raw values (personal data, so it lives only in the store) and why.
///
/// A reject stays outstanding until a later import reads its corrected version (a file exported with
/// `puente rejects export`, whose `puente_reject_id` column names it); that import resolves it.
public struct RejectedRow: Hashable, Codable, Sendable {
    /// Store-assigned id; 0 until stored.
    public var id: Int64
    public var importID: Int64
    public var file: String
    public var row: Int
    /// The raw row as read, column name → value.
    public var values: [String: String]
    public var reasons: [RejectionReason]
    /// The import that read this row's correction, if one has.
    public var resolvedBy: Int64?

    public init(
        id: Int64 = 0, importID: Int64 = 0, file: String, row: Int, values: [String: String],
        reasons: [RejectionReason], resolvedBy: Int64? = nil
    ) {
        self.id = id
        self.importID = importID
        self.file = file
        self.row = row
        self.values = values
        self.reasons = reasons
        self.resolvedBy = resolvedBy
    }

    /// The column of a corrections file that names the reject each row corrects.
    public static let idColumn = "puente_reject_id"
}

/// How many rows of one import broke one rule.
public struct RejectionCount: Hashable, Codable, Sendable {
    public var importID: Int64
    public var startedAt: String
    public var file: String
    public var rule: String
    public var rows: Int

    public init(importID: Int64, startedAt: String, file: String, rule: String, rows: Int) {
        self.importID = importID
        self.startedAt = startedAt
        self.file = file
        self.rule = rule
        self.rows = rows
    }
}
