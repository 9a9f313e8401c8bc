/// Encrypts personal fields before they reach a database and decrypts them when read back, so the
/// files and dumps of a node hold no names, documents or birth dates in clear (IOM principle 8).
///
/// Stores call it for an event's personal fields, sealed together (`EventColumns.sealedColumn`), and
/// for the values of rows in quarantine; the implementation (authenticated encryption with keys kept outside the database) lives
/// in `PuenteAccess`. `field` is bound to the ciphertext, so a value moved to another column fails to open.
public protocol PersonalDataCipher: Sendable {
    func seal(_ clear: String, field: String) -> String
    /// Seals many values, each with its own associated data (`field`), in order.
    func seal(_ values: [(clear: String, field: String)]) -> [String]
    /// Throws when the key is unknown or the value was altered; clear values stored before encryption
    /// was introduced are returned as they are.
    func open(_ stored: String, field: String) throws -> String
    /// Whether a stored value should be sealed again: clear, or sealed under a key no longer active.
    func needsResealing(_ stored: String) -> Bool
    /// The cell key (0…255) of a record for the cell key method: a keyed hash of its identity, so the
    /// same record gets the same key whenever it is imported again (a rollback and a re-import draw the
    /// same noise for every published cell), and nobody without the node's keys can compute it.
    func cellKey(agency: String, recordKey: String) -> UInt8
    /// The cell keys of `events`' records, in order: what `cellKey` gives each, for a whole batch.
    func cellKeys(_ events: [MovementEvent]) -> [UInt8]
}

extension PersonalDataCipher {
    /// One by one, for ciphers with nothing faster.
    public func seal(_ values: [(clear: String, field: String)]) -> [String] {
        values.map { seal($0.clear, field: $0.field) }
    }

    public func open(_ stored: String?, field: String) throws -> String? {
        try stored.map { try open($0, field: field) }
    }

    /// A quarantined row's values, each sealed (column names stay readable: they are the export's layout).
    public func seal(values: [String: String]) -> [String: String] {
        values.mapValues { seal($0, field: "rejected_row") }
    }

    public func open(values: [String: String]) throws -> [String: String] {
        try values.mapValues { try open($0, field: "rejected_row") }
    }
}
