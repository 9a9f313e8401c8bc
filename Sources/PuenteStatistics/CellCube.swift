import PuenteCore

/// The columns of the in-memory cube: the stored cell columns, with year and month folded into one
/// period and the event type kept as the partition.
enum CubeColumn: Int, CaseIterable, Sendable {
    case source, period, reportingCountry, place, transportMode, sex, age, nationality, birthCountry
    case residenceDivision, migrationStatus, returningFrom, returnType, childStatus, documentRecorded

    /// The column's value for a cell; the period is `year * 12 + month - 1`.
    func value(of key: CellKey) -> CellValue? {
        switch self {
        case .source: .text(key.agency)
        case .period: .integer(key.year * 12 + key.month - 1)
        case .reportingCountry: key[.reportingCountry]
        case .place: key[.place]
        case .transportMode: key[.transportMode]
        case .sex: key[.sex]
        case .age: key[.age]
        case .nationality: key[.nationality]
        case .birthCountry: key[.birthCountry]
        case .residenceDivision: key[.residenceDivision]
        case .migrationStatus: key[.migrationStatus]
        case .returningFrom: key[.returningFrom]
        case .returnType: key[.returnType]
        case .childStatus: key[.childStatus]
        case .documentRecorded: key[.documentRecorded]
        }
    }
}

/// The cells of one event type, column by column, each value a code into the cube's dictionary.
struct CubePartition: Sendable {
    var columns: [[UInt16]] = Array(repeating: [], count: CubeColumn.allCases.count)
    /// Signed: a batch may hold negative counts for records it no longer counts (see `EventStore.forEachCell`).
    var counts: [Int32] = []
    var keySums: [UInt32] = []
    var importIDs: [Int64] = []

    var rowCount: Int { counts.count }
}

/// Committed cell counts, columnar and dictionary-encoded in memory, so that any breakdown is a scan
/// of a few small arrays rather than a query over millions of events.
struct CubeSnapshot: Sendable {
    /// Committed batches the snapshot reflects, ascending.
    var importIDs: [Int64] = []
    /// The committed batches with their revisions, as the store listed them: the state the snapshot counts.
    var committed: [CommittedImport] = []
    /// Per column: the distinct values seen, the code being the index.
    var values: [[CellValue?]] = Array(repeating: [], count: CubeColumn.allCases.count)
    private var codes: [[CellValue?: UInt16]] = Array(repeating: [:], count: CubeColumn.allCases.count)
    /// Event type → its cells.
    var partitions: [String: CubePartition] = [:]

    var cellCount: Int { partitions.values.reduce(0) { $0 + $1.rowCount } }

    mutating func add(_ key: CellKey, _ tally: CellTally, importID: Int64) throws {
        var partition = partitions.removeValue(forKey: key.eventType) ?? CubePartition()
        for column in CubeColumn.allCases {
            partition.columns[column.rawValue].append(try code(column.value(of: key), in: column))
        }
        partition.counts.append(Int32(clamping: tally.count))
        // Only the sum modulo 256 matters to the cell key method.
        partition.keySums.append(UInt32(tally.keySum & 0xFF))
        partition.importIDs.append(importID)
        partitions[key.eventType] = partition
    }

    private mutating func code(_ value: CellValue?, in column: CubeColumn) throws -> UInt16 {
        if let c = codes[column.rawValue][value] { return c }
        guard values[column.rawValue].count < Int(UInt16.max) else {
            throw PuenteError(
                .storeFailure, "Too many distinct values in one statistical column for the in-memory cube.")
        }
        let c = UInt16(values[column.rawValue].count)
        values[column.rawValue].append(value)
        codes[column.rawValue][value] = c
        return c
    }

    /// Drops the cells of batches that are no longer committed (rolled back).
    mutating func remove(imports gone: Set<Int64>) {
        for (type, p) in partitions {
            let keep = p.importIDs.indices.filter { !gone.contains(p.importIDs[$0]) }
            var q = CubePartition()
            q.columns = p.columns.map { column in keep.map { column[$0] } }
            q.counts = keep.map { p.counts[$0] }
            q.keySums = keep.map { p.keySums[$0] }
            q.importIDs = keep.map { p.importIDs[$0] }
            partitions[type] = q
        }
        importIDs.removeAll { gone.contains($0) }
    }
}

/// Keeps the cube in step with the store: every query first asks which batches are committed, loads
/// the new ones and drops rolled-back ones. So an import shows as soon as it commits, with no rebuild.
actor CubeCache {
    let store: any EventStore
    private var snapshot = CubeSnapshot()
    private var snapshotGeneration = 0
    /// The committed batches (with their revisions) the snapshot reflects.
    private var snapshotImports: [CommittedImport] = []
    /// The refresh under way, with the committed batches it brings the cube to.
    private var inFlight: (target: [CommittedImport], generation: Int, task: Task<CubeSnapshot, any Error>)?
    private var generations = 0

    init(store: any EventStore) {
        self.store = store
    }

    func current() async throws -> CubeSnapshot {
        let committed = try await store.committedImports()
        if committed == snapshotImports { return snapshot }
        // Queries arriving together share one refresh.
        if let f = inFlight, f.target == committed { return try await f.task.value }
        // A newer state: refresh on top of the refresh under way, if any, so work is not repeated.
        let previous = inFlight?.task
        let (base, baseImports, store) = (snapshot, snapshotImports, self.store)
        let previousTarget = inFlight?.target
        let task = Task { () async throws -> CubeSnapshot in
            var (start, startImports) = (base, baseImports)
            if let previous, let previousTarget, let done = try? await previous.value {
                (start, startImports) = (done, previousTarget)
            }
            return try await Self.refresh(start, from: startImports, to: committed, store: store)
        }
        generations += 1
        let generation = generations
        inFlight = (committed, generation, task)
        defer { if inFlight?.generation == generation { inFlight = nil } }
        let result = try await task.value
        // Callers may resume out of order: never replace a newer snapshot with an older one.
        if generation > snapshotGeneration {
            snapshot = result
            snapshotImports = committed
            snapshotGeneration = generation
        }
        return result
    }

    /// Drops the batches no longer committed, or whose revision changed, and loads the new ones.
    private static func refresh(
        _ base: CubeSnapshot, from loadedImports: [CommittedImport], to committed: [CommittedImport],
        store: any EventStore
    ) async throws -> CubeSnapshot {
        var next = base
        let now = Set(committed)
        let gone = Set(loadedImports.filter { !now.contains($0) }.map(\.id))
        if !gone.isEmpty { next.remove(imports: gone) }
        let loaded = Set(next.importIDs)
        for batch in committed where !loaded.contains(batch.id) {
            try await store.forEachCell(importID: batch.id) { key, tally in try next.add(key, tally, importID: batch.id)
            }
            next.importIDs.append(batch.id)
        }
        next.importIDs.sort()
        next.committed = committed
        return next
    }
}

/// Sums of cells by group: the kernel every measure is computed with.
struct GroupSums {
    /// Per grouped dimension, its codes; a group's index is mixed-radix over these.
    var codes: [[String]]
    var counts: [Int]
    var keySums: [Int]

    /// The codes of the group at `index`.
    func key(at index: Int) -> [String] {
        var rest = index
        var key = Array(repeating: "", count: codes.count)
        for d in codes.indices.reversed() {
            key[d] = codes[d][rest % codes[d].count]
            rest /= codes[d].count
        }
        return key
    }
}

/// A condition on one cube column, as a test of the stored value.
struct CubeCondition {
    var column: CubeColumn
    var accepts: (CellValue?) -> Bool
}

extension CubeSnapshot {
    /// Sums the cells of `eventTypes` that pass `conditions`, grouped by `groups` (each a column and the
    /// function giving the group code of a stored value).
    func sums(
        eventTypes: [String], groups: [(column: CubeColumn, code: (CellValue?) -> String)],
        conditions: [CubeCondition]
    ) throws -> GroupSums {
        // Group codes: each dimension's codes over the values actually stored, sorted.
        var groupCodes: [[String]] = []
        var valueGroup: [[Int32]] = []
        for g in groups {
            let codesOfValues = values[g.column.rawValue].map(g.code)
            let distinct = Array(Set(codesOfValues)).sorted()
            let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
            groupCodes.append(distinct.isEmpty ? [""] : distinct)
            valueGroup.append(codesOfValues.map { index[$0]! })
        }
        let size = groupCodes.reduce(1) { $0 * $1.count }
        guard size <= 1 << 24 else {
            throw PuenteError(
                .invalidArgument, "The breakdown has too many combinations; filter it or use fewer dimensions.")
        }
        // Per involved column, one table: code → this column's part of the group index, or a large
        // negative number when a condition excludes the value. A row's index is the sum of its parts.
        let excluded = Int32.min / 32
        var tables: [CubeColumn: [Int32]] = [:]
        func table(_ c: CubeColumn) -> [Int32] { tables[c] ?? Array(repeating: 0, count: values[c.rawValue].count) }
        var stride = 1
        for (g, group) in groups.enumerated().reversed() {
            var t = table(group.column)
            for v in t.indices { t[v] = t[v] < 0 ? t[v] : t[v] + valueGroup[g][v] * Int32(stride) }
            tables[group.column] = t
            stride *= groupCodes[g].count
        }
        for condition in conditions {
            var t = table(condition.column)
            for (v, value) in values[condition.column.rawValue].enumerated() where !condition.accepts(value) {
                t[v] = excluded
            }
            tables[condition.column] = t
        }
        var counts = Array(repeating: 0, count: size)
        var keySums = Array(repeating: 0, count: size)
        for type in eventTypes {
            guard let p = partitions[type], p.rowCount > 0 else { continue }
            Self.accumulate(p, tables: tables.map { ($0.key.rawValue, $0.value) }, counts: &counts, keySums: &keySums)
        }
        return GroupSums(codes: groupCodes, counts: counts, keySums: keySums)
    }

    /// The hot loop: column at a time, so each pass is a tight scan over two arrays.
    private static func accumulate(
        _ p: CubePartition, tables: [(Int, [Int32])], counts: inout [Int], keySums: inout [Int]
    ) {
        var index = [Int32](repeating: 0, count: p.rowCount)
        index.withUnsafeMutableBufferPointer { index in
            for (column, table) in tables {
                p.columns[column].withUnsafeBufferPointer { codes in
                    table.withUnsafeBufferPointer { table in
                        for i in 0..<index.count { index[i] &+= table[Int(codes[i])] }
                    }
                }
            }
            counts.withUnsafeMutableBufferPointer { counts in
                keySums.withUnsafeMutableBufferPointer { keySums in
                    p.counts.withUnsafeBufferPointer { n in
                        p.keySums.withUnsafeBufferPointer { k in
                            for i in 0..<index.count where index[i] >= 0 {
                                let g = Int(index[i])
                                counts[g] &+= Int(n[i])
                                keySums[g] &+= Int(k[i])
                            }
                        }
                    }
                }
            }
        }
    }
}
