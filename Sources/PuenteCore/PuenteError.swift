/// Where in an input something went wrong: file, row and field, never the value itself.
public struct InputLocation: Hashable, Codable, Sendable, CustomStringConvertible {
    public var file: String
    public var row: Int?
    public var field: String?

    public init(file: String, row: Int? = nil, field: String? = nil) {
        self.file = file
        self.row = row
        self.field = field
    }

    public var description: String {
        var s = file
        if let row { s += ", row \(row)" }
        if let field { s += ", field \(field)" }
        return s
    }
}

/// Puente's error: a stable `code` for programs and a sentence for people.
///
/// Messages never contain the offending value, because it may be personal data; they say where it is
/// and what was expected instead.
public struct PuenteError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        case invalidArgument = "invalid_argument"
        case unknownMeasure = "unknown_measure"
        case unknownDimension = "unknown_dimension"
        case unknownCode = "unknown_code"
        case notFound = "not_found"
        case invalidInput = "invalid_input"
        case invalidProfile = "invalid_profile"
        case storeUnavailable = "store_unavailable"
        case storeFailure = "store_failure"
        case conflict = "conflict"
        /// The caller's role is not entitled to what it asked for.
        case forbidden = "forbidden"
        /// Nobody is logged in, or the credential is unknown, expired or revoked.
        case unauthenticated = "unauthenticated"
        /// Too many requests from this address or credential.
        case tooManyRequests = "too_many_requests"
        /// A signed document whose signature does not verify: changed, signed by another key or for
        /// another kind of document.
        case signatureInvalid = "signature_invalid"
        // Why a receiver refuses a package (docs/exchange.md): each its own code, for senders' programs.
        /// Not a package file: its frame, manifest or signature line cannot be read as one.
        case packageMalformed = "package_malformed"
        /// A payload part's bytes differ from what the signed manifest says.
        case packageTampered = "package_tampered"
        /// The package is addressed to another node.
        case packageMisaddressed = "package_misaddressed"
        /// The sender is not a member of the exchange, or not the party its agreement names.
        case senderUnknown = "sender_unknown"
        /// The sender, or the key that signed, was revoked.
        case senderRevoked = "sender_revoked"
        /// Signed by a key its owner has since replaced.
        case keyRetired = "key_retired"
        /// No agreement kept here covers it, or its content goes beyond the agreement's terms.
        case outsideAgreement = "outside_agreement"
        /// Its agreement is not in force: not yet, expired or revoked.
        case agreementNotInForce = "agreement_not_in_force"
        /// It pins a code list version (or content) this node does not know.
        case codeListUnknown = "codelist_unknown"
        /// Another package from the same sender and agreement already has its sequence number.
        case sequenceReused = "sequence_reused"
    }

    public var code: Code
    public var message: String
    public var location: InputLocation?

    public init(_ code: Code, _ message: String, at location: InputLocation? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }
}
