import Foundation
import Hummingbird
import PuenteCore
import PuenteReference
import PuenteServices
import PuenteStatistics

/// The region's statistics at a node that receives packages (a hub): what member countries sent,
/// added up across countries, and what each has sent.
enum RegionalRoutes {
    struct CountryCoverage: Codable, Sendable {
        var country: String
        var population: Double?
        var populationReference: String?
        var packages: [RegionalStatistics.Coverage]
    }

    static func add(
        to router: Router<PuenteContext>, regional: RegionalStatistics?, mirror: MirrorStatistics?,
        reference: ReferenceData
    ) {
        @Sendable func service() throws -> RegionalStatistics {
            guard let regional else {
                throw PuenteError(.notFound, "This node receives no packages: it has no identity (`puente node init`).")
            }
            return regional
        }
        router.get("/api/v1/regional/stats") { request, _ -> Response in
            let q = request.uri.queryParameters
            let query = try StatisticsQuery.parse(
                measure: q.get("measure") ?? "", by: q.get("by"), filter: q.get("filter"), reference: reference)
            return try Responses.json(
                try await service().table(measure: query.measure, by: query.by, filters: query.filters))
        }
        router.get("/api/v1/regional/mirror") { request, _ -> Response in
            let q = request.uri.queryParameters
            guard let period = q.get("period") else {
                throw PuenteError(.invalidArgument, "Give period, a year or a quarter (2016, 2016-Q1).")
            }
            var flow: MirrorStatistics.Flow?
            if let asked = q.get("flow") {
                guard let known = MirrorStatistics.Flow(rawValue: asked) else {
                    throw PuenteError(.invalidArgument, "flow: expected RETURN or EXIT_ENTRY.")
                }
                flow = known
            }
            var tolerance = log(1.25)
            if let asked = q.get("tolerance") {
                guard let ratio = Double(asked), ratio > 1 else {
                    throw PuenteError(.invalidArgument, "tolerance: expected a ratio above 1, like 1.25.")
                }
                tolerance = log(ratio)
            }
            guard let mirror else { _ = try service(); return Response(status: .notFound) }
            return try Responses.json(try await mirror.pairs(period: period, flow: flow, tolerance: tolerance))
        }
        router.get("/api/v1/regional/coverage") { _, _ -> Response in
            let regional = try service()
            let packages = try await regional.coverage()
            let countries = Set(packages.map(\.country)).sorted().map { country in
                let population = regional.population(of: country)
                return CountryCoverage(
                    country: country, population: population?.population,
                    populationReference: population?.reference, packages: packages.filter { $0.country == country })
            }
            return try Responses.json(countries)
        }
    }
}
