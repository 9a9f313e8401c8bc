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

    static func add(to router: Router<PuenteContext>, regional: RegionalStatistics?, reference: ReferenceData) {
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
