import Foundation
import PuenteCore

/// Links the stored events of a node into persons: `puente link persons`.
///
/// Reads every committed event (personal fields opened in memory only), deduplicates them with the
/// `stored-events` config (or the caller's), and stores who is who, the person cells statistics count
/// persons from, and the pairs left for clerical review. Nothing personal is written: links are event
/// ids, review pairs carry comparison levels and weights.
///
/// - Incremental by default: when earlier runs linked some events, only pairs with a new event are
///   scored and the known persons stay together (new events join them or form new persons). A full run
///   compares everything again; it happens on the first run, on request, and when a reviewer's decision
///   is not honoured by the stored persons yet (a non-match may split a known person).
/// - Stable person ids: a person keeps the id it had (the id most of its events had), so ids survive
///   runs; a new person's id is its first event's id.
/// - Events whose subject withdrew consent to linkage (`ConsentGate`), and events whose personal fields
///   were erased, are not compared: each counts as a person of its own (erased ones keep the person
///   they had).
public struct PersonLinking: Sendable {
    public var config: LinkageConfig
    public var threads: Int?
    /// Compare every pair again, not only pairs with a new event.
    public var full = false
    /// Subjects not to link besides those whose consent to linkage is withdrawn in the store.
    public var excluded: Set<ConsentSubject> = []
    /// At most this many review pairs are kept per run, the most probable first.
    public var reviewLimit = 20_000

    public init(config: LinkageConfig) { self.config = config }

    /// The shipped config for stored events.
    public static func defaultConfig() throws -> LinkageConfig { try LinkageConfigs.load("stored-events") }

    /// Whether a stored event belongs to one of `subjects`. Stored record keys carry the profile that
    /// read them (`sv-dgme-retornos:DAM-2016-000001`); a consent names the agency's own key, or the stored one.
    public static func isListed(_ e: MovementEvent, in subjects: Set<ConsentSubject>) -> Bool {
        guard !subjects.isEmpty else { return false }
        let key = e.source.recordKey
        if subjects.contains(ConsentSubject(agency: e.source.agency, recordKey: key)) { return true }
        guard let colon = key.firstIndex(of: ":") else { return false }
        return subjects.contains(
            ConsentSubject(agency: e.source.agency, recordKey: String(key[key.index(after: colon)...])))
    }

    /// One event as the run needs it after linking: small, millions of them.
    struct EventSlot {
        var id: Int64
        var type: UInt8
        var day: Int32
        var month: Int32  // year * 12 + month - 1
        var cell: Int32  // index into the run's distinct cell keys
        var cellKey: UInt8
        /// Index in the record table; `erased` or `withdrawn` when the event is not compared.
        var record: Int32
        static let erased: Int32 = -1, withdrawn: Int32 = -2
    }

    @discardableResult
    public func run(store: any PuenteStore) async throws -> LinkRun {
        for spec in config.fields {
            for column in spec.readColumns where !Self.eventColumns.contains(column) {
                throw PuenteError(
                    .invalidArgument,
                    "The linkage config's field \(spec.name) reads column \(column); stored events have "
                        + Self.eventColumns.joined(separator: ", ") + ".")
            }
        }
        let started = Timestamp.now()
        let excluded = self.excluded.union(try await ConsentGate(store: store).excluded(for: .linkage))
        let committed = try await store.committedImports()
        let previous = try await store.latestLinkRun()
        let known = try await store.personLinks()
        let decided = try await store.reviewPairs(pendingOnly: false, limit: Int.max).filter { $0.decision != nil }
        // A decision the stored persons do not honour yet (a match split, a non-match joined) needs every
        // pair again: a non-match may split a known person. Derived from the links, not from clocks.
        let unhonoured = decided.contains { d in
            guard let l = known[d.eventL], let r = known[d.eventR] else { return false }
            return (l == r) != d.decision!
        }
        let incremental = !full && previous != nil && !known.isEmpty && !unhonoured

        // Read the events: the store streams and opens them on this thread while another normalises the
        // previous batch into the record table and slots (each half is about half the reading time).
        let intake = EventIntake(fields: config.fields, known: known, excluded: excluded)
        var batch: [MovementEvent] = []
        batch.reserveCapacity(EventIntake.batchSize)
        for committedImport in committed {
            try await store.forEachEvent(importID: committedImport.id) { e in
                batch.append(e)
                if batch.count == EventIntake.batchSize {
                    intake.submit(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        intake.submit(batch)
        let (table, slots, cells, isNew) = intake.finish()
        // A shutdown stops the run between its phases; the stored persons stay those of the last run.
        try Task.checkCancellation()

        // Link: all pairs, or only those with a new record, the known persons seeded together.
        var linker = Linker(config: config)
        if let threads { linker.threads = max(1, threads) }
        linker.decisions = decided.map {
            ReviewDecision(idL: String($0.eventL), idR: String($0.eventR), match: $0.decision!)
        }
        var seeds: [[Int32]] = []
        if incremental {
            linker.newRecords = isNew
            var groups: [Int64: [Int32]] = [:]
            for slot in slots where slot.record >= 0 {
                if let person = known[slot.id] { groups[person, default: []].append(slot.record) }
            }
            seeds = groups.values.filter { $0.count > 1 }.map { $0.sorted() }
        }
        let result = linker.dedupe(table, seeds: seeds)
        try Task.checkCancellation()

        // Person ids: each cluster keeps the known id most of its events had; otherwise its first event's.
        // Records grouped by cluster with a counting sort (cluster ids are record indices): no dictionaries.
        let n = table.count
        var slotOfRecord = [Int32](repeating: 0, count: n)
        for (s, slot) in slots.enumerated() where slot.record >= 0 { slotOfRecord[Int(slot.record)] = Int32(s) }
        var start = [Int32](repeating: 0, count: n + 1)
        for r in 0..<n { start[Int(result.clusterOf[r]) + 1] += 1 }
        for c in 0..<n { start[c + 1] += start[c] }
        var grouped = [Int32](repeating: 0, count: n), fill = start
        for r in 0..<n {
            let c = Int(result.clusterOf[r])
            grouped[Int(fill[c])] = slotOfRecord[r]
            fill[c] += 1
        }
        var used = Set(known.values)
        var personOf = [Int64](repeating: 0, count: slots.count)
        var claims: [(votes: Int32, person: Int64, cluster: Int32)] = []
        var votes: [(person: Int64, count: Int32)] = []
        for c in 0..<n where start[c + 1] > start[c] {
            votes.removeAll(keepingCapacity: true)
            for k in Int(start[c])..<Int(start[c + 1]) {
                guard let p = known[slots[Int(grouped[k])].id] else { continue }
                if let v = votes.firstIndex(where: { $0.person == p }) {
                    votes[v].count += 1
                } else {
                    votes.append((p, 1))
                }
            }
            for v in votes { claims.append((v.count, v.person, Int32(c))) }
        }
        claims.sort { ($0.votes, $1.person) > ($1.votes, $0.person) }
        var clusterPerson = [Int64](repeating: 0, count: n), claimed = Set<Int64>()
        for c in claims where clusterPerson[Int(c.cluster)] == 0 && !claimed.contains(c.person) {
            clusterPerson[Int(c.cluster)] = c.person
            claimed.insert(c.person)
        }
        var nextFresh = max((slots.map(\.id).max() ?? 0) + 1, (used.max() ?? 0) + 1)
        func fresh(_ preferred: Int64) -> Int64 {
            if !used.contains(preferred) { used.insert(preferred); return preferred }
            defer { nextFresh += 1 }
            used.insert(nextFresh)
            return nextFresh
        }
        for c in 0..<n where start[c + 1] > start[c] {
            let members = grouped[Int(start[c])..<Int(start[c + 1])]
            let person = clusterPerson[c] != 0 ? clusterPerson[c] : fresh(members.map { slots[Int($0)].id }.min()!)
            for s in members { personOf[Int(s)] = person }
        }
        for (s, slot) in slots.enumerated() where slot.record < 0 {
            // Not compared: an erased event keeps its person; a withdrawn one becomes a person of its own.
            if slot.record == EventSlot.erased, let person = known[slot.id] {
                personOf[s] = person
            } else {
                personOf[s] = fresh(slot.id)
            }
        }

        let personCells = Self.personCells(slots: slots, personOf: personOf, cells: cells)
        var links = PersonLinks()
        links.eventIDs.reserveCapacity(slots.count)
        links.personIDs.reserveCapacity(slots.count)
        for (s, slot) in slots.enumerated() { links.append(event: slot.id, person: personOf[s]) }

        // Review queue: pairs in the uncertain band no reviewer decided yet, with what each field contributed.
        let decidedPairs = Set(decided.map { "\($0.eventL)-\($0.eventR)" })
        var review: [ReviewPair] = []
        for pair in result.pairs where pair.weight < Linker.forcedWeight {
            let probability = pair.probability
            guard probability < config.linkThreshold, probability >= config.reviewFloor else { continue }
            let l = Int64(table.ids[Int(pair.i)])!, r = Int64(table.ids[Int(pair.j)])!
            guard !decidedPairs.contains("\(min(l, r))-\(max(l, r))") else { continue }
            let contributions = Linker.explain(table, model: result.model, Int(pair.i), Int(pair.j)).map {
                ReviewPair.Contribution(
                    field: $0.field, level: $0.level, weight: $0.weight + $0.termFrequencyAdjustment)
            }
            review.append(ReviewPair(eventL: l, eventR: r, probability: probability, contributions: contributions))
            if review.count >= reviewLimit { break }
        }
        let linked = result.pairs.filter { $0.weight < Linker.forcedWeight && $0.probability >= config.linkThreshold }
            .count
        var run = LinkRun(
            mode: incremental ? "incremental" : "full", startedAt: started, finishedAt: Timestamp.now(),
            imports: committed, events: slots.count, persons: Set(personOf).count,
            candidatePairs: result.candidatePairs, linkedPairs: linked, reviewPairs: review.count)
        (run.oversizedBlocks, run.oversizedRecords) = (result.oversizedBlocks, result.oversizedRecords)
        try Task.checkCancellation()
        run.id = try await store.savePersons(run, links: links, cells: personCells, review: review)
        return run
    }

    /// Normalises batches of events on a queue of its own while the store reads the next batch. Its state
    /// is touched only on that queue (hence `@unchecked Sendable`); `finish` waits for the last batch.
    final class EventIntake: @unchecked Sendable {
        static let batchSize = 8_192
        let known: [Int64: Int64]
        let excluded: Set<ConsentSubject>
        let columns: [[String]]
        private let queue = DispatchQueue(label: "puente.link.intake")
        /// At most two batches wait, so memory stays flat while the reader runs ahead.
        private let slotsFree = DispatchSemaphore(value: 2)
        private var table: RecordTable
        private var slots: [EventSlot] = []
        private var cellIndex: [CellKey: Int32] = [:]
        private var cells: [CellKey] = []
        private var isNew: [Bool] = []

        init(fields: [FieldSpec], known: [Int64: Int64], excluded: Set<ConsentSubject>) {
            self.known = known
            self.excluded = excluded
            table = RecordTable(fields: fields)
            columns = fields.map(\.readColumns)
        }

        func submit(_ events: [MovementEvent]) {
            guard !events.isEmpty else { return }
            slotsFree.wait()
            queue.async {
                for e in events { self.add(e) }
                self.slotsFree.signal()
            }
        }

        func finish() -> (RecordTable, [EventSlot], [CellKey], [Bool]) {
            queue.sync { (table, slots, cells, isNew) }
        }

        private func add(_ e: MovementEvent) {
            let key = CellKey(e)
            let cell: Int32
            if let c = cellIndex[key] {
                cell = c
            } else {
                cell = Int32(cells.count)
                cellIndex[key] = cell
                cells.append(key)
            }
            let p = e.person
            var record = EventSlot.erased
            if PersonLinking.isListed(e, in: excluded) {
                record = EventSlot.withdrawn
            } else if p.givenNames != nil || p.surnames != nil || p.birthDate != nil || p.documentNumber != nil {
                record = Int32(table.count)
                table.append(id: String(e.id)) { f in columns[f].map { PersonLinking.value(of: e, column: $0) } }
                isNew.append(known[e.id] == nil)
            }
            slots.append(
                EventSlot(
                    id: e.id, type: PersonLinking.typeCode(e.type), day: Int32(e.date.daysSinceEpoch),
                    month: Int32(e.date.year * 12 + e.date.month - 1), cell: cell, cellKey: e.cellKey,
                    record: record))
        }
    }

    /// Aggregates the events by cell and by the period each opens for its person.
    static func personCells(slots: [EventSlot], personOf: [Int64], cells: [CellKey]) -> [PersonCell] {
        var order = Array(slots.indices)
        order.sort { a, b in
            let x = slots[a], y = slots[b]
            return (personOf[a], x.type, x.day, x.id) < (personOf[b], y.type, y.day, y.id)
        }
        var tallies: [Int64: CellTally] = [:]  // cell * 8 + level
        var previous: Int?
        for s in order {
            let slot = slots[s]
            var first = PersonFirst.ever
            if let p = previous, personOf[p] == personOf[s], slots[p].type == slot.type {
                let before = slots[p]
                if before.month / 12 != slot.month / 12 {
                    first = .year
                } else if before.month / 3 != slot.month / 3 {
                    first = .quarter
                } else if before.month != slot.month {
                    first = .month
                } else {
                    first = .none
                }
            }
            tallies[Int64(slot.cell) * 8 + Int64(first.rawValue), default: CellTally()].add(cellKey: slot.cellKey)
            previous = s
        }
        return tallies.map { key, tally in
            PersonCell(first: PersonFirst(rawValue: Int(key % 8))!, key: cells[Int(key / 8)], tally: tally)
        }.sorted { ($0.key.year, $0.key.month, $0.first.rawValue) < ($1.key.year, $1.key.month, $1.first.rawValue) }
    }

    static func typeCode(_ t: EventType) -> UInt8 { UInt8(EventType.allCases.firstIndex(of: t)!) }

    /// An event's value for a column of the `stored-events` layout.
    public static func value(of e: MovementEvent, column: String) -> String {
        let p = e.person
        switch column {
        case "given_names": return p.givenNames ?? ""
        case "surnames": return p.surnames ?? ""
        case "birth_date": return p.birthDate?.description ?? ""
        case "sex": return p.sex == .unknown ? "" : p.sex.rawValue
        case "document_number": return p.documentNumber ?? ""
        case "document_type": return p.documentType?.rawValue ?? ""
        case "nationality": return p.nationality ?? ""
        case "residence_division": return p.residenceDivision ?? ""
        default: return ""
        }
    }

    /// The columns a config may name for stored events.
    public static let eventColumns = [
        "given_names", "surnames", "birth_date", "sex", "document_number", "document_type",
        "nationality", "residence_division",
    ]
}
