import Foundation
import Hummingbird
import HummingbirdTesting
import PuenteAccess
import PuenteCore
import PuenteHTTP
import PuenteReference
import PuenteStatistics
import PuenteTesting
import Testing

/// Attacks on the published figures, made as a caller would make them: through the API, as every role
/// and with every protection that role can ask for.
@Suite("Disclosure control against a differencing attacker")
struct DisclosureAttackTests {
    /// 200 Salvadoran municipalities, each with 1 to 4 women (the secret, 50 of each) and 10 to 29 men.
    /// Cell keys derive from the record keys with the tests' fixed keys, so a run repeats exactly.
    private static func population() -> (
        units: [String], women: [String: Int], men: [String: Int], events: [MovementEvent]
    ) {
        let units = ReferenceData.shared.geography("SLV")!.baseUnits.codes.prefix(200).map(\.id)
        var events: [MovementEvent] = []
        var women: [String: Int] = [:], men: [String: Int] = [:]
        for (i, unit) in units.enumerated() {
            women[unit] = 1 + i % 4
            men[unit] = 10 + (i * 7) % 20
            for j in 0..<(women[unit]! + men[unit]!) {
                events.append(
                    Fixtures.event(
                        key: "\(unit)-\(j)", sex: j < women[unit]! ? .female : .male, age: 20 + j % 40,
                        division: unit))
            }
        }
        return (units, women, men, events)
    }

    /// The share of units whose secret a blind guess gets right: the most frequent secret's share.
    private static func chanceLevel(_ women: [String: Int]) -> Double {
        let frequencies = Dictionary(grouping: women.values, by: { $0 }).values.map(\.count)
        return Double(frequencies.max()!) / Double(women.count)
    }

    /// What the attack below can expect from the published parameters alone, computed from the
    /// perturbation table's distribution rather than from the API: per unit, the chance that the total's
    /// noise minus the men's, added to the secret and kept within 1…4, gives the secret back. Returns the
    /// expected number of units recovered and its standard deviation.
    private static func expectedRecoveries(_ units: [String], _ women: [String: Int], men: [String: Int])
        -> (mean: Double, sd: Double)
    {
        let table = DisclosurePolicy.standard.perturbation
        var mean = 0.0, variance = 0.0
        for unit in units {
            let secret = women[unit]!
            var p = 0.0
            for (a, pa) in table.distribution(count: secret + men[unit]!) {
                for (b, pb) in table.distribution(count: men[unit]!) where min(max(secret + a - b, 1), 4) == secret {
                    p += pa * pb
                }
            }
            mean += p
            variance += p * (1.0 - p)
        }
        return (mean, variance.squareRoot())
    }

    @Test(
        "Through the API, only entitled roles get exact figures, and differencing cell-key figures recovers no more small cells than the published noise allows"
    )
    func differencingThroughTheAPI() async throws {
        let (units, women, men, events) = Self.population()
        let store = try await StoreKind.sqliteMemory.makeStore()
        let id = try await store.startImport(
            ImportRequest(profile: "t", agency: "TEST", file: "t.csv", contentHash: "attack"))
        try await store.appendCounted(events, to: id)
        try await store.finishImport(id, counts: ImportCounts(read: events.count, accepted: events.count))
        let access = AccessService(store: store)
        var callers: [(name: String, role: Role?, token: String?)] = [("anonymous", nil, nil)]
        for role in Role.allCases {
            _ = try await access.createUser(
                username: "u-\(role.rawValue)", role: role, password: nil,
                country: role == .statistician ? "SLV" : nil, by: .commandOperator("test"))
            let token = try await access.createToken(
                username: "u-\(role.rawValue)", label: "attack", days: 1, by: .commandOperator("test")
            ).1
            callers.append((role.rawValue, role, token))
        }
        let everyCaller = callers
        let chance = Self.chanceLevel(women)
        let expected = Self.expectedRecoveries(units, women, men: men)
        let app = Application(router: PuenteServer.router(store: store, configuration: .init(publicStatistics: true)))
        try await app.test(.router) { client in
            /// A table as the caller gets it, or nil when the caller is refused it.
            func table(_ by: String, _ filter: String?, protection: String, token: String?) async throws -> [[String]:
                Double]?
            {
                var uri = "/api/v1/stats?measure=returns&by=\(by)&protection=\(protection)&purpose=attack%20test"
                if let filter { uri += "&filter=\(filter)" }
                var headers = HTTPFields()
                if let token { headers[.authorization] = "Bearer \(token)" }
                return try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    guard response.status == .ok else {
                        #expect([.unauthorized, .forbidden].contains(response.status), "\(uri): \(response.status)")
                        return nil
                    }
                    let table = try JSONDecoder().decode(
                        StatisticsTableView.self, from: Data(String(buffer: response.body).utf8))
                    var out: [[String]: Double] = [:]
                    for cell in table.cells { out[cell.key] = cell.value }  // a suppressed cell is not there
                    return out
                }
            }
            for caller in everyCaller {
                var reachable: Set<String> = []
                for protection in ["ckm", "suppression", "none"] {
                    func ask(_ by: String, _ filter: String? = nil) async throws -> [[String]: Double]? {
                        try await table(by, filter, protection: protection, token: caller.token)
                    }
                    guard let totals = try await ask("municipality") else { continue }
                    reachable.insert(protection)
                    let bySex = try #require(try await ask("municipality,sex"))
                    let men = try #require(try await ask("municipality", "sex:M"))
                    // Asked again, nothing changes: a noise drawn per query would average out.
                    #expect(try await ask("municipality,sex") == bySex)
                    var recovered = 0
                    for unit in units {
                        // The total minus the men, from the breakdown by sex or from a filter (the same men, so
                        // the same figure when the noise is the cell's own); else the women's own cell if shown.
                        let route = [bySex[[unit, "M"]], men[[unit]]].compactMap { $0 }.first.flatMap { m in
                            totals[[unit]].map { $0 - m }
                        }
                        #expect(bySex[[unit, "M"]] == nil || men[[unit]] == nil || bySex[[unit, "M"]] == men[[unit]])
                        guard let estimate = route ?? bySex[[unit, "F"]] else { continue }
                        // The attacker knows the secret is a small count: 1 to 4.
                        if Int(min(max(estimate, 1), 4).rounded()) == women[unit] { recovered += 1 }
                    }
                    if protection != "ckm" {
                        // Exact figures: the attack is real, it recovers every cell (so only entitled roles get them).
                        #expect(recovered == units.count, "\(caller.name), \(protection)")
                    } else {
                        // The cell key method: no better than its published noise allows (three standard deviations
                        // for sampling). That is above a blind guess: see docs/statistics.md.
                        #expect(
                            Double(recovered) <= expected.mean + 3 * expected.sd,
                            "\(caller.name) recovered \(recovered) of \(units.count); expected \(expected.mean), blind guess \(chance * Double(units.count))"
                        )
                        #expect(Double(recovered) > chance * Double(units.count))  // the attack is a real one
                    }
                }
                // The node publishes its statistics, so every caller reaches the cell key method.
                let expected: Set<String> =
                    caller.role?.holds(.exactStatistics) == true ? ["ckm", "suppression", "none"] : ["ckm"]
                #expect(reachable == expected, "\(caller.name) reached \(reachable.sorted())")
            }
        }
        try await store.close()
    }
}
