import Foundation
import PuenteAccess
import PuenteCore
import PuenteExchange
import PuenteStatistics

/// Figures of this node's events followed across borders through the links kept under linkage
/// agreements, protected by the node's disclosure policy like every other table (each event carries its
/// cell key). One mechanism answers the questions registers alone cannot: returns later registered
/// entering another member country (`type` RETURN, `partner_type` ENTRY, `order` partner_after), exits
/// matched by an entry elsewhere within N days (`type` EXIT, `partner_type` ENTRY, `days`), and how many
/// of the events were seen by a partner at all (`linked_share`).
public struct CrossBorderStatistics: Sendable {
    let store: any PuenteStore
    let audit: AuditLog
    public let disclosure: DisclosurePolicy

    public init(store: any PuenteStore, disclosure: DisclosurePolicy = .standard) {
        self.store = store
        audit = AuditLog(store: store)
        self.disclosure = disclosure
    }

    public enum Measure: String, CaseIterable, Codable, Sendable {
        /// Events of this node linked to at least one record of a partner node, described by the nearest
        /// partner event in time.
        case linkedAbroad = "linked_abroad"
        /// Share of the events of the types encoded under linkage agreements that are linked.
        case linkedShare = "linked_share"

        public var dimensions: [String] {
            switch self {
            case .linkedAbroad:
                ["year", "sex", "age_group", "type", "returning_from", "partner", "partner_type", "order", "days"]
            case .linkedShare: ["year", "sex", "age_group", "type", "returning_from"]
            }
        }
    }

    /// Days between an event and the nearest partner event, in bands.
    static func band(_ days: Int) -> String {
        switch days {
        case 0...7: "0-7"
        case 8...30: "8-30"
        case 31...90: "31-90"
        case 91...365: "91-365"
        default: "366+"
        }
    }

    /// A table. `exact` (no protection) is for those entitled to exact figures, with a purpose, audited.
    public func table(
        _ measure: Measure, by: [String], exact: Bool = false, purpose: String? = nil, by actor: Actor
    ) async throws -> UnitStatistics.Table {
        try require(.protectedStatistics, for: actor)
        for d in by where !measure.dimensions.contains(d) {
            throw PuenteError(
                .unknownDimension,
                "by: \(measure.rawValue) is broken down by " + measure.dimensions.joined(separator: ", ") + ".")
        }
        let policy = try await audit.unitPolicy(
            disclosure, exact: exact, purpose: purpose, table: "crossborder:\(measure.rawValue)", by: actor)
        let units = try await Units(store: store)
        switch measure {
        case .linkedAbroad: return UnitStatistics.counts(units.linked, by: by, policy: policy)
        case .linkedShare:
            return UnitStatistics.shares(numerator: units.linkedEvents, denominator: units.all, by: by, policy: policy)
        }
    }

    struct Units {
        /// Every event of a type encoded under a linkage agreement.
        var all: [StatisticalUnit] = []
        /// Those linked, with the share's dimensions only.
        var linkedEvents: [StatisticalUnit] = []
        /// Those linked, described by their nearest partner event.
        var linked: [StatisticalUnit] = []

        init(store: any PuenteStore) async throws {
            var types = Set<EventType>()
            var partnerCountry: [String: String] = [:]
            for kept in try await store.agreements() {
                guard let terms = try? kept.signed().terms, let linkage = terms.linkage else { continue }
                types.formUnion(linkage.events.compactMap(EventType.init(rawValue:)))
                for party in [terms.sender, terms.receiver] { partnerCountry[party.node] = party.country }
            }
            let links = Dictionary(grouping: try await store.crossBorderLinks(), by: \.event)
            for id in try await store.committedImportIDs() {
                try await store.forEachEvent(importID: id) { e in
                    guard types.contains(e.type) else { return }
                    let values = [
                        "year": String(e.date.year), "sex": e.person.sex.rawValue,
                        "age_group": AgeGrouping.fiveYear.code(for: e.person.age), "type": e.type.rawValue,
                        "returning_from": e.returnDetails?.returningFrom ?? "_Z",
                    ]
                    all.append(StatisticalUnit(values: values, cellKey: e.cellKey))
                    guard let mine = links[e.id],
                        let nearest = mine.min(by: {
                            (abs($0.partnerDay.daysSinceEpoch - e.date.daysSinceEpoch), $0.partnerRecord)
                                < (abs($1.partnerDay.daysSinceEpoch - e.date.daysSinceEpoch), $1.partnerRecord)
                        })
                    else { return }
                    linkedEvents.append(StatisticalUnit(values: values, cellKey: e.cellKey))
                    let days = nearest.partnerDay.daysSinceEpoch - e.date.daysSinceEpoch
                    var described = values
                    described["partner"] = partnerCountry[nearest.partner] ?? "_U"
                    described["partner_type"] = nearest.partnerType.rawValue
                    described["order"] = days > 0 ? "partner_after" : days < 0 ? "partner_before" : "same_day"
                    described["days"] = CrossBorderStatistics.band(abs(days))
                    linked.append(StatisticalUnit(values: described, cellKey: e.cellKey))
                }
            }
        }
    }
}
