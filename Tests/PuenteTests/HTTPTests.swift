import Foundation
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteHTTP
import PuenteTesting
import Testing

@Suite("HTTP API")
struct HTTPTests {
    private func loadedStore() async throws -> any PuenteStore {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let id = try await store.startImport(
            ImportRequest(profile: "t", agency: "TEST", file: "t.csv", contentHash: "x"))
        let events =
            (0..<20).map { Fixtures.event(key: "m\($0)", date: "2016-0\($0 % 3 + 1)-10", sex: .male) }
            + (0..<2).map { Fixtures.event(key: "f\($0)", sex: .female) }
        _ = try await store.appendCounted(events, to: id)
        try await store.finishImport(id, counts: ImportCounts(read: 22, accepted: 22))
        return store
    }

    @Test("Every route is described in /openapi.json, and every described path is routed")
    func openAPIMatchesRoutes() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let router = PuenteServer.router(store: store, configuration: .init(publicStatistics: true))
        let routed = Set(
            router.routes.map { route -> String in
                // Hummingbird writes parameters as {id} or :id; OpenAPI as {id}.
                "\(route.method.rawValue.lowercased()) "
                    + route.path.description.split(separator: "/").map { part in
                        part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
                    }.reduce("") { $0 + "/" + $1 }
            }.map { $0.hasSuffix(" ") ? $0 + "/" : $0 })
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                let doc =
                    try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as! [String: Any]
                #expect(doc["openapi"] as? String == "3.1.0")
                let paths = doc["paths"] as! [String: [String: Any]]
                let described = Set(paths.flatMap { path, ops in ops.keys.map { "\($0) \(path)" } })
                #expect(
                    routed == described,
                    "routed but not described: \(routed.subtracting(described)); described but not routed: \(described.subtracting(routed))"
                )
                // Any request may carry a revoked token or come too fast: every operation says so.
                for (path, operations) in paths {
                    for (method, operation) in operations {
                        let responses = Set(((operation as? [String: Any])?["responses"] as? [String: Any] ?? [:]).keys)
                        #expect(
                            responses.isSuperset(of: ["401", "429"]),
                            "\(method) \(path) documents \(responses.sorted())")
                    }
                }
                // Links (which let a client, and schemathesis's stateful phase, go from a created resource to
                // what acts on it) name operations that exist, by their path parameters.
                var pathParameters: [String: Set<String>] = [:]
                for (path, operations) in paths {
                    for case let operation as [String: Any] in operations.values {
                        guard let id = operation["operationId"] as? String else { continue }
                        pathParameters[id] = Set(
                            path.split(separator: "{").dropFirst().map { String($0.prefix { $0 != "}" }) })
                    }
                }
                var links = 0
                for case let operation as [String: Any] in paths.values.flatMap(\.values) {
                    for case let response as [String: Any] in (operation["responses"] as? [String: Any] ?? [:]).values {
                        for case let link as [String: Any] in (response["links"] as? [String: Any] ?? [:]).values {
                            links += 1
                            let target = link["operationId"] as? String ?? ""
                            let parameters = Set((link["parameters"] as? [String: Any] ?? [:]).keys)
                            #expect(pathParameters[target] == parameters, "link to \(target) sets \(parameters)")
                        }
                    }
                }
                #expect(links >= 20)
            }
        }
        try await store.close()
    }

    @Test(
        "A failure the server did not expect answers 500 with a reference to its log line, and no detail of the error")
    func unexpectedFailure() async throws {
        let (store, location) = try await StoreKind.sqliteFile.makeStoreWithLocation()
        let access = AccessService(store: store)
        try await access.createUser(
            username: "officer", role: .dataOfficer, password: nil, by: .commandOperator("test"))
        let token = try await access.createToken(
            username: "officer", label: "test", days: 1, by: .commandOperator("test")
        ).1
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/imports", method: .get, headers: [.authorization: "Bearer \(token)"])
            { #expect($0.status == .ok) }
            // A table gone behind the server's back: the database library's own error, which quotes the SQL.
            try await StoreKind.executeBehindTheStore(
                ["DROP TABLE rejected_row", "ALTER TABLE import_batch RENAME TO import_batch_gone"], at: location)
            try await client.execute(uri: "/api/v1/imports", method: .get, headers: [.authorization: "Bearer \(token)"])
            { response in
                #expect(response.status == .internalServerError)
                let body = String(buffer: response.body)
                #expect(body.range(of: "reference [0-9a-f]{12}", options: .regularExpression) != nil, "\(body)")
                #expect(!body.contains("import_batch") && !body.contains("SELECT"))
            }
        }
        try await store.close()
    }

    @Test("A known address asked with a method it does not take answers 405 naming those it takes; HEAD is GET's")
    func methodNotAllowed() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            for (method, uri, allow) in [
                (HTTPRequest.Method.trace, "/health", "GET, HEAD"), (.delete, "/api/v1/stats", "GET, HEAD"),
                (.put, "/api/v1/cases/12", "GET, HEAD"), (.get, "/api/v1/referrals/3/status", "POST"),
                (.options, "/login", "GET, HEAD, POST"), (.patch, "/cases/7", "GET, HEAD, POST"),
            ] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                    #expect(String(buffer: response.body).contains("method_not_allowed"))
                }
            }
            // Unknown addresses are still 404, and HEAD answers as GET without a body.
            try await client.execute(uri: "/api/v1/nothing", method: .delete) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v1/cases/1/nothing", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/health", method: .head) { response in
                #expect(response.status == .ok && response.body.readableBytes == 0)
            }
            // HEAD follows GET's rule: a protected page is not open to it.
            try await client.execute(uri: "/api/v1/imports", method: .head) { #expect($0.status == .unauthorized) }
        }
        try await store.close()
    }

    @Test("Health, statistics with suppression, bad queries and code lists")
    func endpoints() async throws {
        let store = try await loadedStore()
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/ready", method: .get) { #expect($0.status == .ok) }
            // Suppression publishes exact values with gaps, which a second query fills: not for anonymous callers.
            try await client.execute(
                uri: "/api/v1/stats?measure=returns&by=sex&protection=suppression&purpose=bulletin", method: .get
            ) { response in
                #expect(response.status == .unauthorized)
            }
            // For an entitled role, with a purpose: the small cell is suppressed, and its complement too, as
            // the total is published.
            let access = AccessService(store: store)
            try await access.createUser(
                username: "stat", role: .statistician, password: nil, by: .commandOperator("test"))
            let statToken = try await access.createToken(
                username: "stat", label: "test", days: 1, by: .commandOperator("test")
            ).1
            try await client.execute(
                uri: "/api/v1/stats?measure=returns&by=sex&protection=suppression", method: .get,
                headers: [.authorization: "Bearer \(statToken)"]
            ) { response in
                #expect(response.status == .badRequest)  // no purpose given
            }
            try await client.execute(
                uri: "/api/v1/stats?measure=returns&by=sex&protection=suppression&purpose=bulletin", method: .get,
                headers: [.authorization: "Bearer \(statToken)"]
            ) { response in
                #expect(response.status == .ok)
                let table = try JSONDecoder().decode(
                    StatisticsTableView.self, from: Data(String(buffer: response.body).utf8))
                #expect(table.total.value == 22)
                let male = table.cells.first { $0.key == ["M"] }
                #expect(male?.value == nil && male?.obsStatus == "Q" && male?.confStatus == "D")
                let female = table.cells.first { $0.key == ["F"] }
                #expect(female?.value == nil && female?.obsStatus == "Q" && female?.confStatus == "A")
            }
            // Ad-hoc queries: the cell key method, flagged, within the published noise, the same every time.
            var first = ""
            for _ in 0..<2 {
                try await client.execute(uri: "/api/v1/stats?measure=returns&by=sex", method: .get) { response in
                    let body = String(buffer: response.body)
                    let table = try JSONDecoder().decode(StatisticsTableView.self, from: Data(body.utf8))
                    let male = try #require(table.cells.first { $0.key == ["M"] })
                    #expect(male.obsStatus == "E" && abs((male.value ?? 0) - 20) <= 5)
                    #expect(first.isEmpty || first == body)
                    first = body
                }
            }
            try await client.execute(uri: "/api/v1/stats?measure=returns&by=sex&protection=none", method: .get) {
                response in
                #expect(response.status == .unauthorized)  // exact figures need an entitled login
            }
            try await client.execute(uri: "/api/v1/stats?measure=returns&by=month&format=csv", method: .get) {
                response in
                #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                #expect(
                    String(buffer: response.body).hasPrefix(
                        "month,value,obs_status,conf_status,change_previous_pct,change_year_ago_pct\n"))
            }
            try await client.execute(
                uri: "/api/v1/stats?measure=returns_per_1000&by=department&population=census", method: .get
            ) { response in
                let table = try JSONDecoder().decode(
                    StatisticsTableView.self, from: Data(String(buffer: response.body).utf8))
                #expect(response.status == .ok && table.cells.allSatisfy { $0.populationBasis == "census" })
            }
            try await client.execute(
                uri: "/api/v1/stats?measure=returns_per_1000&by=department&population=guessed", method: .get
            ) { response in
                #expect(response.status == .badRequest && String(buffer: response.body).contains("census"))
            }
            try await client.execute(uri: "/api/v1/stats?measure=deaths", method: .get) { response in
                #expect(response.status == .badRequest)
                let body = String(buffer: response.body)
                #expect(body.contains("unknown_measure") && body.contains("returns"))
            }
            try await client.execute(uri: "/api/v1/stats?measure=returns&filter=department:SV-XX", method: .get) {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("SV-SS"))
            }
            try await client.execute(uri: "/api/v1/stats?measure=returns&filter=municipality:SV-9999", method: .get) {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("/api/v1/codelists"))
            }
            try await client.execute(uri: "/api/v1/codelists/CL_SLV_MUNICIPALITY_2024", method: .get) { response in
                #expect(response.status == .ok)
                let list = try JSONDecoder().decode(CodeList.self, from: Data(String(buffer: response.body).utf8))
                #expect(list.codes.count == 44)
                #expect(list.validFrom == CivilDate(year: 2024, month: 5, day: 1))
            }
            try await client.execute(uri: "/api/v1/codelists/NOPE", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v1/imports", method: .get) { #expect($0.status == .unauthorized) }
            try await access.createUser(
                username: "officer", role: .dataOfficer, password: nil, by: .commandOperator("test"))
            let token = try await access.createToken(
                username: "officer", label: "test", days: 1, by: .commandOperator("test")
            ).1
            try await client.execute(uri: "/api/v1/imports", method: .get, headers: [.authorization: "Bearer \(token)"])
            { response in
                #expect(String(buffer: response.body).contains("\"accepted\":22"))
            }
            var published = ""
            try await client.execute(uri: "/api/v1/stats?measure=returns", method: .get) { response in
                let table = try JSONDecoder().decode(
                    StatisticsTableView.self, from: Data(String(buffer: response.body).utf8))
                published = String(Int(try #require(table.total.value)))
            }
            try await client.execute(uri: "/?lang=en", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("<b>\(published)</b>"))  // the page shows what the API publishes
                #expect(html.contains("<svg") && html.contains("<title"))
                #expect(!html.contains("Pérez") && !html.contains("01234567-8"))  // no personal data on the page
                #expect(response.body.readableBytes < 300_000)
            }
        }
        try await store.close()
    }
}

/// The JSON shape clients read, decoded independently of the server's types.
struct StatisticsTableView: Decodable {
    struct Cell: Decodable {
        var key: [String]; var value: Double?; var obsStatus: String; var confStatus: String;
        var populationBasis: String?
    }
    var cells: [Cell]
    var total: Cell
}
