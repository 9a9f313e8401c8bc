import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteHTTP
import PuenteTesting
import Testing

@Suite("Access: accounts, roles on every route, audit trail, hardening")
struct AccessTests {
    /// Who may call each route, written independently of the server's policy: a route missing here, or
    /// a rule that differs, fails the matrix test. `nil` role = anonymous.
    static let expected: [String: Set<String>] = {
        let everyone = Set(["anonymous"] + Role.allCases.map(\.rawValue))
        let signedIn = Set(Role.allCases.map(\.rawValue))
        let aggregates: Set<String> = [
            "admin", "statistician", "data_officer", "regional_analyst", "case_worker", "supervisor",
        ]
        let imports: Set<String> = ["admin", "data_officer", "statistician"]
        let consent: Set<String> = ["admin", "data_officer", "case_worker", "supervisor"]
        let cases: Set<String> = ["admin", "case_worker", "supervisor"]
        return [
            "GET /health": everyone, "GET /ready": everyone, "GET /openapi.json": everyone,
            "GET /assets/{file}": everyone,
            "GET /login": everyone, "POST /login": everyone, "POST /logout": signedIn, "GET /api/v1/me": signedIn,
            "GET /": aggregates, "GET /returns": aggregates, "GET /movements": aggregates, "GET /quality": aggregates,
            "GET /api/v1/stats": aggregates,
            "GET /imports": imports, "GET /api/v1/imports": imports, "GET /api/v1/imports/rejections": imports,
            "GET /api/v1/sdmx/structure": everyone, "GET /api/v1/measures": everyone, "GET /api/v1/codelists": everyone,
            "GET /api/v1/codelists/{id}": everyone,
            "GET /api/v1/audit": ["admin", "auditor"],
            "GET /api/v1/linkage/review": ["admin", "data_officer"],
            "POST /api/v1/linkage/review/decision": ["admin", "data_officer"],
            "POST /api/v1/consents": consent, "POST /api/v1/consents/{id}/withdraw": consent,
            "POST /api/v1/consents/search": consent,
            "POST /api/v1/exchange/packages": ["admin", "node"], "GET /api/v1/exchange/registry": everyone,
            "POST /api/v1/linkage/encodings": ["admin", "node"],
            "GET /api/v1/linkage/results/{agreement}": ["admin", "node"],
            "GET /api/v1/exchange/log": ["admin", "auditor"], "GET /api/v1/exchange/packages": ["admin", "auditor"],
            "GET /region": aggregates, "GET /api/v1/regional/stats": aggregates,
            "GET /api/v1/regional/coverage": aggregates, "GET /region/mirror": aggregates,
            "GET /api/v1/regional/mirror": aggregates,
            "GET /sdmx/{resource}/{agency}/{id}/{version}": everyone, "GET /sdmx/data/{flow}/{key}": aggregates,
            "GET /sdmx/data/{flow}": aggregates,
            "GET /api/v1/cases": cases, "POST /api/v1/cases": cases, "GET /api/v1/cases/{id}": cases,
            "POST /api/v1/cases/{id}/status": cases, "POST /api/v1/cases/{id}/close": cases,
            "POST /api/v1/cases/{id}/reopen": cases, "POST /api/v1/cases/{id}/assign": ["admin", "supervisor"],
            "POST /api/v1/cases/{id}/surveys": cases, "GET /api/v1/followups/due": cases,
            "GET /api/v1/partners": cases.union(["partner"]), "POST /api/v1/partners": ["admin", "supervisor"],
            "POST /api/v1/referrals": cases, "POST /api/v1/referrals/{id}/status": cases.union(["partner"]),
            "POST /api/v1/referrals/{id}/feedback": cases, "GET /api/v1/partner/referrals": ["admin", "partner"],
            "GET /api/v1/partner/referrals/{id}": ["admin", "partner"],
            "GET /partner/incoming/{id}": ["admin", "partner"], "POST /partner/incoming/{id}": ["admin", "partner"],
            "GET /api/v1/incoming-referrals": ["admin", "partner", "supervisor"],
            "GET /api/v1/incoming-referrals/{id}": ["admin", "partner", "supervisor"],
            "POST /api/v1/incoming-referrals/{id}/status": ["admin", "partner"],
            "GET /api/v1/programme/stats": aggregates,
            "GET /cases": cases, "GET /cases/{id}": cases, "POST /cases/{id}": cases, "GET /reception": cases,
            "POST /reception": cases, "GET /followups": cases, "GET /partner": ["admin", "partner"],
            "GET /partner/{id}": ["admin", "partner"], "POST /partner/{id}": ["admin", "partner"],
        ]
    }()

    private static func routeKey(method: HTTPRequest.Method, path: String) -> String {
        method.rawValue + " /"
            + path.split(separator: "/").map { part in
                part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
            }.joined(separator: "/")
    }

    /// One account with an API token per role.
    private func tokens(_ store: any PuenteStore) async throws -> [String: String] {
        let access = AccessService(store: store, hasher: PasswordHasher(logCost: 10))
        var out: [String: String] = [:]
        for role in Role.allCases {
            try await access.createUser(
                username: "u-\(role.rawValue)", role: role, password: nil, country: "SLV", by: .commandOperator("test"))
            out[role.rawValue] = try await access.createToken(
                username: "u-\(role.rawValue)", label: "matrix", days: 1, by: .commandOperator("test")
            ).1
        }
        return out
    }

    @Test("Every route has a rule, and every role gets exactly what the matrix says", arguments: StoreKind.available)
    func routeByRole(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let router = PuenteServer.router(store: store)  // statistics not published: aggregates need a role
        #expect(PuenteServer.routesWithoutRule(router).isEmpty)
        let routes = router.routes.map { Self.routeKey(method: $0.method, path: $0.path.description) }
        #expect(
            Set(routes) == Set(Self.expected.keys),
            "routes without an expectation: \(Set(routes).subtracting(Self.expected.keys))")
        let tokens = try await tokens(store)
        let app = Application(router: router)
        try await app.test(.router) { client in
            // Logging out revokes the token the later requests use: it goes last.
            for route in Set(routes).sorted(by: {
                ($0 == "POST /logout" ? 1 : 0, $0) < ($1 == "POST /logout" ? 1 : 0, $1)
            }) {
                let parts = route.split(separator: " ", maxSplits: 1)
                let method = HTTPRequest.Method(rawValue: String(parts[0]))!
                let path = String(parts[1]).replacingOccurrences(of: "{id}", with: "CL_SEX")
                    .replacingOccurrences(of: "{agreement}", with: "SV-GT-LINK")
                    .replacingOccurrences(of: "{file}", with: "dashboard.css")
                    .replacingOccurrences(of: "{resource}", with: "dataflow").replacingOccurrences(
                        of: "{agency}", with: "all"
                    )
                    .replacingOccurrences(of: "{version}", with: "latest").replacingOccurrences(
                        of: "{flow}", with: "DF_MIG_FLOW"
                    )
                    .replacingOccurrences(of: "{key}", with: "A.SLV.RETURN.F._T._T._T._T._T._T._T._T._T._T")
                let uri = path == "/api/v1/stats" ? path + "?measure=returns" : path
                for who in ["anonymous"] + Role.allCases.map(\.rawValue) {
                    let headers: HTTPFields = who == "anonymous" ? [:] : [.authorization: "Bearer \(tokens[who]!)"]
                    let status = try await client.execute(
                        uri: uri, method: method, headers: headers, body: ByteBuffer(string: "username=x&password=y")
                    ) {
                        $0.status
                    }
                    let allowed =
                        ![.unauthorized, .forbidden].contains(status)
                        || (route == "POST /login" && status == .unauthorized)  // wrong password, not a refused route
                    #expect(allowed == Self.expected[route]!.contains(who), "\(route) as \(who): \(status.code)")
                }
            }
        }
        try await store.close()
    }

    @Test("Anonymous visitors see protected statistics only when the node publishes them")
    func publicStatistics() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        for (published, expected) in [(false, HTTPResponse.Status.unauthorized), (true, .ok)] {
            let app = Application(
                router: PuenteServer.router(store: store, configuration: .init(publicStatistics: published)))
            try await app.test(.router) { client in
                #expect(
                    try await client.execute(uri: "/api/v1/stats?measure=returns", method: .get) { $0.status }
                        == expected)
                // A browser asking for a page is sent to the login form instead.
                let page = try await client.execute(uri: "/returns", method: .get, headers: [.accept: "text/html"]) {
                    $0
                }
                #expect(page.status == (published ? .ok : .seeOther))
                if !published { #expect(page.headers[.location] == "/login?next=%2Freturns") }
                // Never the imports or the audit trail.
                #expect(try await client.execute(uri: "/api/v1/imports", method: .get) { $0.status } == .unauthorized)
                #expect(try await client.execute(uri: "/api/v1/audit", method: .get) { $0.status } == .unauthorized)
            }
        }
        try await store.close()
    }

    @Test(
        "Passwords: slow salted hashes, lockout after repeated failures, sessions in hardened cookies with CSRF",
        arguments: StoreKind.available)
    func passwordLogin(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let access = AccessService(store: store, hasher: PasswordHasher(logCost: 10))
        await #expect(throws: PuenteError.self) {
            try await access.createUser(
                username: "weak", role: .statistician, password: "short", by: .commandOperator("test"))
        }
        try await access.createUser(
            username: "ana", role: .statistician, password: "una frase larga y segura", country: "SLV",
            by: .commandOperator("test"))
        let stored = try #require(try await store.user(named: "ana"))
        #expect(stored.passwordHash?.hasPrefix("scrypt$10$8$1$") == true)
        #expect(stored.passwordHash?.contains("una frase") == false)

        var configuration = PuenteServer.Configuration()
        configuration.passwordHasher = PasswordHasher(logCost: 10)  // as the accounts above: no rehash at login
        let app = Application(router: PuenteServer.router(store: store, configuration: configuration))
        try await app.test(.router) { client in
            func login(_ user: String, _ password: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(
                        string:
                            "username=\(user)&password=\(password.replacingOccurrences(of: " ", with: "+"))&next=%2Freturns"
                    )
                ) { $0 }
            }
            #expect(try await login("ana", "wrong password!").status == .unauthorized)
            #expect(try await login("nobody", "una frase larga y segura").status == .unauthorized)
            let ok = try await login("ana", "una frase larga y segura")
            #expect(ok.status == .seeOther && ok.headers[.location] == "/returns")
            let cookie = try #require(ok.headers[.setCookie])
            for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
                #expect(cookie.contains(attribute), "\(cookie)")
            }
            let session = String(cookie.split(separator: ";")[0])  // puente_session=…
            #expect(session.hasPrefix("puente_session=ps_"))

            let me = try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: session]) {
                String(buffer: $0.body)
            }
            #expect(me.contains("\"username\":\"ana\"") && me.contains("exact_statistics"))
            // The page carries the session's CSRF token in its logout form; posting without it is refused.
            let page = try await client.execute(uri: "/", method: .get, headers: [.cookie: session]) {
                String(buffer: $0.body)
            }
            let csrf = try #require(
                page.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" })
            #expect(
                try await client.execute(
                    uri: "/logout", method: .post,
                    headers: [.cookie: session, .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "csrf=forged")
                ) { $0.status } == .forbidden)
            #expect(
                try await client.execute(
                    uri: "/logout", method: .post,
                    headers: [.cookie: session, .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "csrf=\(csrf)")
                ) { $0.status } == .seeOther)
            #expect(
                try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: session]) { $0.status }
                    == .unauthorized)

            // Five failures lock the account: then even the right password is refused.
            for _ in 0..<5 { _ = try await login("ana", "still the wrong one") }
            let locked = try await login("ana", "una frase larga y segura")
            #expect(locked.status == .unauthorized && String(buffer: locked.body).contains("bloqueada"))
            #expect(try await store.user(named: "ana")?.lockedUntil != nil)
        }
        // Every decision is in the trail.
        let actions = try await store.auditEntries(after: 0, limit: 100).map(\.action)
        for action in ["user_created", "login_failed", "login", "logout", "login_locked"] {
            #expect(actions.contains(action), "\(action)")
        }
        try await store.close()
    }

    @Test(
        "API tokens: shown once, stored hashed, revocable, expiring; exact statistics need a purpose and stay in the user's country",
        arguments: StoreKind.available)
    func tokensAndExactStatistics(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let id = try await store.startImport(
            ImportRequest(profile: "t", agency: "TEST", file: "t.csv", contentHash: "x"))
        _ = try await store.appendCounted((0..<7).map { Fixtures.event(key: "e\($0)") }, to: id)
        try await store.finishImport(id, counts: ImportCounts(read: 7, accepted: 7))
        let access = AccessService(store: store, hasher: PasswordHasher(logCost: 10))
        try await access.createUser(
            username: "stat", role: .statistician, password: nil, country: "SLV", by: .commandOperator("test"))
        try await access.createUser(
            username: "analyst", role: .regionalAnalyst, password: nil, by: .commandOperator("test"))
        let (credential, secret) = try await access.createToken(
            username: "stat", label: "harvester", days: 30, by: .commandOperator("test"))
        #expect(secret.hasPrefix("pt_") && secret.count > 40)
        let stored = try await store.credentials(userID: nil)
        #expect(
            stored.allSatisfy { $0.secretHash != secret } && stored.contains { $0.secretHash == Secret.hash(secret) })
        let analyst = try await access.createToken(
            username: "analyst", label: "x", days: 1, by: .commandOperator("test")
        ).1
        let expired = try await access.createToken(
            username: "stat", label: "old", days: 1, by: .commandOperator("test"),
            now: Date().addingTimeInterval(-2 * 86_400)
        ).1

        let app = Application(router: PuenteServer.router(store: store))
        try await app.test(.router) { client in
            func get(_ uri: String, _ token: String) async throws -> (HTTPResponse.Status, String) {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(token)"]) {
                    ($0.status, String(buffer: $0.body))
                }
            }
            let exact = "/api/v1/stats?measure=returns&protection=none"
            #expect(try await get(exact, secret).0 == .badRequest)  // no purpose
            let (status, body) = try await get(exact + "&purpose=monthly%20bulletin", secret)
            #expect(status == .ok)
            let table = try JSONDecoder().decode(StatisticsTableView.self, from: Data(body.utf8))
            #expect(table.total.value == 7 && table.total.obsStatus == "A")  // exact: 7, not perturbed or suppressed
            #expect(try await get(exact + "&purpose=x12&filter=reporting_country:GTM", secret).0 == .forbidden)
            #expect(try await get(exact + "&purpose=monthly%20bulletin", analyst).0 == .forbidden)
            #expect(try await get("/api/v1/me", expired).0 == .unauthorized)
            try await access.revokeToken(id: credential.id, by: .commandOperator("test"))
            #expect(try await get("/api/v1/me", secret).0 == .unauthorized)
        }
        let exports = try await store.auditEntries(after: 0, limit: 100).filter { $0.action == "export" }
        #expect(exports.count == 1 && exports[0].purpose == "monthly bulletin" && exports[0].actor == "stat")
        try await store.close()
    }

    @Test(
        "Many appends at once all land, each on the one before, and the trail verifies", arguments: StoreKind.available)
    func concurrentAppends(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let log = AuditLog(store: store)
        // Two logs over the same store, as two services of one node have.
        let other = AuditLog(store: store)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<96 {
                group.addTask {
                    try await (i.isMultiple(of: 2) ? log : other).record(
                        .init(actor: "load", action: "export", target: "stats \(i)"))
                }
            }
            try await group.waitForAll()
        }
        let verification = try await log.verify()
        #expect(verification.intact && verification.entries == 96)
        try await store.close()
    }

    @Test(
        "The audit trail detects an edited, a rewritten, a deleted and a truncated entry: keyed, with its head kept beside the key file",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func auditTamper(kind: StoreKind) async throws {
        let (unanchored, location) = try await kind.makeStoreWithLocation()
        try await unanchored.close()
        // The store as a node opens it: keys from a key file, beside which the trail's head is kept.
        let keyFolder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "puente-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: keyFolder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: keyFolder) }
        let keyring = Keyring.forTesting(file: keyFolder.appendingPathComponent("node.keys"))
        let store = try StoreKind.reopen(location, cipher: keyring)
        let log = AuditLog(store: store)
        // Appends from many tasks at once still make one unbroken chain, and the head file follows it.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    try await log.record(.init(actor: "t\(i % 3)", action: "export", target: "stats \(i)"))
                }
            }
            try await group.waitForAll()
        }
        var verification = try await log.verify()
        #expect(
            verification.intact && verification.entries == 20 && verification.anchored
                && verification.unkeyedEntries == 0)
        let head = try #require(try await store.lastAudit())
        #expect(try keyring.anchoredAuditHead() == AuditHead(sequence: 20, hash: head.hash, keyedFrom: 1))

        // The database refuses edits through SQL; an attacker with the files drops that guard first.
        await #expect(throws: (any Error).self) {
            try await StoreKind.executeBehindTheStore(
                ["UPDATE audit_entry SET actor = 'x' WHERE sequence = 7"], at: location)
        }
        let dropGuard =
            location.hasPrefix("postgres")
            ? ["DROP TRIGGER audit_entry_append_only ON audit_entry"]
            : ["DROP TRIGGER audit_entry_no_update", "DROP TRIGGER audit_entry_no_delete"]
        let original = try #require(try await store.auditEntries(after: 6, limit: 1).first)
        try await StoreKind.executeBehindTheStore(
            dropGuard + ["UPDATE audit_entry SET target = 'stats 99' WHERE sequence = 7"], at: location)
        verification = try await log.verify()
        #expect(verification.brokenAt == 7 && verification.problem?.contains("changed") == true)
        // Put back exactly as it was, the chain is whole again: so what follows fails for its own reason.
        try await StoreKind.executeBehindTheStore(
            ["UPDATE audit_entry SET target = '\(original.target)' WHERE sequence = 7"], at: location)
        #expect(try await log.verify().intact)

        // An attacker who rebuilds the chain after an edit can only use plain SHA-256 (the key is not in
        // the database): the rebuilt entries are refused.
        var forged = try await store.auditEntries(after: 17, limit: 10)
        try await StoreKind.executeBehindTheStore(["DELETE FROM audit_entry WHERE sequence >= 18"], at: location)
        var previous = try #require(try await store.auditEntries(after: 16, limit: 1).first).hash
        for i in forged.indices {
            forged[i].target = "stats forged"
            forged[i].previousHash = previous
            forged[i].hash = SHA256.hash(data: Data(forged[i].chainedText.utf8)).map { String(format: "%02x", $0) }
                .joined()
            previous = forged[i].hash
        }
        // appendAudit inserts as given, after the last entry: what SQL behind the store's back would do.
        for entry in forged { try await store.appendAudit(entry) }
        verification = try await log.verify()
        #expect(
            verification.brokenAt == 18
                && verification.problem?.contains("not hashed with the node's audit key") == true)

        // Truncating the end leaves a valid but shorter chain: the head kept beside the key file shows it,
        // without anything recorded by hand.
        try await StoreKind.executeBehindTheStore(["DELETE FROM audit_entry WHERE sequence >= 16"], at: location)
        verification = try await log.verify()
        #expect(verification.brokenAt == 16 && verification.problem?.contains("removed from the end") == true)
        // Without that file (keys from the environment), only a head recorded elsewhere shows it.
        let environmentKeys = AuditLog(store: try StoreKind.reopen(location, cipher: Keyring.forTesting()))
        #expect(try await environmentKeys.verify().intact)
        verification = try await environmentKeys.verify(expectedHead: head.hash)
        #expect(verification.brokenAt == 16 && verification.problem?.contains("removed from the end") == true)
        let earlierHead = try #require(try await store.auditEntries(after: 14, limit: 1).first)
        #expect(try await environmentKeys.verify(expectedHead: earlierHead.hash).intact)

        // Deleting an entry in the middle breaks the chain where it was.
        try await StoreKind.executeBehindTheStore(["DELETE FROM audit_entry WHERE sequence = 12"], at: location)
        verification = try await log.verify()
        #expect(verification.brokenAt == 12 && verification.problem?.contains("missing") == true)
        try await store.close()
    }

    @Test(
        "A trail written before keying verifies, with its unkeyed entries counted; an unkeyed entry after a keyed one does not"
    )
    func auditKeyingUpgrade() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        func unkeyed(_ sequence: Int64, after previous: String) -> AuditEntry {
            var entry = AuditEntry(
                sequence: sequence, at: Timestamp.now(), actor: "cli:old", action: "export",
                target: "stats \(sequence)", previousHash: previous, hash: "")
            entry.hash = SHA256.hash(data: Data(entry.chainedText.utf8)).map { String(format: "%02x", $0) }.joined()
            return entry
        }
        let first = unkeyed(1, after: AuditEntry.genesisHash), second = unkeyed(2, after: first.hash)
        try await store.appendAudit(first)
        try await store.appendAudit(second)
        let log = AuditLog(store: store)
        let keyed = try await log.record(.init(actor: "cli:new", action: "export", target: "stats 3"))
        var verification = try await log.verify()
        #expect(verification.intact && verification.entries == 3 && verification.unkeyedEntries == 2)
        try await store.appendAudit(unkeyed(4, after: keyed.hash))
        verification = try await log.verify()
        #expect(
            verification.brokenAt == 4 && verification.problem?.contains("not hashed with the node's audit key") == true
        )
        try await store.close()
    }

    @Test(
        "Consent over HTTP: recorded, looked up by a POST body, withdrawn once; clear errors; audited without the record key",
        arguments: StoreKind.available)
    func consentRoutes(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let access = AccessService(store: store, hasher: PasswordHasher(logCost: 10))
        try await access.createUser(
            username: "rosa", role: .caseWorker, password: "una frase larga y segura", by: .commandOperator("test"))
        try await access.createUser(username: "socio", role: .partner, password: nil, by: .commandOperator("test"))
        let caseWorker = try await access.createToken(
            username: "rosa", label: "t", days: 1, by: .commandOperator("test")
        ).1
        let partner = try await access.createToken(username: "socio", label: "t", days: 1, by: .commandOperator("test"))
            .1
        let key = "R-2016-000123"
        let app = Application(router: PuenteServer.router(store: store))
        try await app.test(.router) { client in
            func post(_ uri: String, _ body: String, token: String? = nil) async throws -> (HTTPResponse.Status, String)
            {
                try await client.execute(
                    uri: uri, method: .post,
                    headers: [.authorization: "Bearer \(token ?? caseWorker)", .contentType: "application/json"],
                    body: ByteBuffer(string: body)
                ) { ($0.status, String(buffer: $0.body)) }
            }
            let (status, body) = try await post(
                "/api/v1/consents",
                """
                {"agency": "SV-DGME", "recordKey": "\(key)", "purpose": "linkage", "recipients": ["OIM"], "language": "es", "guardian": true, "date": "2026-03-01"}
                """)
            #expect(status == .created, "\(body)")
            let consent = try JSONDecoder().decode(ConsentRecord.self, from: Data(body.utf8))
            #expect(
                consent.purpose == .linkage && consent.collector == "rosa" && consent.guardian
                    && consent.recipients == ["OIM"])
            #expect(consent.givenOn == CivilDate(iso: "2026-03-01") && consent.inForce)

            // Bad input: the message names the field and what was expected, never the value sent.
            for (json, field) in [
                (
                    #"{"agency": "SV-DGME", "recordKey": "k", "purpose": "marketing-x"}"#,
                    "purpose: expected one of linkage"
                ),
                (#"{"agency": "SV-DGME", "purpose": "linkage"}"#, "recordKey: required"),
                (
                    #"{"agency": "SV-DGME", "recordKey": "k", "purpose": "linkage", "guardian": "yes-x"}"#,
                    "guardian: expected true or false"
                ),
                (
                    #"{"agency": "SV-DGME", "recordKey": "k", "purpose": "linkage", "date": "2026-13-01"}"#,
                    "date: expected a date like"
                ),
                (
                    #"{"agency": "SV-DGME", "recordKey": "k", "purpose": "linkage", "date": "2999-01-01"}"#,
                    "date: expected a day not after today"
                ),
                (#"{"agency": "SV DGME-x", "recordKey": "k", "purpose": "linkage"}"#, "agency: expected"),
                (
                    #"{"agency": "SV-DGME", "recordKey": "k", "purpose": "linkage", "language": "spanish-x"}"#,
                    "language: expected"
                ),
                ("agency=SV-DGME", "JSON object"),
            ] {
                let (status, body) = try await post("/api/v1/consents", json)
                #expect(status == .badRequest && body.contains(field), "\(json): \(body)")
                #expect(!body.contains("-x") && !body.contains("13-01"), "the value is echoed: \(body)")
            }
            // One consent in force per record and purpose.
            #expect(
                try await post(
                    "/api/v1/consents", #"{"agency": "SV-DGME", "recordKey": "\#(key)", "purpose": "linkage"}"#
                ).0 == .conflict)
            // Partners may not record or read consent.
            #expect(
                try await post(
                    "/api/v1/consents/search", #"{"agency": "SV-DGME", "recordKey": "\#(key)"}"#, token: partner
                ).0 == .forbidden)

            let (found, list) = try await post(
                "/api/v1/consents/search", #"{"agency": "SV-DGME", "recordKey": "\#(key)"}"#)
            #expect(found == .ok)
            #expect(try JSONDecoder().decode([ConsentRecord].self, from: Data(list.utf8)).map(\.id) == [consent.id])

            #expect(
                // before it was given
                try await post("/api/v1/consents/\(consent.id)/withdraw", #"{"date": "2026-02-01"}"#).0 == .badRequest)
            let (withdrawn, after) = try await post("/api/v1/consents/\(consent.id)/withdraw", "")
            #expect(withdrawn == .ok)
            #expect(try JSONDecoder().decode(ConsentRecord.self, from: Data(after.utf8)).withdrawnOn == .today)
            #expect(try await post("/api/v1/consents/\(consent.id)/withdraw", "").0 == .conflict)
            #expect(try await post("/api/v1/consents/999/withdraw", "").0 == .notFound)
            #expect(try await post("/api/v1/consents/abc/withdraw", "").0 == .badRequest)

            // With a session, a JSON post must carry the session's CSRF token in X-CSRF-Token.
            let login = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "username=rosa&password=una+frase+larga+y+segura")
            ) { $0 }
            let session = String(try #require(login.headers[.setCookie]).split(separator: ";")[0])
            let page = try await client.execute(uri: "/", method: .get, headers: [.cookie: session]) {
                String(buffer: $0.body)
            }
            let csrf = String(
                try #require(
                    page.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" }))
            let renew = #"{"agency": "SV-DGME", "recordKey": "\#(key)", "purpose": "linkage"}"#
            #expect(
                try await client.execute(
                    uri: "/api/v1/consents", method: .post,
                    headers: [.cookie: session, .contentType: "application/json"],
                    body: ByteBuffer(string: renew)
                ) { $0.status } == .forbidden)
            #expect(
                try await client.execute(
                    uri: "/api/v1/consents", method: .post,
                    headers: [
                        .cookie: session, .contentType: "application/json",
                        HTTPFields.Element.Name("X-CSRF-Token")!: csrf,
                    ],
                    body: ByteBuffer(string: renew)
                ) { $0.status } == .created)
        }
        // Each decision is in the intact trail, by its id and agency, never by the record key.
        let entries = try await store.auditEntries(after: 0, limit: 100)
        let consentEntries = entries.filter { $0.action.hasPrefix("consent_") }
        #expect(
            consentEntries.map(\.action) == [
                "consent_recorded", "consent_read", "consent_withdrawn", "consent_recorded",
            ])
        #expect(
            consentEntries[0].target.contains("agency:SV-DGME purpose:linkage guardian")
                && consentEntries[0].actor == "rosa")
        #expect(
            entries.allSatisfy {
                !$0.target.contains(key) && !($0.purpose ?? "").contains(key) && !$0.target.contains("000123")
            })
        #expect(try await AuditLog(store: store).verify().intact)
        try await store.close()
    }

    @Test(
        "The consent gate excludes a record once its consent to that purpose is withdrawn, and only for that purpose",
        arguments: StoreKind.available)
    func consentGate(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let service = ConsentService(store: store)
        let gate = ConsentGate(store: store)
        let kept = try await service.record(
            .init(agency: "SV-DGME", recordKey: "kept", purpose: "linkage"), by: .commandOperator("rosa"))
        let gone = try await service.record(
            .init(agency: "SV-DGME", recordKey: "gone", purpose: "linkage", givenOn: "2025-01-10"),
            by: .commandOperator("rosa"))
        let other = try await service.record(
            .init(agency: "SV-DGME", recordKey: "other", purpose: "referral"), by: .commandOperator("rosa"))
        _ = try await service.record(
            .init(agency: "SV-DGME", recordKey: "other", purpose: "linkage"), by: .commandOperator("rosa"))
        #expect(try await gate.excluded(for: .linkage).isEmpty)

        // Withdrawal before the consent was given, in the future, or of an unknown consent is refused.
        await #expect(throws: PuenteError.self) {
            try await service.withdraw(id: gone.id, on: "2025-01-09", by: .commandOperator("dpo"))
        }
        await #expect(throws: PuenteError.self) {
            try await service.withdraw(id: gone.id, on: "2999-01-01", by: .commandOperator("dpo"))
        }
        await #expect(throws: PuenteError.self) { try await service.withdraw(id: 9_999, by: .commandOperator("dpo")) }
        try await service.withdraw(id: gone.id, on: "2025-06-30", by: .commandOperator("dpo"))
        // Referral only: linkage of that record goes on.
        try await service.withdraw(id: other.id, by: .commandOperator("dpo"))

        let linkage = try await gate.excluded(for: .linkage)
        #expect(linkage == [ConsentSubject(agency: "SV-DGME", recordKey: "gone")])
        #expect(!linkage.contains(ConsentSubject(agency: kept.subject.agency, recordKey: kept.subject.recordKey)))
        #expect(!linkage.contains(ConsentSubject(agency: "SV-DGME", recordKey: "other")))
        #expect(try await gate.excluded(for: .referral) == [ConsentSubject(agency: "SV-DGME", recordKey: "other")])
        #expect(try await gate.excluded(for: .reintegration).isEmpty)
        try await store.close()
    }

    @Test("Hardening: security headers, body and header limits, login rate limit")
    func hardening() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        var configuration = PuenteServer.Configuration(publicStatistics: true)
        // Two an hour: no token refills while these requests are answered, however loaded the machine.
        (configuration.loginAttempts, configuration.loginAttemptWindow) = (2, .seconds(3600))
        configuration.passwordHasher = PasswordHasher(logCost: 10)
        // An account with a cheap hash: each attempt is checked in milliseconds, so no token comes back
        // between attempts however loaded the machine is (an unknown name would cost a full decoy hash).
        try await AccessService(store: store, hasher: PasswordHasher(logCost: 10)).createUser(
            username: "abc", role: .statistician, password: "una frase larga y segura", by: .commandOperator("test"))
        let app = Application(router: PuenteServer.router(store: store, configuration: configuration))
        try await app.test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get) { $0 }
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(page.headers[HTTPFields.Element.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(page.headers[HTTPFields.Element.Name("X-Frame-Options")!] == "DENY")
            let big = ByteBuffer(string: "username=a&password=" + String(repeating: "x", count: 100_000))
            #expect(try await client.execute(uri: "/login", method: .post, body: big) { $0.status } == .contentTooLarge)
            let hugeHeader: HTTPFields = [HTTPFields.Element.Name("X-Padding")!: String(repeating: "y", count: 20_000)]
            #expect(
                try await client.execute(uri: "/health", method: .get, headers: hugeHeader) { $0.status.code } == 431)
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 {
                statuses.append(
                    try await client.execute(
                        uri: "/login", method: .post, body: ByteBuffer(string: "username=abc&password=b")
                    ) { $0.status })
            }
            // The oversized attempt above counted too; one more fits the burst of two, then every one is refused.
            #expect(statuses.first == .unauthorized)
            #expect(statuses.dropFirst().allSatisfy { $0 == .tooManyRequests })
        }
        try await store.close()
    }

    @Test(
        "Behind a trusted proxy, the forwarded client address counts for the login limiter and the audit trail; from anyone else the headers are ignored"
    )
    func trustedProxy() async throws {
        #expect(
            ClientAddress.resolve(peer: "10.0.0.2", forwarded: nil, xForwardedFor: "203.0.113.9", trusted: ["10.0.0.1"])
                == "10.0.0.2")
        #expect(
            ClientAddress.resolve(
                peer: "10.0.0.1", forwarded: nil, xForwardedFor: "198.51.100.4, 203.0.113.9", trusted: ["10.0.0.1"])
                == "203.0.113.9")  // the hop the trusted proxy saw; the left part is the client's own claim
        #expect(
            ClientAddress.resolve(
                peer: "10.0.0.1", forwarded: nil, xForwardedFor: "198.51.100.4, 10.0.0.3",
                trusted: ["10.0.0.1", "10.0.0.3"])
                == "198.51.100.4")
        #expect(
            ClientAddress.resolve(
                peer: "10.0.0.1", forwarded: "for=192.0.2.60;proto=https, for=\"[2001:db8::17]:4711\"",
                xForwardedFor: "203.0.113.9", trusted: ["10.0.0.1"]) == "2001:db8::17")

        for trusted in [true, false] {
            let store = try await StoreKind.sqliteMemory.makeStore()
            var configuration = PuenteServer.Configuration(publicStatistics: true)
            (configuration.loginAttempts, configuration.loginAttemptWindow) = (2, .seconds(3600))
            // Cheap hashes: each attempt takes milliseconds, so no token comes back between them on a loaded machine.
            configuration.passwordHasher = PasswordHasher(logCost: 10)
            try await AccessService(store: store, hasher: configuration.passwordHasher).createUser(
                username: "abc", role: .statistician, password: "una frase larga y segura", by: .commandOperator("test")
            )
            if trusted { configuration.trustedProxies = ["127.0.0.1"] }
            let app = Application(router: PuenteServer.router(store: store, configuration: configuration))
            // A real server on loopback: the peer is 127.0.0.1, as a proxy on the same host would be.
            try await app.test(.live) { client in
                func attempt(from address: String) async throws -> HTTPResponse.Status {
                    try await client.execute(
                        uri: "/login", method: .post,
                        headers: [
                            .contentType: "application/x-www-form-urlencoded",
                            HTTPFields.Element.Name("X-Forwarded-For")!: address,
                        ],
                        body: ByteBuffer(string: "username=abc&password=b")
                    ) { $0.status }
                }
                for _ in 0..<3 { _ = try await attempt(from: "198.51.100.7") }
                #expect(try await attempt(from: "198.51.100.7") == .tooManyRequests)
                // Another client: its own bucket behind the trusted proxy; the same one when the header is ignored.
                #expect(try await attempt(from: "198.51.100.8") == (trusted ? .unauthorized : .tooManyRequests))
            }
            let addresses = try await store.auditEntries(after: 0, limit: 50).compactMap(\.address)
            #expect(addresses.contains("198.51.100.8") == trusted && addresses.contains("127.0.0.1") == !trusted)
            try await store.close()
        }
    }

    @Test("Sealed values, in bulk or one by one, open with their own associated data only, at every length")
    func sealing() throws {
        let keyring = Keyring.forTesting()
        // Lengths 0…47 cover every base64 padding; the accented names cover multi-byte UTF-8.
        let clears = (0..<48).map { String(repeating: "x", count: $0) } + ["José Ñúñez", "12:María-5:Pérez"]
        let values = clears.enumerated().map { (clear: $1, field: "person_sealed|AG|key-\($0)") }
        let bulk = keyring.seal(values)
        let single = values.map { keyring.seal($0.clear, field: $0.field) }
        for (i, value) in values.enumerated() {
            for sealed in [bulk[i], single[i]] {
                #expect(try keyring.open(sealed, field: value.field) == value.clear)
                #expect(throws: PuenteError.self) { try keyring.open(sealed, field: "person_sealed|AG|other") }
                // pe1:<key id>:<base64 of a 12-byte nonce, the ciphertext and a 16-byte tag>, as Foundation reads it.
                let body = try #require(sealed.split(separator: ":", maxSplits: 2).last)
                #expect(Data(base64Encoded: String(body))?.count == 12 + value.clear.utf8.count + 16)
            }
        }
        // Every seal draws a fresh nonce: the same value never seals the same way twice.
        let same = keyring.seal(Array(repeating: (clear: "Ana", field: "f"), count: 1_000))
        #expect(Set(same).count == same.count)
    }

    @Test(
        "Cell keys are the first byte of HMAC-SHA-256 of agency and record key under the key file's secret, one by one or by batch"
    )
    func cellKeys() throws {
        let secret = Data((0..<32).map { UInt8($0 * 7 + 3) })
        let keyring = try Keyring.parse(
            "active k1\nk1 \(Data(repeating: 1, count: 32).base64EncodedString())\ncellkey \(secret.base64EncodedString())"
        )
        // Lengths around SHA-256's 64-byte block, and multi-byte UTF-8.
        let identities =
            (0..<130).map { ("SV-DGME", String(repeating: "R", count: $0)) } + [("GT-IGM", "Ñúñez-2016-ü"), ("", "")]
        let events = identities.map { agency, key in
            MovementEvent(
                source: .init(agency: agency, file: "f.csv", row: 1, recordKey: key), type: .entry,
                date: CivilDate(iso: "2016-01-01")!, reportingCountry: "SLV", person: .init(sex: .female))
        }
        let expected = identities.map { agency, key in
            Array(
                HMAC<SHA256>.authenticationCode(
                    for: Data((agency + "\u{1F}" + key).utf8), using: SymmetricKey(data: secret)))[0]
        }
        #expect(keyring.cellKeys(events) == expected)
        #expect(identities.map { keyring.cellKey(agency: $0.0, recordKey: $0.1) } == expected)
    }

    @Test("Password hashes verify only the right password and carry their own salt")
    func hashing() throws {
        let hasher = PasswordHasher(logCost: 10)
        let a = try hasher.hash("correct horse battery")
        let b = try hasher.hash("correct horse battery")
        #expect(a != b)  // salted
        #expect(
            hasher.verify("correct horse battery", against: a) && hasher.verify("correct horse battery", against: b))
        #expect(!hasher.verify("correct horse batterY", against: a))
        #expect(!hasher.verify("correct horse battery", against: "scrypt$10$8$1$bad"))
        #expect(
            !hasher.verify("correct horse battery", against: a.replacingOccurrences(of: "scrypt$10", with: "scrypt$11"))
        )
    }

    @Test("scrypt meets OWASP's minimum by default, and a weaker stored hash is replaced at the next successful login")
    func rehashOnLogin() async throws {
        let standard = PasswordHasher()
        #expect(standard.logCost == 17 && standard.blockSize == 8 && standard.parallelism == 1)
        let store = try await StoreKind.sqliteMemory.makeStore()
        try await AccessService(store: store, hasher: PasswordHasher(logCost: 10)).createUser(
            username: "ana", role: .statistician, password: "una frase larga y segura", by: .commandOperator("test"))
        let stronger = AccessService(store: store, hasher: PasswordHasher(logCost: 11))
        // A wrong password changes nothing; the right one replaces the hash with today's parameters.
        _ = try await stronger.login(username: "ana", password: "no es la frase!!", address: nil)
        #expect(try await store.user(named: "ana")?.passwordHash?.hasPrefix("scrypt$10$") == true)
        guard
            case .success = try await stronger.login(
                username: "ana", password: "una frase larga y segura", address: nil)
        else {
            Issue.record("the right password was refused"); return
        }
        let rehashed = try #require(try await store.user(named: "ana")?.passwordHash)
        #expect(
            rehashed.hasPrefix("scrypt$11$8$1$")
                && PasswordHasher(logCost: 11).verify("una frase larga y segura", against: rehashed))
        #expect(!PasswordHasher(logCost: 11).needsRehash(rehashed) && PasswordHasher(logCost: 12).needsRehash(rehashed))
        try await store.close()
    }

    @Test("Retention and erasure go through the audit trail with their reason; an erasure needs one")
    func retentionAndErasure() async throws {
        let store = try await StoreKind.sqliteMemory.makeStore()
        let id = try await store.startImport(
            ImportRequest(profile: "t", agency: "TEST", file: "t.csv", contentHash: "x"))
        _ = try await store.appendCounted(
            [Fixtures.event(key: "a", date: "2012-05-01"), Fixtures.event(key: "b", date: "2020-05-01")], to: id)
        try await store.finishImport(id, counts: ImportCounts(read: 2, accepted: 2))
        let protection = DataProtection(store: store)
        await #expect(throws: PuenteError.self) {
            try await protection.erase(agency: "TEST", recordKeys: ["b"], reason: "asked", by: .commandOperator("dpo"))
        }
        #expect(
            try await protection.erase(
                agency: "TEST", recordKeys: ["b"], reason: "Request 2026-114 by the person, approved by the DPO",
                by: .commandOperator("dpo")) == 1)
        // Ten years back from 23 November 2026: the 2012 event loses its personal fields, the 2020 one was erased already.
        let now = try Date("2026-11-23T12:00:00Z", strategy: .iso8601)
        let result = try await protection.applyRetention(
            RetentionPolicy(personalDataYears: 10, rejectsDays: 365), now: now, by: .system("retention"))
        #expect(result.events == 1)
        #expect(try await store.events(importID: id, limit: 5).allSatisfy { $0.person.givenNames == nil })
        let entries = try await store.auditEntries(after: 0, limit: 10)
        #expect(entries.map(\.action) == ["erasure", "retention"])
        #expect(
            entries[0].purpose?.hasPrefix("Request 2026-114") == true && entries[1].target.contains("before 2016-11-23")
        )
        #expect(try await AuditLog(store: store).verify().intact)
        try await store.close()
    }
}
