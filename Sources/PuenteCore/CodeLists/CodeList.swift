/// One code of a code list, with names in Spanish and English and an optional parent code.
public struct Code: Hashable, Codable, Sendable {
    public var id: String
    public var name: String
    /// English name where it differs; `nil` when the Spanish name serves both (place names).
    public var nameEN: String?
    public var parent: String?

    public init(id: String, name: String, nameEN: String? = nil, parent: String? = nil) {
        self.id = id
        self.name = name
        self.nameEN = nameEN
        self.parent = parent
    }
}

/// A versioned list of codes, valid over a period, from a named source.
///
/// Code lists are data: a stored code is only meaningful together with the list version it came from,
/// which is why each list carries its validity and its source.
public struct CodeList: Hashable, Codable, Sendable {
    /// Identifier in SDMX style, e.g. `CL_SLV_MUNICIPALITY`.
    public var id: String
    public var agency: String
    public var version: String
    public var name: String
    /// First day the codes apply; `nil` for "since always".
    public var validFrom: CivilDate?
    /// Last day the codes apply; `nil` while in force.
    public var validTo: CivilDate?
    /// Where the codes come from (publication, package and version).
    public var source: String
    public var codes: [Code]

    public init(
        id: String, agency: String = "PUENTE", version: String, name: String, validFrom: CivilDate? = nil,
        validTo: CivilDate? = nil, source: String, codes: [Code]
    ) {
        self.id = id
        self.agency = agency
        self.version = version
        self.name = name
        self.validFrom = validFrom
        self.validTo = validTo
        self.source = source
        self.codes = codes
    }

    /// Whether the list applies on `date`.
    public func isValid(on date: CivilDate) -> Bool {
        if let from = validFrom, date < from { return false }
        if let to = validTo, to < date { return false }
        return true
    }

    public func code(_ id: String) -> Code? { codes.first { $0.id == id } }
}
