/// An event's statistical columns (`CellColumn`), without anything that identifies the person.
///
/// Importers aggregate the events they store by this key, so statistics read a table of cells many
/// times smaller than the events, and never personal fields.
public struct CellKey: Hashable, Sendable {
    public var eventType: String
    public var agency: String
    public var year: Int
    public var month: Int
    public var reportingCountry: String
    public var place: String?
    public var transportMode: String?
    public var sex: String
    public var age: Int?
    public var nationality: String?
    public var birthCountry: String?
    public var residenceDivision: String?
    public var migrationStatus: String?
    public var returningFrom: String?
    public var returnType: String?
    public var childStatus: String?
    public var documentRecorded: Bool

    public init(
        eventType: String, agency: String, year: Int, month: Int, reportingCountry: String, place: String?,
        transportMode: String?, sex: String, age: Int?, nationality: String?, birthCountry: String?,
        residenceDivision: String?, migrationStatus: String?, returningFrom: String?, returnType: String?,
        childStatus: String?, documentRecorded: Bool
    ) {
        self.eventType = eventType; self.agency = agency; self.year = year; self.month = month
        self.reportingCountry = reportingCountry; self.place = place; self.transportMode = transportMode; self.sex = sex
        self.age = age; self.nationality = nationality; self.birthCountry = birthCountry
        self.residenceDivision = residenceDivision; self.migrationStatus = migrationStatus;
        self.returningFrom = returningFrom
        self.returnType = returnType; self.childStatus = childStatus; self.documentRecorded = documentRecorded
    }

    public init(_ e: MovementEvent) {
        let p = e.person, r = e.returnDetails
        eventType = e.type.rawValue
        agency = e.source.agency
        year = e.date.year
        month = e.date.month
        reportingCountry = e.reportingCountry
        place = e.place
        transportMode = e.transportMode?.rawValue
        sex = p.sex.rawValue
        age = p.age
        nationality = p.nationality
        birthCountry = p.birthCountry
        residenceDivision = p.residenceDivision
        migrationStatus = p.migrationStatus?.rawValue
        returningFrom = r?.returningFrom
        returnType = r?.returnType?.rawValue
        childStatus = r?.childStatus?.rawValue
        documentRecorded = !(p.documentNumber ?? "").isEmpty
    }

    /// Rebuilds a key from values in `CellColumn.allCases` order; nil when a required value is missing.
    public init?(values v: [CellValue?]) {
        func s(_ i: Int) -> String? { if case .text(let x)? = v[i] { return x }; return nil }
        func n(_ i: Int) -> Int? {
            switch v[i] {
            case .integer(let x)?: return x
            case .text(let x)?: return Int(x)
            default: return nil
            }
        }
        guard v.count == CellColumn.allCases.count, let type = s(0), let agency = s(1), let year = n(2),
            let month = n(3),
            let reporting = s(4), let sex = s(7)
        else { return nil }
        eventType = type; self.agency = agency; self.year = year; self.month = month; reportingCountry = reporting
        place = s(5); transportMode = s(6); self.sex = sex; age = n(8); nationality = s(9); birthCountry = s(10)
        residenceDivision = s(11); migrationStatus = s(12); returningFrom = s(13); returnType = s(14)
        childStatus = s(15); documentRecorded = n(16) == 1
    }

    /// The value of one column.
    public subscript(column: CellColumn) -> CellValue? {
        switch column {
        case .eventType: .text(eventType)
        case .agency: .text(agency)
        case .year: .integer(year)
        case .month: .integer(month)
        case .reportingCountry: .text(reportingCountry)
        case .place: place.map(CellValue.text)
        case .transportMode: transportMode.map(CellValue.text)
        case .sex: .text(sex)
        case .age: age.map(CellValue.integer)
        case .nationality: nationality.map(CellValue.text)
        case .birthCountry: birthCountry.map(CellValue.text)
        case .residenceDivision: residenceDivision.map(CellValue.text)
        case .migrationStatus: migrationStatus.map(CellValue.text)
        case .returningFrom: returningFrom.map(CellValue.text)
        case .returnType: returnType.map(CellValue.text)
        case .childStatus: childStatus.map(CellValue.text)
        case .documentRecorded: .integer(documentRecorded ? 1 : 0)
        }
    }

    /// Hands each value, in `CellColumn.allCases` order, to `v` (the stores' bulk-loading path).
    public func visit(_ v: inout some EventColumnVisitor) {
        v.text(eventType); v.text(agency); v.integer(year); v.integer(month); v.text(reportingCountry); v.text(place)
        v.text(transportMode); v.text(sex); v.integer(age); v.text(nationality); v.text(birthCountry)
        v.text(residenceDivision); v.text(migrationStatus); v.text(returningFrom); v.text(returnType);
        v.text(childStatus)
        v.integer(documentRecorded ? 1 : 0)
    }
}

/// How many stored events share a `CellKey`, and the sum of their cell keys.
public struct CellTally: Hashable, Sendable {
    public var count: Int
    /// Sum of the events' random cell keys (0…255): the cell key method derives a cell's noise from it.
    public var keySum: Int

    public init(count: Int = 0, keySum: Int = 0) {
        self.count = count
        self.keySum = keySum
    }

    /// Counts one more event.
    public mutating func add(cellKey: UInt8) {
        count += 1
        keySum += Int(cellKey)
    }
}

/// Counts stored events by cell while an import runs, compactly: each text column's values are
/// numbered once, so a cell in memory is 32 bytes rather than a dozen strings. Memory stays bounded
/// because the importer hands cells to the store whenever there are many.
public struct CellAccumulator: Sendable {
    private var numbering = TextNumbering(columns: 13)
    private var cells: [PackedCellKey: CellTally] = [:]

    public init() {}

    public var count: Int { cells.count }
    public var isEmpty: Bool { cells.isEmpty }
    /// Whether some column is close to the 65,535 values a flush can number.
    public var isSaturated: Bool { numbering.isSaturated }

    /// Borrows the event: copying it would retain and release each of its strings, per stored row.
    public mutating func add(_ event: borrowing MovementEvent) { add(event, cellKey: event.cellKey) }

    /// Counts one more event, with the cell key sealing gave it (`SealedEvents.cellKeys`).
    public mutating func add(_ event: borrowing MovementEvent, cellKey: UInt8) {
        var key = PackedCellKey()
        // One call per column, no array: this runs for every stored event.
        func put(_ text: String?, _ column: Int) { key.set(column, numbering.number(text, column: column)) }
        put(event.type.rawValue, 0); put(event.source.agency, 1); put(event.reportingCountry, 2);
        put(event.person.sex.rawValue, 3)
        put(event.place, 4); put(event.transportMode?.rawValue, 5); put(event.person.nationality, 6)
        put(event.person.birthCountry, 7); put(event.person.residenceDivision, 8)
        put(event.person.migrationStatus?.rawValue, 9); put(event.returnDetails?.returningFrom, 10)
        put(event.returnDetails?.returnType?.rawValue, 11); put(event.returnDetails?.childStatus?.rawValue, 12)
        key.year = Int16(truncatingIfNeeded: event.date.year)
        key.month = UInt8(truncatingIfNeeded: event.date.month)
        key.age = event.person.age.map { Int16(clamping: $0) } ?? -1
        key.documentRecorded = !(event.person.documentNumber?.isEmpty ?? true)
        cells[key, default: CellTally()].add(cellKey: cellKey)
    }

    /// Hands the cells over and starts empty again.
    public mutating func take() -> CellBatch {
        defer { self = CellAccumulator() }
        return CellBatch(entries: Array(cells), values: numbering.values)
    }
}

/// Cells taken from an accumulator, decoded one at a time as a store writes them.
public struct CellBatch: Sendable {
    fileprivate let entries: [(PackedCellKey, CellTally)]
    fileprivate let values: [[String?]]

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    public subscript(i: Int) -> (key: CellKey, tally: CellTally) {
        let (k, tally) = entries[i]
        func v(_ column: Int) -> String? { values[column][Int(k.get(column))] }
        let key = CellKey(
            eventType: v(0) ?? "", agency: v(1) ?? "", year: Int(k.year), month: Int(k.month),
            reportingCountry: v(2) ?? "", place: v(4), transportMode: v(5), sex: v(3) ?? "_U",
            age: k.age < 0 ? nil : Int(k.age), nationality: v(6), birthCountry: v(7), residenceDivision: v(8),
            migrationStatus: v(9), returningFrom: v(10), returnType: v(11), childStatus: v(12),
            documentRecorded: k.documentRecorded)
        return (key, tally)
    }
}

/// A cell key with each text replaced by its number in the accumulator's `TextNumbering`: event type,
/// agency, reporting country, sex, then the nine optional text columns, as 16-bit lanes of `lanes`.
/// Plain integers rather than SIMD types, so that debug builds (the demo) stay fast too.
fileprivate struct PackedCellKey: Hashable, Sendable {
    var lanes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var year: Int16 = 0
    var age: Int16 = -1
    var month: UInt8 = 0
    var documentRecorded = false

    mutating func set(_ lane: Int, _ value: UInt16) {
        withUnsafeMutableBytes(of: &lanes) { $0.storeBytes(of: value, toByteOffset: lane * 2, as: UInt16.self) }
    }

    func get(_ lane: Int) -> UInt16 {
        withUnsafeBytes(of: lanes) { $0.load(fromByteOffset: lane * 2, as: UInt16.self) }
    }

    static func == (a: Self, b: Self) -> Bool {
        a.lanes == b.lanes && a.year == b.year && a.age == b.age && a.month == b.month
            && a.documentRecorded == b.documentRecorded
    }

    func hash(into h: inout Hasher) {
        withUnsafeBytes(of: lanes) { h.combine(bytes: $0) }
        h.combine(year); h.combine(age); h.combine(month); h.combine(documentRecorded)
    }
}

/// Numbers the distinct texts of each column (0 stands for "not recorded"). Consecutive events
/// mostly repeat a column's value, so the last one is checked before the dictionary.
fileprivate struct TextNumbering: Sendable {
    private(set) var values: [[String?]]
    private var numbers: [[String: UInt16]]
    private var last: [(String?, UInt16)]

    init(columns: Int) {
        values = Array(repeating: [nil], count: columns)
        numbers = Array(repeating: [:], count: columns)
        last = Array(repeating: (nil, 0), count: columns)
    }

    /// Room is left for a whole batch of new values (the importer checks between batches of 20,000).
    var isSaturated: Bool { values.contains { $0.count >= 40_000 } }

    mutating func number(_ text: String?, column: Int) -> UInt16 {
        guard let text else { return 0 }
        if last[column].0 == text { return last[column].1 }
        let n: UInt16
        if let known = numbers[column][text] {
            n = known
        } else {
            n = UInt16(values[column].count)
            values[column].append(text)
            numbers[column][text] = n
        }
        last[column] = (text, n)
        return n
    }
}

/// What a store did with a batch of events.
public struct AppendResult: Hashable, Sendable {
    /// Events stored.
    public var stored: Int
    /// Positions, in the batch, of the events skipped because their `(agency, recordKey)` was stored.
    public var duplicatePositions: [Int]

    public init(stored: Int, duplicatePositions: [Int]) {
        self.stored = stored
        self.duplicatePositions = duplicatePositions
    }
}
