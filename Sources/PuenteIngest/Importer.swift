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
    /// Rejected rows per rule id.
    public var rejectionsByRule: [String: Int]
    /// Earlier rejects this file carried corrections of (its `puente_reject_id` column).
    public var resolvedRejects: Int
    /// True when the same file had been imported before and nothing was read again.
    public var alreadyImported: Bool
    public var dryRun: Bool
    /// Dry runs only: the first rows as they would be stored, and the first rejects. Personal data,
    /// for the terminal of the person running the import; never logged.
    public var preview: [MovementEvent]?
    public var previewRejects: [RejectedRow]?

    public var counts: ImportCounts { ImportCounts(read: read, accepted: accepted, rejected: rejected, duplicates: duplicates) }
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
    public func importFile(_ url: URL, profile: SourceProfile, dryRun: Bool = false,
                           progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> ImportReport {
        let file = url.lastPathComponent
        var reader = try ExportReader(url: url, format: profile.format, keys: profile.columns.map(\.name))
        reader.batchSize = batchSize
        let hash = try Self.sha256(of: url)
        var report = ImportReport(importID: nil, file: file, profile: profile.id, read: 0, accepted: 0, rejected: 0,
                                  duplicates: 0, rejectionsByRule: [:], resolvedRejects: 0, alreadyImported: false,
                                  dryRun: dryRun, preview: dryRun ? [] : nil, previewRejects: dryRun ? [] : nil)
        if let previous = try await store.committedImport(contentHash: hash) {
            report.importID = previous.id
            report.read = previous.counts.read
            report.duplicates = previous.counts.read
            report.alreadyImported = true
            return report
        }
        let request = ImportRequest(profile: profile.id, agency: profile.agency, file: file, contentHash: hash)
        let importID = dryRun ? 0 : try await store.startImport(request)
        report.importID = dryRun ? nil : importID
        var harmoniser = Harmoniser(profile: profile, reference: reference)
        var header: [String]?
        var rejectIDColumn: Int?
        var resolving: [Int64] = []
        var writing: Task<Written, any Error>?
        var cells = CellAccumulator()
        var cellKeys = CellKeyGenerator()
        do {
            try await reader.forEachBatch { records, fraction in
                var events: [MovementEvent] = []
                events.reserveCapacity(records.count)
                var rejects: [RejectedRow] = []
                for record in records {
                    guard let h = header else {
                        try harmoniser.bind(header: record.fields, file: file)
                        header = record.fields
                        rejectIDColumn = record.fields.firstIndex(of: RejectedRow.idColumn)
                        continue
                    }
                    report.read += 1
                    if let c = rejectIDColumn, c < record.fields.count, let id = Int64(record.fields[c]) { resolving.append(id) }
                    let outcome: Harmoniser.Outcome
                    if let expected = record.unreadable {
                        outcome = .rejected([RejectionReason(rule: "unreadable", field: "(record)", expected: expected)])
                    } else if reader.format.type == .csv && record.fields.count != h.count {
                        outcome = .rejected([RejectionReason(rule: "column_count", field: "(record)",
                                                             expected: "\(h.count) fields, as in the header")])
                    } else {
                        outcome = harmoniser.harmonise(record.fields, file: file, row: report.read)
                    }
                    switch outcome {
                    case .accepted(var event):
                        // Duplicates, within the file or with stored records, are the store's to skip:
                        // keeping a set of keys here would grow with the file.
                        event.cellKey = cellKeys.next()
                        events.append(event)
                        if dryRun, report.preview!.count < previewSize { report.preview!.append(event) }
                    case .rejected(let reasons):
                        report.rejected += 1
                        for rule in Set(reasons.map(\.rule)) { report.rejectionsByRule[rule, default: 0] += 1 }
                        let row = RejectedRow(importID: importID, file: file, row: report.read,
                                              values: Self.values(record, header: h), reasons: reasons)
                        rejects.append(row)
                        if dryRun, report.previewRejects!.count < previewSize { report.previewRejects!.append(row) }
                    }
                }
                if dryRun {
                    report.accepted += events.count
                } else {
                    let written = try await writing?.value
                    if !rejects.isEmpty { try await store.quarantine(rejects, in: importID) }
                    writing = Self.write(events, to: importID, in: store)
                    // Counting the previous batch's cells overlaps with storing this one.
                    if let written { try await tally(written, into: &report, cells: &cells, importID) }
                }
                progress?(ImportProgress(rowsRead: report.read, fractionRead: fraction))
            }
            if let previous = writing { try await tally(try await previous.value, into: &report, cells: &cells, importID); writing = nil }
            if !cells.isEmpty { try await store.appendCells(cells.take(), to: importID) }
            if header == nil {
                throw PuenteError(.invalidInput, "The file is empty: expected a header row and data rows.",
                                  at: InputLocation(file: file))
            }
            report.resolvedRejects = Set(resolving).count
            if !dryRun { try await store.finishImport(importID, counts: report.counts, resolving: resolving) }
        } catch {
            if let previous = writing { _ = try? await previous.value }
            if !dryRun { try? await store.rollbackImport(importID) }
            throw error
        }
        return report
    }

    private typealias Written = (events: [MovementEvent], result: AppendResult)

    /// Starts storing a batch while the caller reads the next one.
    private static func write(_ events: [MovementEvent], to importID: Int64, in store: any EventStore) -> Task<Written, any Error> {
        Task { (events, events.isEmpty ? AppendResult(stored: 0, duplicatePositions: []) : try await store.append(events, to: importID)) }
    }

    /// Adds a finished write to the report (what the store skipped were duplicates) and counts the
    /// stored events by cell, handing the cells to the store when there are many.
    private func tally(_ written: Written, into report: inout ImportReport, cells: inout CellAccumulator,
                       _ importID: Int64) async throws {
        report.accepted += written.result.stored
        report.duplicates += written.result.duplicatePositions.count
        var skipped = written.result.duplicatePositions.makeIterator()
        var nextSkipped = skipped.next()
        for (position, event) in written.events.enumerated() {
            if position == nextSkipped { nextSkipped = skipped.next(); continue }
            cells.add(event)
        }
        if cells.count >= cellFlushThreshold || cells.isSaturated { try await store.appendCells(cells.take(), to: importID) }
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

    /// Cell keys for the cell key method: uniform on 0…255 and independent of the record. A fast
    /// generator (SplitMix64) seeded from the system's: keys need no secrecy beyond the store's.
    struct CellKeyGenerator {
        private var state: UInt64 = UInt64.random(in: .min ... .max)
        private var buffered: UInt64 = 0
        private var left = 0

        mutating func next() -> UInt8 {
            if left == 0 {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                buffered = z ^ (z >> 31)
                left = 8
            }
            defer { buffered >>= 8; left -= 1 }
            return UInt8(truncatingIfNeeded: buffered)
        }
    }

    static func sha256(of url: URL) throws -> String {
        let handle = try ExportReader.open(url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
