/// Kinds of movement event in the harmonised model. Raw values are the stored codes.
public enum EventType: String, CaseIterable, Codable, Sendable {
    case entry = "ENTRY"
    case exit = "EXIT"
    /// Reception of a national returned from abroad (deported, removed, assisted or spontaneous).
    case `return` = "RETURN"
    case permitIssued = "PERMIT_ISSUED"
    case permitRenewed = "PERMIT_RENEWED"
}

/// Sex as recorded, in SDMX cross-domain codes (`CL_SEX`).
public enum Sex: String, CaseIterable, Codable, Sendable {
    case female = "F"
    case male = "M"
    case unknown = "_U"
}

/// How the person crossed or arrived.
public enum TransportMode: String, CaseIterable, Codable, Sendable {
    case land = "LAND"
    case air = "AIR"
    case sea = "SEA"
}

/// How a national came back. Administrative returns are events, not statistical return migration.
public enum ReturnType: String, CaseIterable, Codable, Sendable {
    /// Deportation or removal by the authorities of the returning-from country.
    case deportation = "DEPORTATION"
    /// Assisted voluntary return (e.g. through IOM).
    case assisted = "ASSISTED"
    /// Spontaneous return registered on arrival.
    case spontaneous = "SPONTANEOUS"
}

/// Whether a returned child travelled with a parent or guardian.
public enum ChildStatus: String, CaseIterable, Codable, Sendable {
    case unaccompanied = "UNACCOMPANIED"
    case accompanied = "ACCOMPANIED"
    /// The person was 18 or older at the event.
    case adult = "ADULT"
}

/// Type of identity document recorded.
public enum DocumentType: String, CaseIterable, Codable, Sendable {
    /// National identity card (El Salvador DUI, Guatemala DPI, Honduras DNI).
    case nationalID = "NATIONAL_ID"
    case passport = "PASSPORT"
    /// Safe-conduct or travel document issued by a consulate for the return.
    case travelDocument = "TRAVEL_DOCUMENT"
    case birthCertificate = "BIRTH_CERTIFICATE"
    case none = "NONE"
}

/// Migration status of the person at the event, as far as the register tells.
public enum MigrationStatus: String, CaseIterable, Codable, Sendable {
    case national = "NATIONAL"
    case resident = "RESIDENT"
    case visitor = "VISITOR"
    case transit = "TRANSIT"
    case irregular = "IRREGULAR"
}
