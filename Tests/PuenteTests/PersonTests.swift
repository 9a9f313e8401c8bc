import Foundation
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteHTTP
import PuenteIngest
import PuenteLinkage
import PuenteStatistics
import PuenteSynthetic
import PuenteTesting
import Testing

/// Linking the stored events into persons, and the statistics that count persons, on every store.
@Suite("Persons: stored events linked, counted and reviewed")
struct PersonTests {
    /// The embedded store in memory and PostgreSQL when available (the file store adds nothing here).
    static let kinds = StoreKind.available.filter { $0 != .sqliteFile }

    /// The shipped config, with fewer random pairs for u: the suite runs unoptimised code.
    static func linking() throws -> PersonLinking {
        var config = try PersonLinking.defaultConfig()
        config.randomPairs = 20_000
        return PersonLinking(config: config)
    }
    /// Ingests generated files (returns, then movements) into a fresh store.
    static func loaded(_ kind: StoreKind, files: Int = 2) async throws -> (any PuenteStore, URL, GenerationSummary) {
        let (dir, summary) = try Fixtures.generated(seed: 21, scale: 0.01)
        let store = try await kind.makeStore()
        for file in summary.files.prefix(files) {
            _ = try await Importer(store: store).importFile(
                dir.appendingPathComponent(file.file),
                profile: try ProfileCatalogue.load(file.profile))
        }
        return (store, dir, summary)
    }

    /// Record key (without the profile prefix the importer adds) → true person, from the generator.
    static func truth(_ dir: URL, _ summary: GenerationSummary) throws -> [String: String] {
        var out: [String: String] = [:]
        for file in summary.files {
            for row in try Fixtures.truthRows(dir.appendingPathComponent("truth/\(file.profile).truth.csv")) {
                out[row["record_key"]!] = row["person_id"]!
            }
        }
        return out
    }

    /// Every committed event with its person.
    static func linkedEvents(_ store: any PuenteStore) async throws -> [(event: MovementEvent, person: Int64)] {
        let links = try await store.personLinks()
        var out: [(MovementEvent, Int64)] = []
        for id in try await store.committedImportIDs() {
            for e in try await store.events(importID: id, limit: 1_000_000) {
                out.append((e, try #require(links[e.id])))
            }
        }
        return out
    }

    /// Pairwise precision and recall of a partition against another (record key → group).
    static func pairwise(_ found: [String: String], _ truth: [String: String]) -> (precision: Double, recall: Double) {
        func pairs(_ n: Int) -> Int { n * (n - 1) / 2 }
        let keys = found.keys.filter { truth[$0] != nil }
        var both: [String: Int] = [:], f: [String: Int] = [:], t: [String: Int] = [:]
        for k in keys {
            both[found[k]! + "|" + truth[k]!, default: 0] += 1; f[found[k]!, default: 0] += 1;
            t[truth[k]!, default: 0] += 1
        }
        let tp = both.values.map(pairs).reduce(0, +)
        let predicted = f.values.map(pairs).reduce(0, +), actual = t.values.map(pairs).reduce(0, +)
        return (predicted == 0 ? 1 : Double(tp) / Double(predicted), actual == 0 ? 1 : Double(tp) / Double(actual))
    }

    static func bareKey(_ e: MovementEvent) -> String {
        String(e.source.recordKey.split(separator: ":", maxSplits: 1).last!)
    }

    @Test("Linking the stored events finds the generator's persons", arguments: kinds)
    func linksTruePersons(kind: StoreKind) async throws {
        let (store, dir, summary) = try await Self.loaded(kind)
        let run = try await Self.linking().run(store: store)
        #expect(run.mode == "full")
        #expect(run.importIDs == (try await store.committedImportIDs()))
        let linked = try await Self.linkedEvents(store)
        #expect(linked.count == run.events)
        #expect(Set(linked.map(\.person)).count == run.persons)
        let found = Dictionary(uniqueKeysWithValues: linked.map { (Self.bareKey($0.event), String($0.person)) })
        let (p, r) = Self.pairwise(found, try Self.truth(dir, summary))
        let f1 = 2 * p * r / (p + r)
        #expect(f1 >= 0.98, "pairwise precision \(p), recall \(r)")
        // Linking means something here: the generator's persons cross several events.
        #expect(run.persons < run.events * 3 / 4)
        // A person's id is one of its events' ids.
        let byPerson = Dictionary(grouping: linked, by: \.person)
        #expect(byPerson.allSatisfy { person, events in events.contains { $0.event.id == person } })
        try await store.close()
    }

    @Test("Person measures equal a direct count over the linked events", arguments: kinds)
    func personMeasures(kind: StoreKind) async throws {
        let (store, _, _) = try await Self.loaded(kind)
        let engine = StatisticsEngine(store: store)
        // Before any run, and after imports change, person figures are refused rather than wrong.
        await #expect(throws: PuenteError.self) {
            try await engine.run(StatisticsQuery(measure: .returnedPersons), policy: .unprotected)
        }
        try await Self.linking().run(store: store)
        let linked = try await Self.linkedEvents(store)

        // Independent computation: each person's returns by date; the first of a period is counted.
        let returns = linked.filter { $0.event.type == .return }
            .sorted {
                ($0.person, $0.event.date.daysSinceEpoch, $0.event.id) < (
                    $1.person, $1.event.date.daysSinceEpoch, $1.event.id
                )
            }
        var bySexYear: [[String]: Int] = [:], byMonth: [String: Int] = [:], ever = 0, repeats = 0
        var seenYears = Set<String>(), seenMonths = Set<String>(), seenPersons = Set<Int64>()
        for (e, person) in returns {
            let year = String(e.date.year), month = e.date.description.prefix(7)
            if seenYears.insert("\(person) \(year)").inserted {
                bySexYear[[e.person.sex.rawValue, year], default: 0] += 1
            }
            if seenMonths.insert("\(person) \(month)").inserted { byMonth[String(month), default: 0] += 1 }
            if seenPersons.insert(person).inserted { ever += 1 } else { repeats += 1 }
        }
        let table = try await engine.run(
            StatisticsQuery(measure: .returnedPersons, by: [.sex, .year]), policy: .unprotected)
        #expect(Dictionary(uniqueKeysWithValues: table.cells.map { ($0.key, Int($0.value!)) }) == bySexYear)
        #expect(table.total.value == Double(ever))
        let months = try await engine.run(
            StatisticsQuery(measure: .returnedPersons, by: [.month]), policy: .unprotected)
        #expect(Dictionary(uniqueKeysWithValues: months.cells.map { ($0.key[0], Int($0.value!)) }) == byMonth)
        // Persons are fewer than returns (some returned twice), and monthly persons add up to more than yearly ones.
        #expect(ever < returns.count && repeats > 0)
        #expect(byMonth.values.reduce(0, +) >= ever)
        let share = try await engine.run(StatisticsQuery(measure: .repeatReturnShare), policy: .unprotected)
        #expect(share.total.value == ((Double(repeats) / Double(returns.count) * 100) * 100).rounded() / 100)
        // Several periods filtered together would count a person twice: refused.
        await #expect(throws: PuenteError.self) {
            try await engine.run(
                StatisticsQuery(measure: .returnedPersons, filters: [.month: ["2016-01", "2016-02"]]),
                policy: .unprotected)
        }
        // Protected figures are marked as such.
        let protected = try await engine.run(StatisticsQuery(measure: .returnedPersons, by: [.sex]), policy: .standard)
        #expect(protected.cells.allSatisfy { $0.obsStatus == "E" || $0.obsStatus == "Q" })
        // Person cells carry their events' cell keys: with none, the noise would be a function of the count
        // alone, and an attacker who knows the published table could undo it.
        var keySums = 0, persons = 0
        try await store.forEachPersonCell { cell in
            keySums += cell.tally.keySum; persons += cell.tally.count
        }
        #expect(persons > 0 && keySums > persons * 50)  // keys are spread over 0…255: the mean is about 127
        try await store.close()
    }

    @Test("Incremental linking keeps known persons and their ids, and agrees with a full run", arguments: kinds)
    func incremental(kind: StoreKind) async throws {
        let (store, dir, summary) = try await Self.loaded(kind, files: 1)
        let linking = try Self.linking()
        try await linking.run(store: store)
        let first = try await store.personLinks()
        _ = try await Importer(store: store).importFile(
            dir.appendingPathComponent(summary.files[1].file),
            profile: try ProfileCatalogue.load(summary.files[1].profile))
        // The new import makes person figures stale until the next run.
        await #expect(throws: PuenteError.self) {
            try await StatisticsEngine(store: store).run(
                StatisticsQuery(measure: .returnedPersons), policy: .unprotected)
        }
        let second = try await linking.run(store: store)
        #expect(second.mode == "incremental")
        let after = try await store.personLinks()
        let kept = first.filter { after[$0.key] == $0.value }.count
        #expect(Double(kept) >= 0.99 * Double(first.count), "\(kept) of \(first.count) events kept their person id")

        // The same data linked at once, in a fresh store: nearly the same persons.
        let (fresh, _, _) = try await Self.loaded(kind)
        try await linking.run(store: fresh)
        let keyOf = { (linked: [(event: MovementEvent, person: Int64)]) in
            Dictionary(uniqueKeysWithValues: linked.map { (Self.bareKey($0.event), String($0.person)) })
        }
        let incrementalPersons = keyOf(try await Self.linkedEvents(store)),
            fullPersons = keyOf(try await Self.linkedEvents(fresh))
        let (p, r) = Self.pairwise(incrementalPersons, fullPersons)
        #expect(p >= 0.995 && r >= 0.995, "incremental against full: precision \(p), recall \(r)")
        let (tp, tr) = Self.pairwise(incrementalPersons, try Self.truth(dir, summary))
        #expect(2 * tp * tr / (tp + tr) >= 0.98)
        try await store.close()
        try await fresh.close()
    }

    @Test("Reviewers' decisions are kept and respected by later runs; a rollback unlinks its events", arguments: kinds)
    func reviewAndRollback(kind: StoreKind) async throws {
        let (store, _, _) = try await Self.loaded(kind)
        var linking = try Self.linking()
        let run = try await linking.run(store: store)
        let pending = try await store.reviewPairs(pendingOnly: true, limit: 100)
        #expect(pending.count == min(run.reviewPairs, 100))
        #expect(pending.allSatisfy { $0.probability < 0.9 && $0.probability >= 0.5 && $0.decision == nil })
        #expect(
            pending.first?.contributions.map(\.field) == ["given_names", "surnames", "birth_date", "sex", "document"])
        // The band's pairs may be joined through other records; a reviewer's non-match splits them.
        var links = try await store.personLinks()
        let pair = try #require(
            pending.first { links[$0.eventL] == links[$0.eventR] }, "the generated data leaves pairs for review")

        try await store.decideReview(eventL: pair.eventR, eventR: pair.eventL, match: false, by: "reviewer")
        await #expect(throws: PuenteError.self) {
            try await store.decideReview(eventL: 1, eventR: 1, match: true, by: "reviewer")
        }
        let decided = try await linking.run(store: store)
        #expect(decided.mode == "full")  // a new decision may split a known person
        links = try await store.personLinks()
        #expect(links[pair.eventL] != links[pair.eventR])
        let all = try await store.reviewPairs(pendingOnly: false, limit: 10_000)
        #expect(
            all.contains {
                $0.eventL == pair.eventL && $0.eventR == pair.eventR && $0.decision == false
                    && $0.decidedBy == "reviewer"
            })
        #expect(
            !(try await store.reviewPairs(pendingOnly: true, limit: 10_000)).contains {
                $0.eventL == pair.eventL && $0.eventR == pair.eventR
            })
        // Runs after that stay incremental when nothing changed, and keep the decision.
        #expect(try await linking.run(store: store).mode == "incremental")
        links = try await store.personLinks()
        #expect(links[pair.eventL] != links[pair.eventR])

        // Consent to linkage withdrawn (recorded against the agency's own key): the subject's events are
        // not compared and stand alone; consent withdrawn for another purpose changes nothing.
        let events = try await Self.linkedEvents(store)
        // The first such person by id: the data and the linker are deterministic, so the same person every run.
        let person = try #require(
            Dictionary(grouping: events, by: \.person).sorted { $0.key < $1.key }.first { $0.value.count > 2 })
        let withdrawn = person.value[0].event
        let subject = ConsentSubject(agency: withdrawn.source.agency, recordKey: Self.bareKey(withdrawn))
        for purpose in [ConsentPurpose.referral, .linkage] {
            let consent = try await store.recordConsent(
                ConsentRecord(
                    subject: subject, purpose: purpose, givenOn: CivilDate(iso: "2026-01-05")!,
                    language: "es", collector: "caseworker", recordedAt: Timestamp.now()))
            _ = try await store.withdrawConsent(id: consent.id, on: CivilDate(iso: "2026-02-01")!, by: "caseworker")
            linking.full = true
            try await linking.run(store: store)
            links = try await store.personLinks()
            let alone = links.values.filter { $0 == links[withdrawn.id] }.count == 1
            #expect(alone == (purpose == .linkage), "\(purpose)")
        }
        #expect(links.filter { $0.value == links[person.value[1].event.id] }.count == person.value.count - 1)

        // Rolling an import back removes its events' links; person figures wait for the next run.
        let imports = try await store.committedImportIDs()
        try await store.rollbackImport(imports.last!)
        let remaining = try await store.personLinks()
        #expect(remaining.count < links.count && !remaining.isEmpty)
        await #expect(throws: PuenteError.self) {
            try await StatisticsEngine(store: store).run(
                StatisticsQuery(measure: .returnedPersons), policy: .unprotected)
        }
        try await linking.run(store: store)
        #expect(
            try await StatisticsEngine(store: store).run(
                StatisticsQuery(measure: .returnedPersons), policy: .unprotected
            ).total.value! > 0)
        try await store.close()
    }

    @Test("Reviewers see the pair's records through the API, each read audited, and decide it")
    func reviewAPI() async throws {
        let (store, _, _) = try await Self.loaded(.sqliteMemory)
        try await Self.linking().run(store: store)
        let access = AccessService(store: store, hasher: PasswordHasher(logCost: 10))
        try await access.createUser(
            username: "officer", role: .dataOfficer, password: nil, by: .commandOperator("test"))
        try await access.createUser(username: "stats", role: .statistician, password: nil, by: .commandOperator("test"))
        let officer = try await access.createToken(
            username: "officer", label: "t", days: 1, by: .commandOperator("test")
        ).1
        let statistician = try await access.createToken(
            username: "stats", label: "t", days: 1, by: .commandOperator("test")
        ).1
        let auditBefore = try await store.lastAudit()?.sequence ?? 0
        let app = Application(router: PuenteServer.router(store: store))
        try await app.test(.router) { client in
            let refused = try await client.execute(
                uri: "/api/v1/linkage/review", method: .get,
                headers: [.authorization: "Bearer \(statistician)"]
            ) { $0.status }
            #expect(refused == .forbidden)
            let response = try await client.execute(
                uri: "/api/v1/linkage/review?limit=5", method: .get,
                headers: [.authorization: "Bearer \(officer)"]
            ) { $0 }
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let items = try #require(
                try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [[String: Any]])
            #expect((1...5).contains(items.count))
            let first = try #require(items.first)
            let left = try #require(first["left"] as? [String: Any]),
                pair = try #require(first["pair"] as? [String: Any])
            #expect(left["id"] as? Int64 == pair["event_l"] as? Int64 || left["id"] as? Int == pair["event_l"] as? Int)
            #expect(left["given_names"] is String || left["surnames"] is String)
            // One audited read per record shown, with its purpose.
            let entries = try await store.auditEntries(after: auditBefore, limit: 1_000).filter {
                $0.action == "read_personal"
            }
            let shown = Set(
                items.flatMap { [($0["left"] as? [String: Any])?["id"], ($0["right"] as? [String: Any])?["id"]] }
                    .compactMap { $0.map { "event \($0)" } })
            #expect(Set(entries.map(\.target)) == shown)
            #expect(entries.allSatisfy { $0.actor == "officer" && $0.purpose == "linkage review" })

            let l = try #require(pair["event_l"] as? Int), r = try #require(pair["event_r"] as? Int)
            let bad = try await client.execute(
                uri: "/api/v1/linkage/review/decision", method: .post,
                headers: [.authorization: "Bearer \(officer)", .contentType: "application/json"],
                body: ByteBuffer(string: "{\"event_l\": \(l), \"event_r\": \(r), \"decision\": \"maybe\"}")
            ) {
                ($0.status, String(buffer: $0.body))
            }
            #expect(bad.0 == .badRequest && bad.1.contains("decision: not one of the values it takes"))
            let decided = try await client.execute(
                uri: "/api/v1/linkage/review/decision", method: .post,
                headers: [.authorization: "Bearer \(officer)", .contentType: "application/json"],
                body: ByteBuffer(string: "{\"event_l\": \(l), \"event_r\": \(r), \"decision\": \"non-match\"}")
            ) { $0.status }
            #expect(decided == .ok)
        }
        let all = try await store.reviewPairs(pendingOnly: false, limit: 100_000)
        #expect(all.contains { $0.decision == false && $0.decidedBy == "officer" })
        try await store.close()
    }
}
