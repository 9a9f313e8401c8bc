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
        guard v.count == CellColumn.allCases.count, let type = s(0), let agency = s(1), let year = n(2), let month = n(3),
              let reporting = s(4), let sex = s(7) else { return nil }
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
        v.text(residenceDivision); v.text(migrationStatus); v.text(returningFrom); v.text(returnType); v.text(childStatus)
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

/// Counts stored events by cell while an import runs.
public struct CellAccumulator: Sendable {
    public private(set) var cells: [CellKey: CellTally] = [:]

    public init() {}

    public mutating func add(_ event: MovementEvent) {
        cells[CellKey(event), default: CellTally()].add(cellKey: event.cellKey)
    }

    public var count: Int { cells.count }
    public var isEmpty: Bool { cells.isEmpty }

    /// Hands the cells over and starts empty again.
    public mutating func take() -> [(CellKey, CellTally)] {
        defer { cells = [:] }
        return cells.map { ($0.key, $0.value) }
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
