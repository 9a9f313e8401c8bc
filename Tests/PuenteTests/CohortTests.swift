import Foundation
import PuenteAccess
import PuenteCore
import PuenteIngest
import PuenteReintegration
import PuenteServices
import PuenteStatistics
import PuenteSynthetic
import PuenteTesting
import Testing

/// The generated reintegration cohort: every step it writes passes the services' rules when replayed,
/// and what the store then holds is the generator's truth.
@Suite("Reintegration: the generated cohort")
struct CohortTests {
    @Test(
        "A generated programme year loads through the services and matches its truth, case by case",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func cohortMatchesTruth(kind: StoreKind) async throws {
        let dir = try Fixtures.tempDir()
        let generator = try Generator(options: GeneratorOptions(country: "SV", year: 2016, seed: 11, scale: 0.03))
        let summary = try generator.write(to: dir)
        let cohort = try generator.writeReintegration(to: dir)
        let store = try await kind.makeStore()
        let returns = summary.files[0]
        _ = try await Importer(store: store).importFile(
            dir.appendingPathComponent(returns.file), profile: try ProfileCatalogue.load(returns.profile))
        let loaded = try await CaseLoadService(store: store).load(
            folder: dir.appendingPathComponent("reintegration"), by: .commandOperator("cli:test"))
        #expect(loaded.cases == cohort.cases && loaded.actions == cohort.actions)

        // A programme's scale: about 4 % of El Salvador's accepted returns enter it.
        let accepted = returns.rows - returns.malformedRows
        #expect(Double(cohort.cases) / Double(accepted) > 0.03 && Double(cohort.cases) / Double(accepted) < 0.05)

        let truth = try Fixtures.truthRows(dir.appendingPathComponent("truth/reintegration-cases.csv"))
        let files = try await store.caseFiles(CaseQuery(limit: 100_000))
        #expect(files.count == truth.count)
        let byKey = Dictionary(uniqueKeysWithValues: files.map { ($0.subject.recordKey, $0) })
        let grants = Dictionary(
            grouping: try await store.caseRecords(caseID: nil, kind: "grant"), by: \.caseID)
        let surveys = Dictionary(grouping: try await store.caseRecords(caseID: nil, kind: "survey"), by: \.caseID)
        for row in truth {
            let file = try #require(byKey[row["record_key"]!])
            #expect(file.status.rawValue == row["status"] && (file.workflow.closure?.rawValue ?? "") == row["closure"])
            #expect(file.workflow.day(reached: .planApproved)?.description ?? "" == row["plan_approved"])
            #expect(file.profile.arrivalDay.description == row["arrival"])
            let paid = try (grants[file.id] ?? []).map { try JSONText.decode($0.body) as Grant }
                .reduce(Int64(0)) { $0 + $1.disbursed.minorUnits }
            #expect(String(paid) == row["grant_disbursed_minor"])
            #expect(String(surveys[file.id]?.count ?? 0) == row["surveys"])
        }
        #expect(Set(truth.map { $0["closure"]! }).isSuperset(of: ["declined", "reintegrated", ""]))

        let referralTruth = try Fixtures.truthRows(dir.appendingPathComponent("truth/reintegration-referrals.csv"))
        let referrals = try await store.referrals(ReferralQuery(limit: 100_000))
        #expect(referrals.count == referralTruth.count && referrals.count == loaded.referrals)
        var byCase = Dictionary(grouping: referrals, by: \.caseID)
        for (caseID, list) in byCase { byCase[caseID] = list.sorted { $0.id < $1.id } }
        for row in referralTruth {
            let file = try #require(byKey[row["record_key"]!])
            let referral = try #require(
                byCase[file.id]?.first { $0.partner == row["partner"] && $0.caseID == file.id && matches($0, row) })
            #expect((referral.escalatedOn != nil) == (row["escalated"] == "1"))
        }
        #expect(referrals.filter { $0.escalatedOn != nil }.count == loaded.escalated)

        // The programme's figures, exact, against the truth counted here.
        let stats = ProgrammeStatistics(store: store)
        let admin = Actor.commandOperator("cli:test")
        func exact(_ m: ProgrammeStatistics.Measure, _ by: [String]) async throws -> [[String]: Double] {
            let t = try await stats.table(m, by: by, exact: true, purpose: "test", by: admin).table
            return Dictionary(uniqueKeysWithValues: t.cells.map { ($0.key, $0.value!) })
        }
        let byStatus = Dictionary(grouping: truth, by: { [$0["status"]!] }).mapValues { Double($0.count) }
        #expect(try await exact(.cases, ["status"]) == byStatus)
        let approved = truth.filter { !$0["plan_approved"]!.isEmpty }
        let within = approved.filter {
            CivilDate(iso: $0["plan_approved"]!)!.daysSinceEpoch - CivilDate(iso: $0["arrival"]!)!.daysSinceEpoch <= 30
        }
        let plans = try await stats.table(.plansWithin30Days, by: [], exact: true, purpose: "test", by: admin).table
        #expect(plans.total.value == ((Double(within.count) / Double(approved.count) * 100) * 100).rounded() / 100)
        let byPartner = Dictionary(grouping: referralTruth, by: { [$0["partner"]!, $0["status"]!] }).mapValues {
            Double($0.count)
        }
        #expect(try await exact(.referrals, ["partner", "status"]) == byPartner)
        let paid = truth.filter { Int($0["grant_disbursed_minor"]!)! > 0 }.count
        #expect(try await exact(.grants, ["disbursed"])[["yes"]] == Double(paid))
        let sustainable = try await stats.table(.sustainable, by: ["sex"], exact: true, purpose: "test", by: admin)
        #expect(sustainable.cutoffs == ["0.66 (equal-unofficial)"] && sustainable.table.denominators != nil)
        // Follow-ups carried out of those due by the end of the generated records, round by round, counted
        // here from the truth's days by the rule in docs/reintegration.md: due 3, 6 and 12 months after
        // assistance started, once 14 days of grace have passed; not if the case closed more than 45 days
        // before; carried out if a follow-up falls within 45 days of the day it was due.
        let asOf = CivilDate(iso: "2017-12-31")!
        var due: [String: Int] = [:], done: [String: Int] = [:]
        for row in truth {
            guard let start = CivilDate(iso: row["assistance_start"]!) else { continue }
            let closed = CivilDate(iso: row["closed_on"]!)
            let days = row["followup_days"]!.split(separator: ";").map { CivilDate(iso: String($0))! }
            for (number, months) in [3, 6, 12].enumerated() {
                let day = start.adding(months: months)
                guard day.adding(days: 14) <= asOf else { continue }
                if let closed, closed.daysSinceEpoch < day.daysSinceEpoch - 45 { continue }
                due["\(number + 1)", default: 0] += 1
                if days.contains(where: { abs($0.daysSinceEpoch - day.daysSinceEpoch) <= 45 }) {
                    done["\(number + 1)", default: 0] += 1
                }
            }
        }
        let responded = try await stats.table(
            .followUpsResponded, by: ["round"], exact: true, purpose: "test", asOf: asOf, by: admin
        ).table
        #expect(responded.cells.map(\.key) == [["1"], ["2"], ["3"]])
        for (cell, denominator) in zip(responded.cells, responded.denominators!) {
            let round = cell.key[0]
            #expect(denominator.value == Double(due[round]!), "round \(round) due")
            #expect(cell.value == ((Double(done[round]!) / Double(due[round]!) * 100) * 100).rounded() / 100)
        }
        // Some rounds reached nobody, and outcomes carry the rate with them.
        #expect(done.values.reduce(0, +) < due.values.reduce(0, +))
        let withRate = try await stats.table(.sustainable, by: [], exact: true, purpose: "test", asOf: asOf, by: admin)
        #expect(withRate.responseRate?.value == responded.total.value)

        // The SDMX flow carries the same protected figures as the tables, each with its unit.
        let sdmx = try await stats.sdmxData(
            key: "A.SLV.CASES+SURVEYED+REFERRALS.F+M+_T._T", start: nil, end: nil, country: "SLV", asOf: asOf, by: admin
        )
        let casesBySex = try await stats.table(.cases, by: ["year", "sex"], asOf: asOf, by: admin).table.cells
        #expect(
            Set(
                sdmx.filter { $0.key[2] == "CASES" && $0.key[3] != "_T" }.map {
                    "\($0.period) \($0.key[3]) \($0.value ?? -1)"
                })
                == Set(
                    casesBySex.filter { ["F", "M"].contains($0.key[1]) }.map {
                        "\($0.key[0]) \($0.key[1]) \($0.value ?? -1)"
                    }))
        let surveyed = try await stats.table(.sustainable, by: ["year"], asOf: asOf, by: admin).table.denominators!
        #expect(
            sdmx.filter { $0.key[2] == "SURVEYED" && $0.key[3] == "_T" }.map(\.value) == surveyed.map(\.value))
        // Referrals have no sex: their totals only.
        #expect(sdmx.filter { $0.key[2] == "REFERRALS" }.allSatisfy { $0.key[3] == "_T" })
        #expect(!sdmx.filter { $0.key[2] == "REFERRALS" }.isEmpty)
        #expect(sdmx.allSatisfy { o in o.attributes.contains { $0.id == "UNIT_MEASURE" } })

        // Protected, as every published table: perturbed or suppressed, never a small count in the clear.
        let protected = try await stats.table(.cases, by: ["status", "sex"], by: admin).table
        #expect(protected.cells.allSatisfy { $0.obsStatus == "E" || $0.obsStatus == "Q" })
        #expect(protected.cells.allSatisfy { $0.value == nil || $0.value! >= 5 })
        await #expect(throws: PuenteError.self) {
            try await stats.table(.cases, by: ["partner"], by: admin)
        }
        await #expect(throws: PuenteError.self) {
            try await stats.table(.cases, by: [], exact: true, by: admin)
        }
        try await store.close()
    }

    private func matches(_ r: Referral, _ row: [String: String]) -> Bool {
        r.status.rawValue == row["status"] && (r.reason?.rawValue ?? "") == row["reason"]
    }
}
