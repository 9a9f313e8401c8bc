import Hummingbird
import PuenteAccess
import PuenteCore
import PuenteReference
import PuenteServices
import PuenteStatistics

/// Published statistics and what describes them: measures, dimensions, code lists and the SDMX
/// structure. Figures go through `StatisticsService`, which decides the protection the caller gets.
enum StatisticsRoutes {
    struct CodeListSummary: Codable, Sendable {
        var id, agency, version, name: String
        var validFrom, validTo: String?
        var source: String
        var codes: Int
    }

    static func add(to router: Router<PuenteContext>, statistics: StatisticsService, reference: ReferenceData) {
        let flow = SDMXFlow(reference: reference)

        router.get("/api/v1/stats") { request, context -> Response in
            let q = request.uri.queryParameters
            guard let measure = q.get("measure") else {
                throw PuenteError(
                    .invalidArgument,
                    "Give a measure, e.g. ?measure=returns. Allowed measures: "
                        + Measure.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            var query = try StatisticsQuery.parse(
                measure: measure, by: q.get("by"), filter: q.get("filter"), reference: reference)
            query.population = try q.choice("population", PopulationBasis.self) ?? .any
            let format = try q.choice("format", StatisticsFormat.self) ?? .json
            let publication = try await statistics.publish(
                .init(
                    query: query, protection: try q.choice("protection", DisclosurePolicy.Method.self),
                    purpose: q.get("purpose"),
                    format: format),
                by: .account(context.identity, address: context.address))
            return Responses.text(publication.body ?? "", type: format.mediaType)
        }
        router.get("/api/v1/sdmx/structure") { _, _ -> Response in
            Responses.text(
                flow.structureMessage(), type: "application/vnd.sdmx.structure+xml; version=2.1; charset=utf-8")
        }
        router.get("/api/v1/measures") { _, _ -> Response in
            try Responses.json([
                "measures": Measure.allCases.map(\.rawValue), "dimensions": Dimension.allCases.map(\.rawValue),
            ])
        }
        router.get("/api/v1/codelists") { _, _ -> Response in
            try Responses.json(
                reference.codeLists.values.sorted { $0.id < $1.id }.map {
                    CodeListSummary(
                        id: $0.id, agency: $0.agency, version: $0.version, name: $0.name,
                        validFrom: $0.validFrom?.description, validTo: $0.validTo?.description,
                        source: $0.source, codes: $0.codes.count)
                })
        }
        router.get("/api/v1/codelists/{id}") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let list = reference.codeList(id) else {
                throw PuenteError(.notFound, "There is no code list with that id; GET /api/v1/codelists lists them.")
            }
            return try Responses.json(list)
        }
    }
}
