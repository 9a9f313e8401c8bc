/// Where a stored event came from: enough to find the original row again.
public struct SourceReference: Hashable, Codable, Sendable {
    /// Agency that produced the export, e.g. `SV-DGME`.
    public var agency: String
    /// Import batch that stored the event (set by the store).
    public var importID: Int64
    /// File name as given to `puente ingest`, without directories.
    public var file: String
    /// 1-based data row in the file (the header is row 0).
    public var row: Int
    /// Key of the record in the agency's own system, or a content hash when the export has none.
    /// Unique per agency: importing the same record twice stores it once.
    public var recordKey: String

    public init(agency: String, importID: Int64 = 0, file: String, row: Int, recordKey: String) {
        self.agency = agency
        self.importID = importID
        self.file = file
        self.row = row
        self.recordKey = recordKey
    }
}

/// The person as recorded at one event. Registers disagree about the same person; linkage reconciles them.
public struct PersonAttributes: Hashable, Codable, Sendable {
    public var givenNames: String?
    public var surnames: String?
    public var sex: Sex
    public var birthDate: CivilDate?
    /// Age in completed years at the event: recorded, or derived from `birthDate`.
    public var age: Int?
    /// ISO 3166-1 alpha-3.
    public var nationality: String?
    public var birthCountry: String?
    public var residenceCountry: String?
    /// Division of residence or destination as a code of the country's division list, e.g. `SLV:0614`.
    public var residenceDivision: String?
    public var documentType: DocumentType?
    public var documentNumber: String?
    public var migrationStatus: MigrationStatus?

    public init(
        givenNames: String? = nil, surnames: String? = nil, sex: Sex = .unknown, birthDate: CivilDate? = nil,
        age: Int? = nil, nationality: String? = nil, birthCountry: String? = nil,
        residenceCountry: String? = nil, residenceDivision: String? = nil, documentType: DocumentType? = nil,
        documentNumber: String? = nil, migrationStatus: MigrationStatus? = nil
    ) {
        self.givenNames = givenNames
        self.surnames = surnames
        self.sex = sex
        self.birthDate = birthDate
        self.age = age
        self.nationality = nationality
        self.birthCountry = birthCountry
        self.residenceCountry = residenceCountry
        self.residenceDivision = residenceDivision
        self.documentType = documentType
        self.documentNumber = documentNumber
        self.migrationStatus = migrationStatus
    }
}

/// What only a return carries.
public struct ReturnDetails: Hashable, Codable, Sendable {
    /// ISO 3166-1 alpha-3 of the country the person was returned from.
    public var returningFrom: String?
    public var returnType: ReturnType?
    public var childStatus: ChildStatus?
    /// Time spent abroad in days, when the register records it.
    public var daysAbroad: Int?

    public init(
        returningFrom: String? = nil, returnType: ReturnType? = nil, childStatus: ChildStatus? = nil,
        daysAbroad: Int? = nil
    ) {
        self.returningFrom = returningFrom
        self.returnType = returnType
        self.childStatus = childStatus
        self.daysAbroad = daysAbroad
    }
}

/// One harmonised movement event: an entry, an exit, a return or a residence permit.
public struct MovementEvent: Hashable, Codable, Sendable {
    /// Store-assigned id; 0 until stored. Stable once stored.
    public var id: Int64
    public var source: SourceReference
    public var type: EventType
    public var date: CivilDate
    /// ISO 3166-1 alpha-3 of the country whose authority recorded the event.
    public var reportingCountry: String
    /// Code of the border crossing point, airport or reception centre (`PlaceCatalogue`).
    public var place: String?
    public var transportMode: TransportMode?
    public var person: PersonAttributes
    public var returnDetails: ReturnDetails?
    /// A permanent random key (0…255) for the cell key method of disclosure control, given when the
    /// event is first stored. Kept in the store, never published: only noise derived from sums of
    /// keys is.
    public var cellKey: UInt8 = 0

    public init(
        id: Int64 = 0, source: SourceReference, type: EventType, date: CivilDate, reportingCountry: String,
        place: String? = nil, transportMode: TransportMode? = nil, person: PersonAttributes,
        returnDetails: ReturnDetails? = nil
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.date = date
        self.reportingCountry = reportingCountry
        self.place = place
        self.transportMode = transportMode
        self.person = person
        self.returnDetails = returnDetails
    }
}
