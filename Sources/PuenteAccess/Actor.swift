import PuenteCore

/// Who acts through a front door: an account over HTTP, an anonymous visitor, or the operator of a
/// command. Every use case takes one, so policy and the audit trail see the same person whichever
/// door they came through.
public struct Actor: Sendable {
    /// For the audit trail: a username, `anonymous`, or `cli:<os user>`.
    public var name: String
    /// Nil for anonymous visitors.
    public var role: Role?
    /// The country an account is limited to, if any.
    public var country: String?
    /// The client's address, when the request came over HTTP.
    public var address: String?
    /// The office or partner organisation the account belongs to: what cases and referrals it sees.
    public var organisation: String?

    public init(
        name: String, role: Role?, country: String? = nil, address: String? = nil, organisation: String? = nil
    ) {
        self.name = name
        self.role = role
        self.country = country
        self.address = address
        self.organisation = organisation
    }

    /// The account behind a request, or an anonymous visitor.
    public static func account(_ identity: Identity?, address: String?) -> Actor {
        guard let identity else { return Actor(name: "anonymous", role: nil, address: address) }
        return Actor(
            name: identity.user.username, role: identity.role, country: identity.user.country, address: address,
            organisation: identity.user.organisation)
    }

    /// Whoever runs a command on the node: they hold the store and its keys, so they act as an
    /// administrator, and are audited as `cli:<os user>` like any account.
    public static func commandOperator(_ name: String) -> Actor { Actor(name: name, role: .admin) }

    /// The node itself doing scheduled work (`system:retention`), audited under that name.
    public static func system(_ process: String) -> Actor { Actor(name: "system:\(process)", role: .admin) }

    public func holds(_ permission: Permission) -> Bool { role?.holds(permission) == true }
}
