import Foundation
import PuenteAccess
import PuenteCore
import PuenteIngest
import PuenteServices
import PuenteSynthetic
import PuenteTesting
import Testing

@Suite("Backup and restore")
struct BackupTests {
    @Test(
        "A backup taken during an import restores into an empty store with its statistics, persons, audit trail and sealed fields",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func backupDuringAnImport(kind: StoreKind) async throws {
        let (store, _, summary) = try await PersonTests.loaded(kind, files: 1)
        let dir = try Fixtures.generated(seed: 21, scale: 0.01).0
        let admin = Actor.commandOperator("cli:test")
        _ = try await PersonLinkingService(store: store).link(try PersonTests.linking(), by: admin)
        let opened = try await CaseService(store: store).open(
            .init(
                agency: "SV-DGME",
                recordKey: try #require(try await store.events(importID: 1, limit: 1).first).source.recordKey,
                office: "SV-CAIM", phone: "7123-4567"), by: admin)
        let before = try await store.countCells(groupBy: [])
        let persons = try await store.personLinks()

        // The movements import runs while the backup is taken.
        let movements = try #require(summary.files.dropFirst().first)
        let importing = Task {
            try await Importer(store: store).importFile(
                dir.appendingPathComponent(movements.file), profile: try ProfileCatalogue.load(movements.profile))
        }
        let folder = try Fixtures.tempDir().appendingPathComponent("backup")
        let manifest = try await BackupService(store: store).backup(into: folder, kind: kindName(kind), by: admin)
        let imported = try await importing.value
        let after = try await store.countCells(groupBy: [])
        #expect(imported.accepted > 0 && after != before)
        #expect(manifest.files.count == 1 && manifest.auditHead != nil)
        // A backup never goes into a folder that holds something.
        await #expect(throws: PuenteError.self) {
            try await BackupService(store: store).backup(into: folder, kind: kindName(kind), by: admin)
        }

        // Into an empty store: checked, restored, migrated, the keys checked, the trail whole.
        let (copy, _) = try await kind.makeEmptyStoreWithLocation()
        let restored = try await BackupService(store: copy).restore(
            from: folder, kind: kindName(kind), keys: nil, by: admin)
        #expect(restored.audit.intact && restored.audit.entries >= Int(manifest.auditHead!.sequence))
        // The figures are those before the import or after it, never between.
        let counted = try await copy.countCells(groupBy: [])
        #expect(counted == before || counted == after)
        #expect(
            try await copy.imports(limit: 100).filter { $0.status == .committed }.count >= manifest.committedImports)
        let restoredPersons = try await copy.personLinks()
        #expect(persons.allSatisfy { restoredPersons[$0.key] == $0.value })
        // Sealed fields open with the node's keys: the case's phone, the person's names.
        let view = try await CaseService(store: copy).show(opened.id, by: admin)
        #expect(view.caseFile.details.phone == "7123-4567" && view.person?.givenNames?.isEmpty == false)
        #expect(
            try await AuditTrailService(store: copy).verify(expectedHead: manifest.auditHead!.hash).verification.intact)

        // Not into a store that holds data; not from a changed file.
        await #expect(throws: PuenteError.self) {
            try await BackupService(store: copy).restore(from: folder, kind: kindName(kind), keys: nil, by: admin)
        }
        let file = folder.appendingPathComponent(manifest.files[0].name)
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: file)
        let changed = await #expect(throws: PuenteError.self) {
            try BackupService.check(folder, kind: kindName(kind))
        }
        #expect(changed?.location?.file == manifest.files[0].name)
        try await copy.close()
        try await store.close()
    }

    private func kindName(_ kind: StoreKind) -> String { kind == .postgres ? "postgresql" : "sqlite" }
}
