import Foundation

/// The store of harmonised events, import batches and quarantined rows.
///
/// Two implementations (SQLite and PostgreSQL) pass one conformance suite. Each method is one use case
/// and one transaction; callers never see a connection.
public protocol EventStore: Sendable {
    /// Applies pending schema migrations; returns the schema version now in place.
    @discardableResult
    func migrate() async throws -> Int

    /// Starts a pending batch for `request`. A pending batch of the same content left by an interrupted
    /// import is discarded first, with its rows, so a re-run completes the import exactly.
    func startImport(_ request: ImportRequest) async throws -> Int64

    /// The committed batch with this content, if the file was imported before.
    func committedImport(contentHash: String) async throws -> ImportRecord?

    /// The keys the store's personal fields are sealed with. Events are sealed before `append`
    /// (`SealedEvents(_:sealing:)`), by the caller, on any thread, while the store writes something else.
    var cipher: any PersonalDataCipher { get }

    /// Stores events in the batch. An event whose `(agency, recordKey)` is already counted (in any
    /// batch, committed or pending) is stored as a duplicate that counts nowhere, and its position is
    /// returned; `finishImport` settles which copy counts.
    func append(_ events: SealedEvents, to importID: Int64) async throws -> AppendResult

    /// Adds cell counts of the batch's counted events (several calls may repeat a key: counts add up).
    /// Imports count through `CountingAppender`, which keeps the cells in step with what `append` stored.
    func appendCells(_ cells: CellBatch, to importID: Int64) async throws

    /// Keeps rejected rows of the batch in quarantine.
    func quarantine(_ rows: [RejectedRow], in importID: Int64) async throws

    /// Commits the batch; its events become visible to statistics at once. Duplicates are settled
    /// against committed batches only: a record this batch holds as a duplicate of one in a batch still
    /// pending counts here now (the pending copy becomes the duplicate), and in `replace` mode this batch's
    /// version replaces a committed one, which is kept. Cell counts follow every change in the same
    /// transaction. The rejects in `resolving` (earlier rows this batch read corrected versions of) are
    /// resolved by it. Returns the final counts (`counts` with duplicates settled).
    @discardableResult
    func finishImport(_ importID: Int64, counts: ImportCounts, resolving: [Int64]) async throws -> ImportCounts

    /// Removes a batch's events and rejects, reopens the rejects it resolved, and marks it rolled back.
    /// A record it counted counts again in the batch that holds its previous version or its duplicate
    /// (committed batches first), so rolling a batch back never loses a record another batch read.
    func rollbackImport(_ importID: Int64) async throws

    /// Import batches, newest first.
    func imports(limit: Int) async throws -> [ImportRecord]

    /// Quarantined rows of committed batches, of one batch or of all, in batch and row order; resolved
    /// ones only when asked.
    func rejectedRows(importID: Int64?, includeResolved: Bool, limit: Int) async throws -> [RejectedRow]

    /// Rejected rows per rule of the newest `imports` committed batches, oldest first: what went wrong
    /// and how often, without the rows' values. A row breaking a rule in several fields counts once.
    func rejectionCounts(imports: Int) async throws -> [RejectionCount]

    /// Events of one batch in row order (personal data: callers must be entitled to it).
    func events(importID: Int64, limit: Int) async throws -> [MovementEvent]

    /// The committed batches with their revisions, ascending: what statistics must reflect at this moment.
    func committedImports() async throws -> [CommittedImport]

    /// Hands every stored cell of one batch to `body`, streaming. A key may come several times, with
    /// negative counts for records the batch no longer counts: the sums are what it counts.
    func forEachCell(importID: Int64, _ body: (CellKey, CellTally) throws -> Void) async throws

    /// Erases the personal fields (names, birth date, document number) of the events with these keys in
    /// an agency's system, keeping their statistical columns, so aggregates already published do not
    /// change. Returns how many events were erased.
    func erasePersonalData(agency: String, recordKeys: [String]) async throws -> Int

    /// Retention: erases the personal fields of events dated before `eventsBefore`, and deletes rows in
    /// quarantine of imports started before `rejectsBefore` (ISO 8601). Returns both counts.
    func expirePersonalData(eventsBefore: CivilDate, rejectsBefore: String) async throws -> (events: Int, rejects: Int)

    /// Opens a sealed value of each kind the store holds (an event's personal fields, a row in
    /// quarantine) with the store's keys, and throws when they do not open: keys that are not the ones the
    /// data was sealed with would seal new rows that the node's own keys cannot read.
    func checkKeys() async throws

    /// Seals again, with the cipher's active key, every stored personal value that is clear or under
    /// another key, in short transactions (the node keeps serving); returns how many rows changed.
    @discardableResult
    func resealPersonalData(batchSize: Int) async throws -> Int

    /// Runs what the store needs in the background (PostgreSQL's connection pool) until the calling task
    /// is cancelled or the store is closed; until it runs, queries wait. A server runs it as the first
    /// service of its group (so it stops last); a command runs it beside its work with `withRunningStore`.
    func run() async

    /// Releases connections and ends `run()`. The store must not be used afterwards.
    func close() async throws

    /// Copies the whole store into `directory` as it stands at one moment, while it goes on serving
    /// (SQLite's online backup; `pg_dump` for PostgreSQL); returns the names of the files written.
    /// Sealed columns stay sealed: the keys are never in a backup.
    func backup(into directory: URL) async throws -> [String]

    /// Whether the store holds no Puente schema at all: the only store a backup is restored into.
    func isEmpty() async throws -> Bool

    /// Fills an empty store from the files `backup(into:)` wrote in `directory`.
    func restore(from directory: URL) async throws
}

extension EventStore {
    /// Seals and stores events in one step, for callers with no other work to overlap.
    public func append(_ events: [MovementEvent], to importID: Int64) async throws -> AppendResult {
        try await append(SealedEvents(events, sealing: cipher), to: importID)
    }

    /// Commits a batch that resolves no earlier rejects.
    @discardableResult
    public func finishImport(_ importID: Int64, counts: ImportCounts) async throws -> ImportCounts {
        try await finishImport(importID, counts: counts, resolving: [])
    }

    /// Ids of the committed batches, ascending.
    public func committedImportIDs() async throws -> [Int64] { try await committedImports().map(\.id) }

    /// Outstanding (unresolved) rejects.
    public func rejectedRows(importID: Int64?, limit: Int) async throws -> [RejectedRow] {
        try await rejectedRows(importID: importID, includeResolved: false, limit: limit)
    }
}

/// The error of `EventStore.checkKeys`.
extension PuenteError {
    public static let keysDoNotOpenStore = PuenteError(
        .conflict,
        "The keys given do not open the personal data this database holds: they are not this node's keys. "
            + "Give the node's key file with --key-file or PUENTE_KEY_FILE (or its keys in PUENTE_KEYS).")
}
