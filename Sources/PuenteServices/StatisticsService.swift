import PuenteAccess
import PuenteCore
import PuenteReference
import PuenteStatistics

/// Publishing statistics, for the API, the command line and (through its engine) the dashboard: who may
/// have exact figures, the purpose they must give, the own-country limit, and the audit entry of every
/// exact figure and every file that leaves the node.
public struct StatisticsService: Sendable {
    public let engine: StatisticsEngine
    /// The node's protection, used when a request names none.
    public let disclosure: DisclosurePolicy
    let audit: AuditLog
    let flow: SDMXFlow
    /// JSON and CSV bodies already rendered (`RenderedBodies`).
    let rendered = RenderedBodies()

    public init(store: any PuenteStore, disclosure: DisclosurePolicy = .standard, reference: ReferenceData = .shared) {
        engine = StatisticsEngine(store: store, reference: reference)
        self.disclosure = disclosure
        audit = AuditLog(store: store)
        flow = SDMXFlow(reference: reference)
    }

    public struct Request: Sendable {
        public var query: StatisticsQuery
        /// Nil: the node's protection.
        public var protection: DisclosurePolicy.Method?
        /// Why exact figures are asked for; required for them.
        public var purpose: String?
        /// Nil: a table for a terminal, which leaves nothing behind.
        public var format: StatisticsFormat?

        public init(
            query: StatisticsQuery, protection: DisclosurePolicy.Method? = nil, purpose: String? = nil,
            format: StatisticsFormat? = nil
        ) {
            self.query = query
            self.protection = protection
            self.purpose = purpose
            self.format = format
        }
    }

    /// A published table and, when a format was asked for, its rendering.
    public struct Publication: Sendable {
        public var table: StatisticsTable
        public var body: String?
        public var policy: DisclosurePolicy
    }

    /// Runs the query under the protection the actor may have, renders it, and records an export when it
    /// is a file or holds exact figures.
    public func publish(_ request: Request, by actor: Actor) async throws -> Publication {
        var query = request.query
        let policy = try policy(request.protection, for: actor)
        if policy.method != .cellKey {
            guard let purpose = request.purpose, (3...200).contains(purpose.count) else {
                throw PuenteError(.invalidArgument, "Exact figures need a purpose (3 to 200 characters) saying why.")
            }
            // A statistician's exact figures are those of their own country.
            if let country = actor.country {
                // Mirror coverage sets the partners' own reports beside ours: not this country's data.
                guard query.measure != .mirrorCoverage else {
                    throw PuenteError(
                        .forbidden,
                        "mirror_coverage compares with partners' records, which are not limited to your country: ask with protection=ckm."
                    )
                }
                if let asked = query.filters[.reportingCountry], asked != [country] {
                    throw PuenteError(.forbidden, "Exact figures are limited to your country's data.")
                }
                query.filters[.reportingCountry] = [country]
            }
        }
        let table = try await engine.run(query, policy: policy)
        let body = try request.format.map { format in
            try rendered.body(of: table, for: query, policy: policy, as: format) {
                try $0.rendered(as: format, flow: flow)
            }
        }
        // Files leaving the node, and every exact figure, are exports in the audit trail.
        if (request.format ?? .json) != .json || policy.method != .cellKey {
            let target =
                "stats measure=\(query.measure.rawValue) by=\(query.by.map(\.rawValue).joined(separator: ",")) "
                + "format=\(request.format?.rawValue ?? "table") protection=\(policy.method.rawValue)"
            try await audit.record(
                .init(
                    actor: actor.name, action: "export", target: target, purpose: request.purpose,
                    address: actor.address))
        }
        return Publication(table: table, body: body, policy: policy)
    }

    /// The protection a request gets. Anything but the cell key method publishes exact values
    /// (suppression only leaves gaps, which a second query with another filter fills by subtraction), so
    /// it needs a role entitled to exact figures.
    func policy(_ requested: DisclosurePolicy.Method?, for actor: Actor) throws -> DisclosurePolicy {
        guard let requested else { return disclosure }
        if requested != .cellKey, !actor.holds(.exactStatistics) {
            throw PuenteError(
                actor.role == nil ? .unauthenticated : .forbidden,
                "Exact figures, with or without suppressed cells, are only for roles entitled to them; ask with protection=ckm."
            )
        }
        var policy = disclosure
        policy.method = requested
        return policy
    }
}
