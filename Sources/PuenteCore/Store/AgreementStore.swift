/// A data-sharing agreement this node is party to, as it keeps it: the signed file (canonical JSON,
/// verified before it is kept), who accepted it and when, and its revocation.
public struct StoredAgreement: Hashable, Codable, Sendable {
    public var id: String
    /// The agreement file, terms and both parties' signatures.
    public var document: String
    public var acceptedAt: String
    public var acceptedBy: String
    public var revokedOn: CivilDate?
    public var revokedBy: String?
    public var revocationReason: String?

    public init(
        id: String, document: String, acceptedAt: String, acceptedBy: String, revokedOn: CivilDate? = nil,
        revokedBy: String? = nil, revocationReason: String? = nil
    ) {
        self.id = id
        self.document = document
        self.acceptedAt = acceptedAt
        self.acceptedBy = acceptedBy
        self.revokedOn = revokedOn
        self.revokedBy = revokedBy
        self.revocationReason = revocationReason
    }
}

/// The agreements a node keeps. Implemented by both stores; each method is one transaction.
public protocol AgreementStore: Sendable {
    /// Keeps an agreement; false when the same document is kept already, `conflict` when another
    /// document is kept under that id (agreements are replaced by new ones, never rewritten).
    func saveAgreement(_ agreement: StoredAgreement) async throws -> Bool
    func agreement(id: String) async throws -> StoredAgreement?
    /// Every agreement kept, by id.
    func agreements() async throws -> [StoredAgreement]
    /// Revokes an agreement from `date` on; `notFound` for an unknown id, `conflict` when it was
    /// revoked already.
    func revokeAgreement(id: String, on date: CivilDate, by actor: String, reason: String) async throws
        -> StoredAgreement
}

extension PuenteError {
    public static let agreementKeptWithOtherTerms = PuenteError(
        .conflict, "Another agreement is kept under that id; agreements are replaced by new ones, never rewritten.")
    public static let noSuchAgreement = PuenteError(
        .notFound, "There is no agreement with that id; `puente agreement list` shows them.")
    public static let agreementRevokedAlready = PuenteError(.conflict, "That agreement was revoked already.")
}
