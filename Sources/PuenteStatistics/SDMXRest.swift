import Foundation
import PuenteCore
import PuenteReference

/// SDMX REST 2.1 data queries on `PUENTE:DF_MIG_FLOW(1.0)`: the series key of a query, the observations
/// that answer it, and the SDMX-ML 2.1 generic data message that carries them (which any SDMX client
/// reads without the structure).
public enum SDMXRest {
    /// One observation in DSD terms.
    public struct Observation: Sendable {
        public var key: [String]
        public var period: String
        public var value: Double?
        public var obsStatus: String
        public var confStatus: String
        /// Other attributes of the flow, by id (e.g. the programme flow's `UNIT_MEASURE`).
        public var attributes: [(id: String, value: String)]

        public init(
            key: [String], period: String, value: Double?, obsStatus: String, confStatus: String,
            attributes: [(id: String, value: String)] = []
        ) {
            self.key = key
            self.period = period
            self.value = value
            self.obsStatus = obsStatus
            self.confStatus = confStatus
            self.attributes = attributes
        }
    }

    /// A key as SDMX REST writes it: one part per DSD dimension, separated by `.`, each empty (any code)
    /// or codes joined by `+`; `all` for every series. Nil in the result means any code.
    public static func parseKey(_ text: String?, dimensionIDs ids: [String] = SDMXFlow.dimensionIDs) throws
        -> [Set<String>?]
    {
        guard let text, !text.isEmpty, text != "all" else { return Array(repeating: nil, count: ids.count) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == ids.count else {
            throw PuenteError(
                .invalidArgument,
                "key: expected \(ids.count) parts separated by '.', in the order " + ids.joined(separator: ".")
                    + " (an empty part matches any code; join codes with '+').")
        }
        return parts.map { $0.isEmpty ? nil : Set($0.split(separator: "+").map(String.init)) }
    }

    /// Whether a time period falls within `start` and `end` (SDMX periods: `2016`, `2016-Q1`, `2016-03`).
    public static func within(_ period: String, start: String?, end: String?) -> Bool {
        let year = period.prefix(4)
        if let start, year < start.prefix(4) { return false }
        if let end, year > end.prefix(4) { return false }
        return true
    }

    /// The generic data message: series grouped by key, observations at TIME_PERIOD. `deleted`
    /// observations go in a second data set with `action="Delete"`.
    public static func genericData(
        _ observations: [Observation], deleted: [Observation] = [], dsdID: String = SDMXFlow.dsdID,
        dimensionIDs ids: [String] = SDMXFlow.dimensionIDs, prepared: Date = Date()
    ) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        let structure = "PUENTE_\(dsdID)_1_0"
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<message:GenericData xmlns:message=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message\" "
        x += "xmlns:generic=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic\" "
        x += "xmlns:common=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common\">\n"
        x += "<message:Header><message:ID>PUENTE_DATA_\(Int(prepared.timeIntervalSince1970))</message:ID>"
        x += "<message:Test>false</message:Test><message:Prepared>\(ISO8601DateFormatter().string(from: prepared))"
        x += "</message:Prepared><message:Sender id=\"\(SDMXFlow.agency)\"/>"
        x += "<message:Structure structureID=\"\(structure)\" dimensionAtObservation=\"TIME_PERIOD\">"
        x +=
            "<common:Structure><Ref agencyID=\"\(SDMXFlow.agency)\" id=\"\(dsdID)\" version=\"\(SDMXFlow.version)\"/>"
        x += "</common:Structure></message:Structure></message:Header>\n"
        for (action, set) in [("Information", observations), ("Delete", deleted)]
        where action == "Information" || !set.isEmpty {
            x += "<message:DataSet structureRef=\"\(structure)\" action=\"\(action)\">\n"
            var series: [[String]: [Observation]] = [:]
            for o in set { series[o.key, default: []].append(o) }
            for key in series.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                x += "<generic:Series><generic:SeriesKey>"
                for (id, code) in zip(ids, key) { x += "<generic:Value id=\"\(id)\" value=\"\(esc(code))\"/>" }
                x += "</generic:SeriesKey>"
                for o in series[key]!.sorted(by: { $0.period < $1.period }) {
                    x += "<generic:Obs><generic:ObsDimension value=\"\(esc(o.period))\"/>"
                    x += "<generic:ObsValue value=\"\(o.value.map { StatisticsTable.format($0) } ?? "NaN")\"/>"
                    x += "<generic:Attributes><generic:Value id=\"OBS_STATUS\" value=\"\(esc(o.obsStatus))\"/>"
                    x += "<generic:Value id=\"CONF_STATUS\" value=\"\(esc(o.confStatus))\"/>"
                    for (id, value) in o.attributes { x += "<generic:Value id=\"\(id)\" value=\"\(esc(value))\"/>" }
                    x += "</generic:Attributes>"
                    x += "</generic:Obs>"
                }
                x += "</generic:Series>\n"
            }
            x += "</message:DataSet>\n"
        }
        return x + "</message:GenericData>\n"
    }
}

extension StatisticsEngine {
    /// A node's answer to an SDMX data query, from its own statistics: each dimension the key leaves open
    /// is broken down by its usual grouping (age in five-year groups, territory by department) and shown
    /// at its total too; a dimension given codes is broken down and filtered to them (`_T` alone: the
    /// total). Every cell is protected by `policy`, exactly as the API's.
    public func sdmxData(
        key: [Set<String>?], start: String?, end: String?, policy: DisclosurePolicy, reference: ReferenceData,
        maxOpen: Int = 4
    ) async throws -> [SDMXRest.Observation] {
        let ids = SDMXFlow.dimensionIDs
        let index = { (id: String) in ids.firstIndex(of: id)! }
        let usual: [String: Dimension] = [
            "REF_AREA": .reportingCountry, "SEX": .sex, "AGE": .ageGroup, "CITIZENSHIP": .nationality,
            "COUNTRY_BIRTH": .birthCountry, "COUNTERPART_AREA": .returningFrom, "RETURN_TYPE": .returnType,
            "CHILD_STATUS": .childStatus, "TERRITORY": .department, "PLACE": .place, "TRANSPORT_MODE": .transportMode,
            "MIGRATION_STATUS": .migrationStatus,
        ]
        let measures: [Measure] = try (key[index("MIG_FLOW")] ?? ["RETURN", "ENTRY", "EXIT"]).map { code in
            guard let m = SDMXFlow.movementCodes.first(where: { $0.value == code })?.key else {
                throw PuenteError(.unknownCode, "MIG_FLOW: expected RETURN, ENTRY, EXIT, NET or _T.")
            }
            return m
        }
        let periods: [Dimension] = try (key[index("FREQ")] ?? ["A"]).map { code in
            guard let d = ["A": Dimension.year, "Q": .quarter, "M": .month][code] else {
                throw PuenteError(.unknownCode, "FREQ: expected A, Q or M.")
            }
            return d
        }
        // Per DSD dimension: the statistics dimensions that may show it (empty: only the total).
        var choices: [[Dimension?]] = []
        var filters: [Dimension: [String]] = [:]
        var open = 0
        for id in ids where id != "FREQ" && id != "MIG_FLOW" {
            guard let dimension = usual[id] else { continue }
            switch key[index(id)] {
            case nil:
                open += 1
                choices.append([nil, dimension])
            case let codes? where codes == ["_T"]:
                choices.append([nil])
            case let codes?:
                // The grouping whose codes these are (a municipality is not a department).
                let shown = SDMXFlow.shownDimensions(of: id)
                guard
                    let d = shown.first(where: { d in
                        let allowed = Set(d.allowedCodes(reference: reference) ?? [])
                        return codes.subtracting(["_T"]).isSubset(of: allowed)
                    })
                else {
                    throw PuenteError(.unknownCode, "\(id): a code outside its code list.")
                }
                filters[d] = Array(codes.subtracting(["_T"]))
                choices.append(codes.contains("_T") ? [nil, d] : [d])
            }
        }
        guard open <= maxOpen else {
            throw PuenteError(
                .invalidArgument,
                "key: at most \(maxOpen) dimensions may be left open (each is shown by its codes and its total); give the others a code or _T."
            )
        }
        var combinations: [[Dimension]] = [[]]
        for options in choices {
            combinations = combinations.flatMap { partial in options.map { $0.map { partial + [$0] } ?? partial } }
        }
        var out: [SDMXRest.Observation] = []
        var seen = Set<String>()
        let flow = SDMXFlow(reference: reference)
        for measure in measures {
            for period in periods {
                for by in combinations {
                    // A dimension filtered but not broken down is the total of those codes: not a DSD code.
                    let query = StatisticsQuery(
                        measure: measure, by: by + [period], filters: filters.filter { by.contains($0.key) })
                    let table = try await run(query, policy: policy)
                    for o in try flow.observations(of: table).observations
                    where SDMXRest.within(o.period, start: start, end: end) {
                        guard seen.insert(o.key.joined(separator: ".") + " " + o.period).inserted else { continue }
                        out.append(
                            SDMXRest.Observation(
                                key: o.key, period: o.period, value: o.cell.value, obsStatus: o.cell.obsStatus,
                                confStatus: o.cell.confStatus))
                    }
                }
            }
        }
        return out
    }
}
