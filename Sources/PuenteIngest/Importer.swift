import Crypto
import Foundation
import PuenteCore
import PuenteReference

/// The result of importing one file: `read == accepted + rejected + duplicates`.
public struct ImportReport: Codable, Hashable, Sendable {
    public var importID: Int64?
    public var file: String
    public var profile: String
    public var read: Int
    public var accepted: Int
    public var rejected: Int
    public var duplicates: Int
    /// Of the accepted rows, those that replaced a previous version of their record (`ImportMode.replace`).
    public var replaced: Int = 0
    public var mode: ImportMode = .add
    /// Rejected rows per rule id.
    public var rejectionsByRule: [String: Int]
    /// Earlier rejects this file carried corrections of (its `puente_reject_id` column).
    public var resolvedRejects: Int
    /// True when the same file had been imported before: nothing was stored again (and, but for a dry
    /// run's preview, nothing read again).
    public var alreadyImported: Bool
    public var dryRun: Bool
    /// Dry runs only: the first rows as they would be stored, and the first rejects. Personal data,
    /// for the terminal of the person running the import; never logged.
    public var preview: [MovementEvent]?
    public var previewRejects: [RejectedRow]?

    public var counts: ImportCounts {
        ImportCounts(read: read, accepted: accepted, rejected: rejected, duplicates: duplicates, replaced: replaced)
    }
}

/// How far an import has got, for progress bars and log lines.
public struct ImportProgress: Sendable {
    public var rowsRead: Int
    /// Share of the file read, from 0 to 1.
    public var fractionRead: Double
}

/// Imports agency exports into a store through a profile: read, harmonise, store or quarantine.
public struct Importer: Sendable {
    public let store: any EventStore
    public let reference: ReferenceData
    /// Rows per store call (one transaction each).
    public var batchSize = 20_000
    /// Rows shown by a dry run.
    public var previewSize = 10
    /// Distinct cells counted in memory before they go to the store, bounding memory on any file.
    public var cellFlushThreshold = 500_000

    public init(store: any EventStore, reference: ReferenceData = .shared) {
        self.store = store
        self.reference = reference
    }

    /// Imports `url` with `profile`. The batch becomes visible to statistics only when it commits, so
    /// an interrupted import leaves nothing half-counted, and importing the file again completes it.
    ///
    /// Reading and harmonising the next rows overlaps with storing the previous ones, so both cores
    /// of a small server work.
    ///
    /// In `replace` mode, the file's version of each record counts from the commit on, and the version it
    /// replaces is kept (rolling this import back makes it count again).
    public func importFile(
        _ url: URL, profile: SourceProfile, mode: ImportMode = .add, dryRun: Bool = false,
        progress: (@Sendable (ImportProgress) -> Void)? = nil
    ) async throws -> ImportReport {
        var reader = try ExportReader(url: url, format: profile.format, keys: profile.columns.map(\.name))
        reader.batchSize = batchSize
        return try await run(
            file: url.lastPathComponent, contentHash: try Self.sha256(of: url), profile: profile, mode: mode,
            dryRun: dryRun, checkColumnCount: reader.format.type == .csv, progress: progress,
            forEachBatch: reader.forEachBatch)
    }

    /// Imports records held in memory, header first, as one batch named `file`: a return entered on a
    /// reception form goes through the same harmonisation, rejection and batch bookkeeping as an
    /// export, without its personal data touching the disk in clear. The same records given twice are
    /// the same batch (their content hash), as the same file is.
    public func importRecords(
        _ records: [[String]], named file: String, profile: SourceProfile, dryRun: Bool = false
    ) async throws -> ImportReport {
        var hasher = SHA256()
        for record in records { hasher.update(data: Data(CSVWriter.line(record, delimiter: ",").utf8)) }
        let hash = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let sourceRecords = records.enumerated().map { SourceRecord(fields: $1, line: $0 + 1) }
        return try await run(
            file: file, contentHash: hash, profile: profile, mode: .add, dryRun: dryRun, checkColumnCount: true,
            progress: nil, forEachBatch: { body in try await body(sourceRecords, 1) })
    }

    /// The pipeline every import shares, over batches of records (the header first).
    private func run(
        file: String, contentHash hash: String, profile: SourceProfile, mode: ImportMode, dryRun: Bool,
        checkColumnCount: Bool, progress: (@Sendable (ImportProgress) -> Void)?,
        forEachBatch: (_ body: ([SourceRecord], Double) async throws -> Void) async throws -> Void
    ) async throws -> ImportReport {
        var report = ImportReport(
            importID: nil, file: file, profile: profile.id, read: 0, accepted: 0, rejected: 0,
            duplicates: 0, rejectionsByRule: [:], resolvedRejects: 0, alreadyImported: false,
            dryRun: dryRun, preview: dryRun ? [] : nil, previewRejects: dryRun ? [] : nil)
        report.mode = mode
        if let previous = try await store.committedImport(contentHash: hash) {
            report.importID = previous.id
            report.alreadyImported = true
            // A dry run still previews the file: what it holds is what the person checking it wants to see.
            if !dryRun {
                report.read = previous.counts.read
                report.duplicates = previous.counts.read
                return report
            }
        }
        let request = ImportRequest(
            profile: profile.id, agency: profile.agency, file: file, contentHash: hash, mode: mode)
        let importID = dryRun ? 0 : try await store.startImport(request)
        if !dryRun { report.importID = importID }
        var harmonisers: HarmoniserPool?
        var header: [String]?
        var rowsHanded = 0
        var resolving: [Int64] = []
        // The stages overlap: batches are harmonised and sealed (shared out among the cores) while the
        // file goes on being read, and stored while later ones are harmonised. Up to `batchesAhead`
        // batches are harmonised at once and up to `writesInFlight` queue for the store, each write
        // starting when the one before it ends: the store's writer, the one stage that cannot be
        // shared out, then seldom waits, and memory stays bounded.
        var harmonising: [Task<Harmonised, Never>] = []
        var writes: [Task<Written, any Error>] = []
        var counting = CountingAppender(store: store, importID: importID, flushThreshold: cellFlushThreshold)

        /// Counts a harmonised batch and queues it for the store.
        func absorb(_ batch: Harmonised) async throws {
            resolving += batch.resolving
            report.read += batch.rows
            report.rejected += batch.rejects.count
            for row in batch.rejects {
                for rule in Set(row.reasons.map(\.rule)) { report.rejectionsByRule[rule, default: 0] += 1 }
            }
            if dryRun {
                report.accepted += batch.events.count
                report.preview!.append(
                    contentsOf: batch.events.events.prefix(max(0, previewSize - report.preview!.count)))
                report.previewRejects!.append(
                    contentsOf: batch.rejects.prefix(max(0, previewSize - report.previewRejects!.count)))
            } else {
                writes.append(Self.write(batch, after: writes.last, to: importID, in: store))
                // Counting a stored batch's cells overlaps with storing the next ones.
                if writes.count > Self.writesInFlight {
                    try await tally(try await writes.removeFirst().value, into: &report, counting: &counting)
                }
            }
            progress?(ImportProgress(rowsRead: report.read, fractionRead: batch.fractionRead))
        }

        do {
            try await forEachBatch { batch, fraction in
                var records = batch[...]
                if header == nil {
                    guard let first = records.first else { return }
                    var harmoniser = Harmoniser(profile: profile, reference: reference)
                    try harmoniser.bind(header: first.fields, file: file)
                    header = first.fields
                    harmonisers = HarmoniserPool(harmoniser)
                    records = records.dropFirst()
                }
                let context = BatchContext(
                    file: file, header: header!, importID: importID, firstRow: rowsHanded + 1,
                    checkColumnCount: checkColumnCount, cipher: dryRun ? nil : store.cipher)
                rowsHanded += records.count
                let pool = harmonisers!
                harmonising.append(Task { await Self.harmonise(records, with: pool, fractionRead: fraction, context) })
                if harmonising.count > Self.batchesAhead { try await absorb(await harmonising.removeFirst().value) }
            }
            while !harmonising.isEmpty { try await absorb(await harmonising.removeFirst().value) }
            while !writes.isEmpty {
                try await tally(try await writes.removeFirst().value, into: &report, counting: &counting)
            }
            try await counting.finish()
            if header == nil {
                throw PuenteError(
                    .invalidInput, "The file is empty: expected a header row and data rows.",
                    at: InputLocation(file: file))
            }
            report.resolvedRejects = Set(resolving).count
            if !dryRun {
                // Duplicates are settled at the commit, against the batches committed by then.
                let final = try await store.finishImport(importID, counts: report.counts, resolving: resolving)
                (report.accepted, report.duplicates, report.replaced) = (
                    final.accepted, final.duplicates, final.replaced
                )
            }
        } catch {
            for batch in harmonising { _ = await batch.value }
            for write in writes { _ = try? await write.value }
            if !dryRun { try? await store.rollbackImport(importID) }
            throw error
        }
        return report
    }

    /// What every worker needs to know about the batch it shares.
    private struct BatchContext: Sendable {
        var file: String
        var header: [String]
        var importID: Int64
        /// The row number of the batch's first record (1-based, after the header).
        var firstRow: Int
        /// CSV rows must have as many fields as the header; other formats name their fields.
        var checkColumnCount: Bool
        /// The keys accepted events are sealed with; nil for a dry run, which stores nothing.
        var cipher: (any PersonalDataCipher)?
        var rejectIDColumn: Int? { header.firstIndex(of: RejectedRow.idColumn) }
    }

    /// A batch harmonised by all workers, their shares joined in file order.
    private struct Harmonised: Sendable {
        var rows: Int
        var fractionRead: Double
        var events = SealedEvents()
        var rejects: [RejectedRow] = []
        var resolving: [Int64] = []
    }

    /// Batches harmonised at once while the file is read, at most.
    static let batchesAhead = 2

    /// Harmonisers bound to the file's header, lent to workers one at a time. Each keeps what it learnt
    /// (its memo of spellings) for the next share it is lent for.
    private final class HarmoniserPool: @unchecked Sendable {
        private let lock = NSLock()
        private let prototype: Harmoniser
        private var idle: [Harmoniser] = []
        init(_ prototype: Harmoniser) { self.prototype = prototype }
        func borrow() -> Harmoniser { lock.withLock { idle.popLast() ?? prototype } }
        func giveBack(_ harmoniser: Harmoniser) { lock.withLock { idle.append(harmoniser) } }
    }

    /// Harmonises and seals a batch, in one share per core.
    private static func harmonise(
        _ records: ArraySlice<SourceRecord>, with pool: HarmoniserPool, fractionRead: Double,
        _ context: BatchContext
    ) async -> Harmonised {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let share = max(2_000, (records.count + workers - 1) / workers)
        let parts = await withTaskGroup(of: Prepared.self) { group in
            for (worker, start) in stride(from: records.startIndex, to: records.endIndex, by: share).enumerated() {
                let slice = records[start..<min(start + share, records.endIndex)], offset = start - records.startIndex
                group.addTask {
                    var harmoniser = pool.borrow()
                    defer { pool.giveBack(harmoniser) }
                    return prepare(slice, offset: offset, worker: worker, harmoniser: &harmoniser, context)
                }
            }
            var parts: [Prepared] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.worker < $1.worker }
        }
        var batch = Harmonised(rows: records.count, fractionRead: fractionRead)
        for part in parts {
            batch.events.append(contentsOf: part.events)
            batch.rejects += part.rejects
            batch.resolving += part.resolving
        }
        return batch
    }

    /// One worker's share of a batch, harmonised: accepted events sealed for the store, rejects with
    /// their reasons.
    private struct Prepared: Sendable {
        var worker: Int
        var events = SealedEvents()
        var rejects: [RejectedRow] = []
        var resolving: [Int64] = []
    }

    private static func prepare(
        _ records: ArraySlice<SourceRecord>, offset: Int, worker: Int, harmoniser: inout Harmoniser,
        _ context: BatchContext
    ) -> Prepared {
        var part = Prepared(worker: worker)
        var accepted: [MovementEvent] = []
        accepted.reserveCapacity(records.count)
        let h = context.header, rejectIDColumn = context.rejectIDColumn
        for (i, record) in records.enumerated() {
            let row = context.firstRow + offset + i
            if let c = rejectIDColumn, c < record.fields.count, let id = Int64(record.fields[c]) {
                part.resolving.append(id)
            }
            let outcome: Harmoniser.Outcome
            if let expected = record.unreadable {
                outcome = .rejected([RejectionReason(rule: "unreadable", field: "(record)", expected: expected)])
            } else if context.checkColumnCount && record.fields.count != h.count {
                outcome = .rejected([
                    RejectionReason(
                        rule: "column_count", field: "(record)",
                        expected: "\(h.count) fields, as in the header")
                ])
            } else {
                outcome = harmoniser.harmonise(record.fields, file: context.file, row: row)
            }
            switch outcome {
            case .accepted(let event):
                // Duplicates, within the file or with stored records, are the store's to skip:
                // keeping a set of keys here would grow with the file. Sealing gives the cell keys.
                accepted.append(event)
            case .rejected(let reasons):
                part.rejects.append(
                    RejectedRow(
                        importID: context.importID, file: context.file, row: row,
                        values: values(record, header: h), reasons: reasons))
            }
        }
        part.events = context.cipher.map { SealedEvents(accepted, sealing: $0) } ?? SealedEvents(unsealed: accepted)
        return part
    }

    private typealias Written = (events: SealedEvents, result: AppendResult)

    /// Batches harmonised and waiting for the store, at most: enough to keep the writer busy, few
    /// enough to bound memory.
    static let writesInFlight = 2

    /// Stores a batch (rejects to quarantine, events appended) once the write before it has ended.
    private static func write(
        _ batch: Harmonised, after previous: Task<Written, any Error>?, to importID: Int64,
        in store: any EventStore
    ) -> Task<Written, any Error> {
        Task {
            _ = try await previous?.value
            if !batch.rejects.isEmpty { try await store.quarantine(batch.rejects, in: importID) }
            return (batch.events, try await store.append(batch.events, to: importID))
        }
    }

    /// Adds a finished write to the report (what the store skipped were duplicates) and counts the
    /// stored events by cell.
    private func tally(_ written: Written, into report: inout ImportReport, counting: inout CountingAppender)
        async throws
    {
        report.accepted += written.result.stored
        report.duplicates += written.result.duplicatePositions.count
        try await counting.count(written.events, storedAs: written.result)
    }

    /// The raw row as read, column name → value; a row that could not be read keeps its raw text.
    private static func values(_ record: SourceRecord, header: [String]) -> [String: String] {
        if record.unreadable != nil { return ["(record)": record.fields.joined()] }
        var values: [String: String] = [:]
        for (i, value) in record.fields.enumerated() {
            values[i < header.count ? header[i] : "(column \(i + 1))"] = value
        }
        values.removeValue(forKey: RejectedRow.idColumn)
        return values
    }

    static func sha256(of url: URL) throws -> String {
        let handle = try ExportReader.open(url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
