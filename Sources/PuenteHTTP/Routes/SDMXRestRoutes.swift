import Foundation
import Hummingbird
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

    static func add(
        to router: Router<PuenteContext>, statistics: StatisticsService, store: any PuenteStore, hub: Bool,
        reference: ReferenceData
    ) {
        let flow = SDMXFlow(reference: reference)
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
            return Responses.text(flow.structureMessage(), type: structure)
        }
        @Sendable func data(_ request: Request, _ context: PuenteContext) async throws -> Response {
            guard
                [
                    SDMXFlow.flowID, "\(SDMXFlow.agency),\(SDMXFlow.flowID)", SDMXFlow.flowReference,
                    "\(SDMXFlow.agency),\(SDMXFlow.flowID),\(SDMXFlow.version)",
                ].contains(try context.parameters.require("flow"))
            else { throw PuenteError(.notFound, "The dataflow here is \(SDMXFlow.flowID).") }
            let key = try SDMXRest.parseKey(context.parameters.get("key"))
            let q = request.uri.queryParameters
            let start = q.get("startPeriod"), end = q.get("endPeriod")
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
}
