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
    /// True when the same file had been imported before and nothing was read again.
    public var alreadyImported: Bool
    public var dryRun: Bool

    public var counts: ImportCounts { ImportCounts(read: read, accepted: accepted, rejected: rejected, duplicates: duplicates) }
}

/// Imports agency exports into a store through a profile: read, harmonise, store or quarantine.
public struct Importer: Sendable {
    public let store: any EventStore
    public let reference: ReferenceData
    /// Events written per store call; each call is one transaction.
    public var batchSize = 10_000

    public init(store: any EventStore, reference: ReferenceData = .shared) {
        self.store = store
        self.reference = reference
    }

    /// Imports `url` with `profile`. The batch becomes visible to statistics only when it commits, so
    /// an interrupted import leaves nothing half-counted, and importing the file again completes it.
    /// - Parameter progress: called after each chunk with the rows read so far.
    public func importFile(_ url: URL, profile: SourceProfile, dryRun: Bool = false,
                           progress: (@Sendable (Int) -> Void)? = nil) async throws -> ImportReport {
        let file = url.lastPathComponent
        let hash = try Self.sha256(of: url)
        var report = ImportReport(importID: nil, file: file, profile: profile.id, read: 0, accepted: 0, rejected: 0,
                                  duplicates: 0, rejectionsByRule: [:], alreadyImported: false, dryRun: dryRun)
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
        let reader = try ExportReader(url: url, format: profile.format)
        var header: [String]?
        var pending: [MovementEvent] = []
        var quarantined: [RejectedRow] = []
        do {
            try await reader.forEachBatch { records in
                for (fields, _) in records {
                    guard let h = header else {
                        try harmoniser.bind(header: fields, file: file)
                        header = fields
                        continue
                    }
                    report.read += 1
                    switch harmoniser.harmonise(fields, file: file, row: report.read) {
                    case .accepted(let event):
                        // Duplicates, within the file or with stored records, are the store's to skip:
                        // keeping a set of keys here would grow with the file.
                        pending.append(event)
                    case .rejected(let reasons):
                        report.rejected += 1
                        for rule in Set(reasons.map(\.rule)) { report.rejectionsByRule[rule, default: 0] += 1 }
                        var values: [String: String] = [:]
                        for (i, name) in h.enumerated() where i < fields.count { values[name] = fields[i] }
                        quarantined.append(RejectedRow(importID: importID, file: file, row: report.read, values: values,
                                                       reasons: reasons))
                    }
                }
                if pending.count >= batchSize || quarantined.count >= batchSize {
                    try await flush(&pending, &quarantined, importID: importID, dryRun: dryRun, report: &report)
                }
                progress?(report.read)
            }
            try await flush(&pending, &quarantined, importID: importID, dryRun: dryRun, report: &report)
            if header == nil {
                throw PuenteError(.invalidInput, "The file is empty: expected a header row and data rows.",
                                  at: InputLocation(file: file))
            }
            if !dryRun { try await store.finishImport(importID, counts: report.counts) }
        } catch {
            if !dryRun { try? await store.rollbackImport(importID) }
            throw error
        }
        return report
    }

    private func flush(_ events: inout [MovementEvent], _ rejects: inout [RejectedRow], importID: Int64, dryRun: Bool,
                       report: inout ImportReport) async throws {
        if dryRun {
            report.accepted += events.count
        } else {
            if !events.isEmpty {
                let stored = try await store.append(events, to: importID)
                report.accepted += stored
                report.duplicates += events.count - stored
            }
            if !rejects.isEmpty { try await store.quarantine(rejects, in: importID) }
        }
        events.removeAll(keepingCapacity: true)
        rejects.removeAll(keepingCapacity: true)
    }

    static func sha256(of url: URL) throws -> String {
        let handle = try ExportReader.open(url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
