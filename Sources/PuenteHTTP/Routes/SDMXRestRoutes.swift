import Foundation
import Hummingbird
import PuenteAccess
import PuenteCore
import PuenteReference
import PuenteServices
import PuenteStatistics

/// SDMX REST 2.1 under `/sdmx/`, so an SDMX client (sdmx1, .Stat tools) reads a node or the hub like an
/// official statistics office: structure queries answer the dataflow's structure message (dataflow, code
/// lists, concepts, DSD); data queries answer SDMX-ML 2.1 generic data. A node answers from its own
/// statistics, protected as the API's; a hub from the cells members sent, with `updatedAfter` listing
/// revisions and, in a `Delete` data set, cells a correction removed.
enum SDMXRestRoutes {
    static let structureResources: Set<String> = ["dataflow", "datastructure", "codelist", "conceptscheme"]
    static let genericData = "application/vnd.sdmx.genericdata+xml;version=2.1"
    static let structure = "application/vnd.sdmx.structure+xml;version=2.1"

    /// `programme` publishes the reintegration programme's flow beside the migration flow (a node);
    /// `country` is the node's, for that flow's REF_AREA.
    static func add(
        to router: Router<PuenteContext>, statistics: StatisticsService, store: any PuenteStore, hub: Bool,
        reference: ReferenceData, programme: ProgrammeStatistics? = nil, country: String? = nil
    ) {
        let structures =
            [SDMXFlow(reference: reference).structure]
            + (programme == nil ? [] : [ProgrammeStatistics.sdmxStructure(reference: reference)])
        router.get("/sdmx/{resource}/{agency}/{id}/{version}") { _, context -> Response in
            let resource = try context.parameters.require("resource")
            guard structureResources.contains(resource) else {
                throw PuenteError(
                    .notFound, "SDMX structures here: " + structureResources.sorted().joined(separator: ", ") + ".")
            }
            for (name, expected) in [("agency", SDMXFlow.agency), ("version", SDMXFlow.version)] {
                let given = try context.parameters.require(name)
                guard ["all", "latest", expected].contains(given) else {
                    throw PuenteError(.notFound, "\(name): this node publishes \(expected) only.")
                }
            }
            let id = try context.parameters.require("id")
            let answering = structures.filter { $0.answers(id: id) }
            guard !answering.isEmpty else {
                throw PuenteError(
                    .notFound, "The dataflows here are " + structures.map(\.flowID).joined(separator: ", ") + ".")
            }
            return Responses.text(SDMXStructure.message(answering), type: structure)
        }
        @Sendable func data(_ request: Request, _ context: PuenteContext) async throws -> Response {
            let flowID = Self.flowID(try context.parameters.require("flow"))
            let q = request.uri.queryParameters
            let start = q.get("startPeriod"), end = q.get("endPeriod")
            if let programme, flowID == ProgrammeStatistics.sdmxFlowID {
                let observations = try await programme.sdmxData(
                    key: context.parameters.get("key"), start: start, end: end,
                    country: try await nodeCountry(country, statistics),
                    by: .account(context.identity, address: context.address))
                return Responses.text(
                    SDMXRest.genericData(
                        observations, dsdID: ProgrammeStatistics.sdmxDSDID,
                        dimensionIDs: ProgrammeStatistics.sdmxDimensionIDs), type: genericData)
            }
            guard flowID == SDMXFlow.flowID else {
                throw PuenteError(
                    .notFound, "The dataflows here are " + structures.map(\.flowID).joined(separator: ", ") + ".")
            }
            let key = try SDMXRest.parseKey(context.parameters.get("key"))
            if hub {
                var current: [SDMXRest.Observation] = []
                var deleted: [SDMXRest.Observation] = []
                for o in try await store.exchangeObservations(
                    dataflow: SDMXFlow.flowID, updatedAfter: q.get("updatedAfter"))
                {
                    let codes = o.seriesKey.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    guard codes.count == key.count, zip(codes, key).allSatisfy({ $1?.contains($0) ?? true }),
                        SDMXRest.within(o.period, start: start, end: end)
                    else { continue }
                    let observation = SDMXRest.Observation(
                        key: codes, period: o.period, value: o.value, obsStatus: o.obsStatus, confStatus: o.confStatus)
                    if o.deleted { deleted.append(observation) } else { current.append(observation) }
                }
                return Responses.text(SDMXRest.genericData(current, deleted: deleted), type: genericData)
            }
            let observations = try await statistics.engine.sdmxData(
                key: key, start: start, end: end, policy: statistics.disclosure, reference: reference)
            return Responses.text(SDMXRest.genericData(observations), type: genericData)
        }
        router.get("/sdmx/data/{flow}/{key}", use: data)
        router.get("/sdmx/data/{flow}", use: data)
    }

    /// The flow's id in any of the forms SDMX REST writes it: `DF_X`, `PUENTE,DF_X`, `PUENTE,DF_X,1.0`
    /// or `PUENTE:DF_X(1.0)`.
    static func flowID(_ given: String) -> String {
        if let colon = given.firstIndex(of: ":") {
            return String(given[given.index(after: colon)...].prefix { $0 != "(" })
        }
        let parts = given.split(separator: ",", omittingEmptySubsequences: false)
        return String(parts.count >= 2 ? parts[1] : parts[0])
    }

    /// The node's country: its identity's, or the one country its records are registered in.
    static func nodeCountry(_ configured: String?, _ statistics: StatisticsService) async throws -> String {
        if let configured { return configured }
        let table = try await statistics.engine.run(
            StatisticsQuery(measure: .events, by: [.reportingCountry]), policy: DisclosurePolicy(method: .none))
        let countries = Set(table.cells.map { $0.key[0] }).subtracting(["_U"])
        return countries.count == 1 ? countries.first! : "_U"
    }
}
