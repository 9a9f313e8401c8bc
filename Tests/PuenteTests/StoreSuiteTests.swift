import Foundation
import PuenteAccess
import PuenteCore
import PuenteTesting
import Testing

/// One store suite, run unchanged against SQLite (memory and file) and PostgreSQL.
@Suite("Event store conformance")
struct StoreSuiteTests {
    private func request(_ hash: String = "h1") -> ImportRequest {
        ImportRequest(profile: "test", agency: "TEST", file: "t.csv", contentHash: hash)
    }

    @Test("Migrations are versioned and idempotent", arguments: StoreKind.available)
    func migrationsIdempotent(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let first = try await store.migrate()
        let second = try await store.migrate()
        #expect(first >= 1)
        #expect(first == second)
        try await store.close()
    }

    @Test("Committed events are counted; pending ones are not", arguments: StoreKind.available)
    func visibility(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let id = try await store.startImport(request())
        let stored = try await store.appendCounted(
            [Fixtures.event(key: "a"), Fixtures.event(key: "b", sex: .female)], to: id)
        #expect(stored == AppendResult(stored: 2, duplicatePositions: []))
        // Given a pending batch, when counting, then nothing shows.
        #expect(try await store.countCells(groupBy: []).first?.count ?? 0 == 0)
        try await store.finishImport(id, counts: ImportCounts(read: 2, accepted: 2))
        let bySex = try await store.countCells(groupBy: [.sex])
        #expect(Set(bySex.map(\.count)) == [1] && Set(bySex.map(\.key)) == [[.text("F")], [.text("M")]])
        try await store.close()
    }

    @Test("A record stored once is skipped the second time, even from another batch", arguments: StoreKind.available)
    func duplicates(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let a = try await store.startImport(request("h1"))
        #expect(
            try await store.appendCounted([Fixtures.event(key: "k1"), Fixtures.event(key: "k2")], to: a).stored == 2)
        try await store.finishImport(a, counts: ImportCounts(read: 2, accepted: 2))
        // The same key twice in one call (a file that repeats a record) is stored once.
        let repeated = try await store.startImport(request("h0"))
        let within = try await store.appendCounted(
            [Fixtures.event(key: "k0"), Fixtures.event(key: "k0", sex: .female)], to: repeated)
        #expect(within == AppendResult(stored: 1, duplicatePositions: [1]))
        try await store.finishImport(repeated, counts: ImportCounts(read: 2, accepted: 1, duplicates: 1))
        let b = try await store.startImport(request("h2"))
        #expect(
            try await store.appendCounted([Fixtures.event(key: "k2"), Fixtures.event(key: "k3")], to: b)
                == AppendResult(stored: 1, duplicatePositions: [0]))
        try await store.finishImport(b, counts: ImportCounts(read: 2, accepted: 1, duplicates: 1))
        #expect(try await store.countCells(groupBy: []).first?.count == 4)
        // Cell counts follow what was stored, not what was offered.
        let bySex = try await store.countCells(groupBy: [.sex])
        #expect(Set(bySex.map { [$0.key[0]?.description ?? "", String($0.count)] }) == [["M", "4"]])
        try await store.close()
    }

    @Test("Overlapping batches appended at the same time store each record once", arguments: StoreKind.available)
    func concurrentDuplicates(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let a = try await store.startImport(request("ca")), b = try await store.startImport(request("cb"))
        let first = (0..<300).map { Fixtures.event(key: "o\($0)", row: $0 + 1) }
        let second = (150..<450).map { Fixtures.event(key: "o\($0)", row: $0 - 149) }
        async let x = store.append(first, to: a)
        async let y = store.append(second, to: b)
        let (rx, ry) = try await (x, y)
        #expect(rx.stored + ry.stored == 450)
        #expect(rx.duplicatePositions.count + ry.duplicatePositions.count == 150)
        try await store.close()
    }

    @Test("Cells group and filter by stored columns, and carry key sums", arguments: StoreKind.available)
    func cells(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let id = try await store.startImport(request())
        let events = [
            Fixtures.event(key: "1", date: "2016-01-10", sex: .male, age: 17),
            Fixtures.event(key: "2", date: "2016-01-20", sex: .male, age: 30),
            Fixtures.event(key: "3", date: "2016-02-01", sex: .female, age: 30, division: nil),
            Fixtures.event(key: "4", type: .entry, date: "2016-02-02", sex: .female, age: 40),
        ]
        _ = try await store.appendCounted(events, to: id)
        try await store.finishImport(id, counts: ImportCounts(read: 4, accepted: 4))
        let returnsByMonth = try await store.countCells(groupBy: [.month], filters: [.eventType: [.text("RETURN")]])
        #expect(
            Set(returnsByMonth.map { [$0.key[0], .integer($0.count)] }) == [
                [.integer(1), .integer(2)], [.integer(2), .integer(1)],
            ])
        let byDivision = try await store.countCells(groupBy: [.residenceDivision], filters: [.age: [.integer(30)]])
        #expect(Set(byDivision.map(\.key)) == [[.text("SV-0614")], [nil]] && byDivision.allSatisfy { $0.count == 1 })
        let january = try await store.countCells(groupBy: [.year], filters: [.month: [.integer(1)]])
        #expect(january.map(\.key) == [[.integer(2016)]] && january.map(\.count) == [2])
        // Key sums add up the events' cell keys, which sealing derives from each record's identity with the
        // store's keys; the cells of a batch stream back whole.
        let keyed = [Fixtures.event(key: "5", sex: .female, age: 50), Fixtures.event(key: "6", sex: .female, age: 50)]
        let keySum =
            Int(StoreKind.keyring.cellKey(agency: "TEST", recordKey: "5"))
            + Int(StoreKind.keyring.cellKey(agency: "TEST", recordKey: "6"))
        let second = try await store.startImport(request("k"))
        try await store.appendCounted(keyed, to: second)
        try await store.finishImport(second, counts: ImportCounts(read: 2, accepted: 2))
        let fifty = try await store.countCells(groupBy: [.sex], filters: [.age: [.integer(50)]])
        #expect(fifty == [CountCell(key: [.text("F")], count: 2, keySum: keySum)])
        var streamed: [(CellKey, CellTally)] = []
        try await store.forEachCell(importID: second) { streamed.append(($0, $1)) }
        #expect(
            streamed.count == 1 && streamed[0].0 == CellKey(keyed[0])
                && streamed[0].1 == CellTally(count: 2, keySum: keySum))
        #expect(try await store.committedImportIDs() == [id, second])
        try await store.close()
    }

    @Test("Events read back equal what was stored", arguments: StoreKind.available)
    func roundTrip(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let id = try await store.startImport(request())
        let original = [Fixtures.event(key: "x", row: 1), Fixtures.event(key: "y", type: .exit, age: nil, row: 2)]
        _ = try await store.appendCounted(original, to: id)
        let back = try await store.events(importID: id, limit: 10)
        #expect(back.allSatisfy { $0.cellKey == 0 })  // the cell key never leaves the store
        #expect(back.count == 2)
        for (o, b) in zip(original, back) {
            var expected = o
            expected.id = b.id
            expected.source.importID = id
            #expect(b == expected)
            #expect(b.id > 0)
        }
        try await store.close()
    }

    @Test(
        "Personal fields and quarantined values are sealed at rest, read back in clear, and re-sealed on key rotation",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func sealedAtRest(kind: StoreKind) async throws {
        let (store, location) = try await kind.makeStoreWithLocation()
        let id = try await store.startImport(request())
        let original = [Fixtures.event(key: "x", row: 1), Fixtures.event(key: "y", row: 2)]
        _ = try await store.appendCounted(original, to: id)
        try await store.quarantine(
            [
                RejectedRow(
                    file: "t.csv", row: 3, values: ["NOMBRE": "Rosa Elvira Cañas", "SEXO": "X"],
                    reasons: [RejectionReason(rule: "code_exists", field: "SEXO", expected: "F or M")])
            ], in: id)
        try await store.finishImport(id, counts: ImportCounts(read: 3, accepted: 2, rejected: 1))

        // Behind the store: no clear name, document or birth date; each event's fields sealed together
        // under the test key, the one-by-one columns of older versions empty.
        let sealed = try await StoreKind.fetchBehindTheStore("SELECT person_sealed FROM movement_event", at: location)
        #expect(sealed.count == 2 && sealed.allSatisfy { $0?.hasPrefix("pe1:t1:") == true })
        for column in EventColumns.legacyPersonal {
            #expect(
                try await StoreKind.fetchBehindTheStore("SELECT \(column) FROM movement_event", at: location) == [
                    nil, nil,
                ])
        }
        let everything = try await StoreKind.fetchBehindTheStore(
            "SELECT person_sealed FROM movement_event UNION ALL SELECT values_json FROM rejected_row", at: location
        ).compactMap { $0 }.joined()
        for clear in ["Ana", "Pérez", "01234567", "1986", "Rosa", "Cañas"] {
            #expect(!everything.contains(clear), "\(clear) in clear")
        }
        #expect(try await store.events(importID: id, limit: 10).map(\.person) == original.map(\.person))
        #expect(try await store.rejectedRows(importID: id, limit: 10).first?.values["NOMBRE"] == "Rosa Elvira Cañas")

        // Rotation: a new active key; the old one still opens what it sealed until everything is re-sealed.
        let oldKey = Data(repeating: 7, count: 32).base64EncodedString()
        let newKey = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let rotated = try StoreKind.reopen(location, cipher: try Keyring.parse("active k2; t1 \(oldKey); k2 \(newKey)"))
        #expect(try await rotated.events(importID: id, limit: 10).map(\.person) == original.map(\.person))
        #expect(try await rotated.resealPersonalData(batchSize: 1) == 3)  // 2 events, 1 reject, one row per transaction
        #expect(try await rotated.resealPersonalData(batchSize: 100) == 0)  // nothing left under the old key
        let raw = try await StoreKind.fetchBehindTheStore("SELECT person_sealed FROM movement_event", at: location)
        #expect(raw.allSatisfy { $0?.hasPrefix("pe1:k2:") == true })
        let newOnly = try StoreKind.reopen(location, cipher: try Keyring.parse("active k2; k2 \(newKey)"))
        #expect(try await newOnly.events(importID: id, limit: 10).map(\.person) == original.map(\.person))
        #expect(try await newOnly.rejectedRows(importID: id, limit: 10).first?.values["NOMBRE"] == "Rosa Elvira Cañas")
        // The old key alone no longer opens anything, and says which key is missing.
        await #expect(throws: PuenteError.self) { try await store.events(importID: id, limit: 10) }
        // Rows written one column at a time by an older version (in clear) are read, and sealed by rotation.
        try await StoreKind.executeBehindTheStore(
            [
                """
                UPDATE movement_event SET person_sealed = NULL, given_names = 'Ana María', surnames = 'Pérez López',
                document_number = '01234567-8' WHERE record_key = 'y'
                """
            ], at: location)
        let legacy = try #require(try await newOnly.events(importID: id, limit: 10).last)
        #expect(legacy.person.givenNames == "Ana María" && legacy.person.birthDate == nil)
        #expect(try await newOnly.resealPersonalData(batchSize: 10) == 1)
        #expect(
            try await StoreKind.fetchBehindTheStore("SELECT given_names FROM movement_event", at: location) == [
                nil, nil,
            ])
        #expect(try await newOnly.events(importID: id, limit: 10).last?.person.documentNumber == "01234567-8")
        // A person's sealed fields copied onto another event do not open there.
        try await StoreKind.executeBehindTheStore(
            [
                """
                UPDATE movement_event SET person_sealed = (SELECT person_sealed FROM movement_event WHERE record_key = 'x') WHERE record_key = 'y'
                """
            ], at: location)
        let moved = await #expect(throws: PuenteError.self) { try await newOnly.events(importID: id, limit: 10) }
        // no record identity
        #expect(moved?.message.contains("person_sealed") == true && moved?.message.contains("TEST") == false)
        for s in [store, rotated, newOnly] { try await s.close() }
    }

    @Test(
        "Erasure and retention remove personal fields but keep every count; old rejects are deleted",
        arguments: StoreKind.available)
    func erasureAndRetention(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let id = try await store.startImport(request())
        let events = [
            Fixtures.event(key: "old", date: "2010-01-10", row: 1),
            Fixtures.event(key: "mid", date: "2016-03-05", row: 2),
            Fixtures.event(key: "new", date: "2024-06-01", row: 3),
        ]
        _ = try await store.appendCounted(events, to: id)
        try await store.quarantine([RejectedRow(file: "t.csv", row: 4, values: ["NOMBRE": "x"], reasons: [])], in: id)
        try await store.finishImport(id, counts: ImportCounts(read: 4, accepted: 3, rejected: 1))
        let cellsBefore = try await store.countCells(groupBy: [.year, .sex])

        #expect(try await store.erasePersonalData(agency: "TEST", recordKeys: ["mid", "unknown"]) == 1)
        #expect(try await store.erasePersonalData(agency: "OTHER", recordKeys: ["new"]) == 0)
        var back = Dictionary(
            uniqueKeysWithValues: try await store.events(importID: id, limit: 10).map { ($0.source.recordKey, $0) })
        #expect(
            back["mid"]?.person.givenNames == nil && back["mid"]?.person.documentNumber == nil
                && back["mid"]?.person.birthDate == nil)
        #expect(back["mid"]?.person.age == 30 && back["mid"]?.person.sex == .male)  // what statistics count stays
        #expect(back["new"]?.person.givenNames == "Ana María")

        let (expired, rejects) = try await store.expirePersonalData(
            eventsBefore: CivilDate(iso: "2015-01-01")!, rejectsBefore: "9999-01-01")
        #expect(expired == 1 && rejects == 1)
        back = Dictionary(
            uniqueKeysWithValues: try await store.events(importID: id, limit: 10).map { ($0.source.recordKey, $0) })
        #expect(back["old"]?.person.surnames == nil && back["new"]?.person.surnames == "Pérez López")
        #expect(try await store.rejectedRows(importID: id, limit: 10).isEmpty)
        // published figures unchanged
        #expect(Set(try await store.countCells(groupBy: [.year, .sex])) == Set(cellsBefore))
        try await store.close()
    }

    @Test(
        "Consent: recorded per purpose, withdrawn once, listed per record; withdrawn subjects exclude those given again",
        arguments: StoreKind.available)
    func consent(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let ana = ConsentSubject(agency: "SV-DGME", recordKey: "R-1"),
            luis = ConsentSubject(agency: "SV-DGME", recordKey: "R-2")
        func given(_ subject: ConsentSubject, _ purpose: ConsentPurpose, on day: String = "2026-03-01") -> ConsentRecord
        {
            ConsentRecord(
                subject: subject, purpose: purpose, scope: "solo 2016", recipients: ["OIM", "Glasswing"],
                givenOn: CivilDate(iso: day)!,
                language: "es-SV", collector: "ana.caseworker", guardian: purpose == .referral,
                recordedAt: "2026-03-01T10:00:00Z")
        }
        let linkage = try await store.recordConsent(given(ana, .linkage))
        let referral = try await store.recordConsent(given(ana, .referral))
        _ = try await store.recordConsent(given(luis, .linkage))
        #expect(linkage.id > 0 && referral.id != linkage.id)
        // A second consent in force for the same record and purpose is refused; another agency's same key is another person.
        let twice = await #expect(throws: PuenteError.self) { try await store.recordConsent(given(ana, .linkage)) }
        #expect(twice?.code == .conflict)
        _ = try await store.recordConsent(given(ConsentSubject(agency: "GT-IGM", recordKey: "R-1"), .linkage))

        // Everything reads back as written.
        #expect(try await store.consents(of: ana) == [linkage, referral])
        #expect(try await store.consent(id: referral.id) == referral)
        #expect(try await store.consent(id: 9_999) == nil)
        #expect(try await store.consents(of: ConsentSubject(agency: "SV-DGME", recordKey: "R-9")).isEmpty)
        #expect(try await store.withdrawnSubjects(purpose: .linkage).isEmpty)

        // Withdrawing linkage excludes Ana from linkage only; withdrawing twice or an unknown id is an error.
        let withdrawn = try await store.withdrawConsent(id: linkage.id, on: CivilDate(iso: "2026-04-02")!, by: "dpo")
        #expect(
            withdrawn.withdrawnOn == CivilDate(iso: "2026-04-02") && withdrawn.withdrawnBy == "dpo"
                && !withdrawn.inForce)
        #expect(try await store.consent(id: linkage.id) == withdrawn)
        let again = await #expect(throws: PuenteError.self) {
            try await store.withdrawConsent(id: linkage.id, on: .today, by: "dpo")
        }
        #expect(again?.code == .conflict)
        #expect(try await store.consent(id: linkage.id)?.withdrawnBy == "dpo")  // the first withdrawal stands
        let unknown = await #expect(throws: PuenteError.self) {
            try await store.withdrawConsent(id: 9_999, on: .today, by: "dpo")
        }
        #expect(unknown?.code == .notFound)
        #expect(try await store.withdrawnSubjects(purpose: .linkage) == [ana])
        #expect(try await store.withdrawnSubjects(purpose: .referral).isEmpty)
        #expect(try await store.withdrawnSubjects(purpose: .exchange).isEmpty)

        // Consent given again after the withdrawal is in force: the later decision counts.
        let renewed = try await store.recordConsent(given(ana, .linkage, on: "2026-05-01"))
        #expect(try await store.withdrawnSubjects(purpose: .linkage).isEmpty)
        _ = try await store.withdrawConsent(id: renewed.id, on: CivilDate(iso: "2026-06-01")!, by: "dpo")
        _ = try await store.withdrawConsent(id: referral.id, on: CivilDate(iso: "2026-06-01")!, by: "dpo")
        #expect(try await store.withdrawnSubjects(purpose: .linkage) == [ana])  // once, though withdrawn twice
        #expect(try await store.withdrawnSubjects(purpose: .referral) == [ana])
        #expect(try await store.consents(of: ana).map(\.inForce) == [false, false, false])
        try await store.close()
    }

    @Test("Rollback removes a batch's events and rejects", arguments: StoreKind.available)
    func rollback(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let id = try await store.startImport(request())
        _ = try await store.appendCounted([Fixtures.event(key: "r1")], to: id)
        try await store.quarantine(
            [
                RejectedRow(
                    file: "t.csv", row: 2, values: ["SEXO": "X"],
                    reasons: [RejectionReason(rule: "code_exists", field: "SEXO", expected: "F or M")])
            ], in: id)
        try await store.finishImport(id, counts: ImportCounts(read: 2, accepted: 1, rejected: 1))
        #expect(try await store.rejectedRows(importID: id, limit: 10).first?.values == ["SEXO": "X"])
        try await store.rollbackImport(id)
        #expect(try await store.countCells(groupBy: []).first?.count ?? 0 == 0)
        #expect(try await store.rejectedRows(importID: nil, limit: 10).isEmpty)
        #expect(try await store.imports(limit: 5).first?.status == .rolledBack)
        await #expect(throws: PuenteError.self) { try await store.rollbackImport(999) }
        try await store.close()
    }

    @Test(
        "Rejections are counted per import and rule, once per row, for committed imports only",
        arguments: StoreKind.available)
    func rejectionCounts(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        func reject(_ row: Int, _ rules: [String]) -> RejectedRow {
            RejectedRow(
                file: "t.csv", row: row, values: ["F": "v"],
                reasons: rules.enumerated().map {
                    RejectionReason(rule: $0.element, field: "F\($0.offset)", expected: "e")
                })
        }
        let first = try await store.startImport(request("a"))
        // Row 3 breaks `code_exists` in two fields: one row, counted once.
        try await store.quarantine(
            [
                reject(2, ["required"]), reject(3, ["code_exists", "code_exists", "required"]),
                reject(4, ["date_format"]),
            ], in: first)
        try await store.finishImport(first, counts: ImportCounts(read: 3, rejected: 3))
        let second = try await store.startImport(request("b"))
        try await store.quarantine([reject(2, ["required"])], in: second)
        try await store.finishImport(second, counts: ImportCounts(read: 1, rejected: 1))
        let pending = try await store.startImport(request("c"))
        try await store.quarantine([reject(2, ["required"])], in: pending)

        let counts = try await store.rejectionCounts(imports: 10)
        #expect(
            counts.map { "\($0.importID == first ? "first" : "second") \($0.rule) \($0.rows)" } == [
                "first code_exists 1", "first date_format 1", "first required 2", "second required 1",
            ])
        // Only the newest committed import when asked for one.
        #expect(try await store.rejectionCounts(imports: 1).map(\.importID) == [second])
        try await store.close()
    }

    @Test("An interrupted import is discarded when the same file starts again", arguments: StoreKind.available)
    func interrupted(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let dead = try await store.startImport(request("same"))
        _ = try await store.appendCounted([Fixtures.event(key: "p1")], to: dead)  // then the process dies
        let again = try await store.startImport(request("same"))
        #expect(again != dead)
        #expect(
            try await store.appendCounted([Fixtures.event(key: "p1"), Fixtures.event(key: "p2")], to: again).stored == 2
        )
        try await store.finishImport(again, counts: ImportCounts(read: 2, accepted: 2))
        #expect(try await store.countCells(groupBy: []).first?.count == 2)
        #expect(try await store.committedImport(contentHash: "same")?.id == again)
        #expect(try await store.imports(limit: 10).count == 1)
        try await store.close()
    }

    // MARK: Which copy of a record counts

    /// Records counted by sex, through the committed cells as statistics read them.
    private func countedBySex(_ store: any EventStore) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for cell in try await store.countCells(groupBy: [.sex]) {
            out[cell.key[0]?.description ?? "", default: 0] += cell.count
        }
        return out
    }

    /// Stores events as a batch, counting the cells of those the store counted, and commits it.
    @discardableResult
    private func load(
        _ store: any EventStore, _ hash: String, _ events: [MovementEvent], mode: ImportMode = .add,
        commit: Bool = true
    ) async throws -> (id: Int64, counts: ImportCounts) {
        let id = try await store.startImport(
            ImportRequest(
                profile: "test", agency: "TEST", file: "\(hash).csv", contentHash: hash,
                mode: mode))
        let result = try await store.appendCounted(events, to: id)
        let offered = ImportCounts(
            read: events.count, accepted: result.stored, duplicates: result.duplicatePositions.count)
        guard commit else { return (id, offered) }
        return (id, try await store.finishImport(id, counts: offered))
    }

    @Test(
        "A duplicate of a record in a batch still pending counts when its own batch commits first, whatever becomes of the other",
        arguments: StoreKind.available)
    func duplicatesOfPendingBatches(kind: StoreKind) async throws {
        for aCommits in [false, true] {
            let store = try await kind.makeStore()
            // A is interrupted (or slow) with k1 and k2 stored; B reads k2 and k3 meanwhile and commits.
            let (a, _) = try await load(
                store, "a", [Fixtures.event(key: "k1"), Fixtures.event(key: "k2")], commit: false)
            let (_, bCounts) = try await load(
                store, "b", [Fixtures.event(key: "k2", sex: .female), Fixtures.event(key: "k3")])
            #expect(bCounts == ImportCounts(read: 2, accepted: 2, duplicates: 0), "B counts k2: A has not committed")
            #expect(try await countedBySex(store) == ["F": 1, "M": 1])
            if aCommits {
                // A commits after B: its k2 is the duplicate now, and each record counts once.
                let aCounts = try await store.finishImport(a, counts: ImportCounts(read: 2, accepted: 2))
                #expect(aCounts == ImportCounts(read: 2, accepted: 1, duplicates: 1))
                #expect(try await countedBySex(store) == ["F": 1, "M": 2])
            } else {
                // A is rolled back: what B read still counts.
                try await store.rollbackImport(a)
                #expect(try await countedBySex(store) == ["F": 1, "M": 1])
            }
            #expect(try await store.imports(limit: 10).map(\.counts).allSatisfy(\.isBalanced))
            try await store.close()
        }
    }

    @Test(
        "Rolling back a committed batch lets the duplicates other batches kept of its records count",
        arguments: StoreKind.available)
    func rollbackRestoresDuplicates(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let (a, _) = try await load(store, "a", [Fixtures.event(key: "k1"), Fixtures.event(key: "k2")])
        let (b, bCounts) = try await load(
            store, "b", [Fixtures.event(key: "k2", sex: .female), Fixtures.event(key: "k3")])
        #expect(bCounts == ImportCounts(read: 2, accepted: 1, duplicates: 1))
        #expect(try await countedBySex(store) == ["M": 3])
        let before = try await store.committedImports().first { $0.id == b }!
        try await store.rollbackImport(a)
        // B's copy of k2 counts now (k1 was A's alone), its cells follow, and B's revision says it changed.
        #expect(try await countedBySex(store) == ["F": 1, "M": 1])
        // Counted as the importer counts: the sealed document is recorded, whatever SQL could see.
        let documents = try await store.countCells(groupBy: [.documentRecorded])
        #expect(documents.map(\.key) == [[.integer(1)]] && documents.map(\.count) == [2])
        let after = try await store.committedImports()
        #expect(after.map(\.id) == [b] && after[0].revision > before.revision)
        #expect(Set(try await store.events(importID: b, limit: 10).map(\.source.recordKey)) == ["k2", "k3"])
        try await store.close()
    }

    @Test(
        "A correction imported in replace mode counts instead of the record it corrects, which is kept and counts again on rollback",
        arguments: StoreKind.available)
    func corrections(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let (a, _) = try await load(store, "a", [Fixtures.event(key: "k1"), Fixtures.event(key: "k2")])
        // Added again without replace: a duplicate, nothing changes.
        let (_, plain) = try await load(store, "plain", [Fixtures.event(key: "k1", sex: .female)])
        #expect(plain == ImportCounts(read: 1, accepted: 0, duplicates: 1))
        #expect(try await countedBySex(store) == ["M": 2])
        // The agency corrects k1's sex and adds k3.
        let (c, cCounts) = try await load(
            store, "c", [Fixtures.event(key: "k1", sex: .female), Fixtures.event(key: "k3")], mode: .replace)
        #expect(cCounts == ImportCounts(read: 2, accepted: 2, duplicates: 0, replaced: 1))
        #expect(try await countedBySex(store) == ["F": 1, "M": 2])
        #expect(try await store.events(importID: a, limit: 10).map(\.source.recordKey) == ["k2"])
        #expect(try await store.imports(limit: 10).first { $0.id == c }?.request.mode == .replace)
        // Rolled back, the previous version counts again (not the plain duplicate).
        try await store.rollbackImport(c)
        #expect(try await countedBySex(store) == ["M": 2])
        #expect(Set(try await store.events(importID: a, limit: 10).map(\.source.recordKey)) == ["k1", "k2"])
        try await store.close()
    }

    @Test("Agreements are kept once, never rewritten, and revoked once", arguments: StoreKind.available)
    func agreements(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let a = StoredAgreement(
            id: "SV-HUB-2026", document: #"{"terms":{"id":"SV-HUB-2026"}}"#, acceptedAt: "2026-01-02T10:00:00Z",
            acceptedBy: "dpo")
        #expect(try await store.saveAgreement(a))
        #expect(try await !store.saveAgreement(a))
        var other = a
        other.document = #"{"terms":{"id":"SV-HUB-2026","retentionDays":3650}}"#
        await #expect(throws: PuenteError.agreementKeptWithOtherTerms) { try await store.saveAgreement(other) }
        let b = StoredAgreement(
            id: "GT-HUB-2026", document: "{}", acceptedAt: "2026-01-03T10:00:00Z", acceptedBy: "dpo")
        #expect(try await store.saveAgreement(b))
        #expect(try await store.agreements().map(\.id) == ["GT-HUB-2026", "SV-HUB-2026"])
        #expect(try await store.agreement(id: "SV-HUB-2026") == a)

        let revoked = try await store.revokeAgreement(
            id: "SV-HUB-2026", on: CivilDate(iso: "2026-06-30")!, by: "dpo", reason: "ended")
        #expect(revoked.revokedOn == CivilDate(iso: "2026-06-30") && revoked.revocationReason == "ended")
        #expect(try await store.agreement(id: "SV-HUB-2026") == revoked)
        await #expect(throws: PuenteError.agreementRevokedAlready) {
            try await store.revokeAgreement(id: "SV-HUB-2026", on: .today, by: "dpo", reason: "again")
        }
        await #expect(throws: PuenteError.noSuchAgreement) {
            try await store.revokeAgreement(id: "XX", on: .today, by: "dpo", reason: "none")
        }
        try await store.close()
    }
}
