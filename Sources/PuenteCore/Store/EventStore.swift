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

    /// Stores events in the batch; an event whose `(agency, recordKey)` is already stored is skipped.
    /// - Returns: how many were stored (the rest were duplicates).
    func append(_ events: [MovementEvent], to importID: Int64) async throws -> Int

    /// Keeps rejected rows of the batch in quarantine.
    func quarantine(_ rows: [RejectedRow], in importID: Int64) async throws

    /// Commits the batch with its final counts; its events become visible to statistics at once.
    func finishImport(_ importID: Int64, counts: ImportCounts) async throws

    /// Removes a batch's events and rejects and marks it rolled back.
    func rollbackImport(_ importID: Int64) async throws

    /// Import batches, newest first.
    func imports(limit: Int) async throws -> [ImportRecord]

    /// Quarantined rows, of one batch or of all.
    func rejectedRows(importID: Int64?, limit: Int) async throws -> [RejectedRow]

    /// Events of one batch in row order (personal data: callers must be entitled to it).
    func events(importID: Int64, limit: Int) async throws -> [MovementEvent]

    /// Counts committed events by the query's columns.
    func countCells(_ query: CellQuery) async throws -> [CountCell]

    /// Releases connections. The store must not be used afterwards.
    func close() async throws
}
