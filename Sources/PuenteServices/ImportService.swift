import Foundation
import PuenteAccess
import PuenteCore
import PuenteIngest

/// Loading agency exports and handing their rejected rows back for correction. Replacing what
/// statistics count, and every file of rejected rows (personal data), are in the audit trail.
public struct ImportService: Sendable {
    let store: any PuenteStore
    let audit: AuditLog

    public init(store: any PuenteStore) {
        self.store = store
        audit = AuditLog(store: store)
    }

    public func importFile(
        _ url: URL, profile: SourceProfile, mode: ImportMode = .add, dryRun: Bool = false, by actor: Actor,
        progress: (@Sendable (ImportProgress) -> Void)? = nil
    ) async throws -> ImportReport {
        let report = try await Importer(store: store).importFile(
            url, profile: profile, mode: mode, dryRun: dryRun, progress: progress)
        if mode == .replace, !dryRun, !report.alreadyImported, let id = report.importID {
            // Replacing what statistics count is a change to published figures.
            try await audit.record(
                .init(
                    actor: actor.name, action: "import_replace", target: "import:\(id) replaced:\(report.replaced)",
                    purpose: "correction", address: actor.address))
        }
        return report
    }

    /// Removes a batch from what statistics count (a record it counted counts again in another batch
    /// holding a copy of it): a change to published figures, in the audit trail.
    public func rollback(importID: Int64, by actor: Actor) async throws {
        guard try await store.imports(limit: Int.max).contains(where: { $0.id == importID }) else {
            throw PuenteError(.notFound, "There is no import \(importID); `puente imports list` shows them.")
        }
        try await store.rollbackImport(importID)
        try await audit.record(
            .init(
                actor: actor.name, action: "import_rollback", target: "import:\(importID)",
                purpose: "correction", address: actor.address))
    }

    /// The unresolved rejected rows of an import in the export's own layout (the profile it was loaded
    /// with, unless another is given), to correct and load again.
    public func exportRejects(importID: Int64, profile: String? = nil, by actor: Actor) async throws -> (
        rows: Int, file: Data, profile: String
    ) {
        guard let record = try await store.imports(limit: Int.max).first(where: { $0.id == importID }) else {
            throw PuenteError(.notFound, "There is no import \(importID); `puente imports list` shows them.")
        }
        let profileName = profile ?? record.request.profile
        let layout: SourceProfile
        do { layout = try ProfileCatalogue.load(profileName) } catch let error as PuenteError {
            throw PuenteError(error.code, error.message + " Give the profile the import used.", at: error.location)
        }
        let rows = try await store.rejectedRows(importID: importID, includeResolved: false, limit: Int.max)
        try await audit.record(
            .init(
                actor: actor.name, action: "export", target: "rejects import:\(importID) rows:\(rows.count)",
                purpose: "correction", address: actor.address))
        return (rows.count, RejectsFile.render(rows, profile: layout), profileName)
    }
}
