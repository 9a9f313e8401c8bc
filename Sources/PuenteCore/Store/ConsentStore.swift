/// Consent records. Implemented by both stores; each method is one transaction.
public protocol ConsentStore: Sendable {
    /// Stores a consent and returns it with its id; `conflict` when the subject already has a consent
    /// in force for that purpose (withdraw it first: one decision per person and purpose at a time).
    func recordConsent(_ consent: ConsentRecord) async throws -> ConsentRecord
    /// Marks a consent withdrawn; `notFound` for an unknown id, `conflict` when it was withdrawn already.
    func withdrawConsent(id: Int64, on date: CivilDate, by actor: String) async throws -> ConsentRecord
    func consent(id: Int64) async throws -> ConsentRecord?
    /// A subject's consents, oldest first, withdrawn ones included.
    func consents(of subject: ConsentSubject) async throws -> [ConsentRecord]
    /// Subjects whose consent to `purpose` was withdrawn and not given again since: processing for
    /// that purpose must skip them.
    func withdrawnSubjects(purpose: ConsentPurpose) async throws -> Set<ConsentSubject>
}
