import Foundation
import PuenteAccess
import PuenteCore
import PuenteReintegration
import PuenteServices
import PuenteTesting
import Testing

/// Business plans and seed grants: exact money, the four-eyes rules, tranches and visits, the ledger.
@Suite("Reintegration: business plans and seed grants")
struct GrantTests {
    @Test("Money is exact: minor units parsed strictly, refused by field otherwise")
    func money() throws {
        #expect(try Money(parsing: "1500", currency: "USD", field: "amount").minorUnits == 150_000)
        #expect(try Money(parsing: "1500.5", currency: "USD", field: "amount").minorUnits == 150_050)
        #expect(try Money(parsing: "0.07", currency: "GTQ", field: "amount").description == "0.07 GTQ")
        #expect(try Money(parsing: "1200.50", currency: "HNL", field: "amount").description == "1200.50 HNL")
        for bad in ["1500.505", "-5", "1,500", "", ".5", "1e3", "15 00", "1500."] {
            #expect(throws: PuenteError.self, "\(bad)") { try Money(parsing: bad, currency: "USD", field: "amount") }
        }
        let unknown = #expect(throws: PuenteError.self) { try Money(parsing: "5", currency: "XYZ", field: "amount") }
        #expect(unknown?.message.contains("currency: expected one of") == true)
        // Sums of many cents stay exact where binary floating point drifts.
        let cents = (0..<1000).reduce(Money.zero("USD")) { acc, _ in acc + Money(minorUnits: 10, currency: "USD") }
        #expect(cents.description == "100.00 USD")
    }

    @Test(
        "A grant from application to its last tranche: reviews, four eyes, visits before tranches, the ledger",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func grantLoop(kind: StoreKind) async throws {
        let (store, location) = try await ReintegrationTests().prepared(kind)
        let (cw, sup, sup2) = (ReintegrationTests.cw, ReintegrationTests.sup, ReintegrationTests.sup2)
        let cases = CaseService(store: store)
        let grants = GrantService(store: store)
        let day = CivilDate(iso: "2016-04-01")!
        let file = try await cases.open(.init(agency: "TEST", recordKey: "r1"), by: cw, today: day)
        _ = try await ReintegrationTests().consent(store, "r1", .reintegration)
        try await cases.move(file.id, to: .screened, update: .init(vulnerabilities: ["none"]), by: cw)
        try await cases.move(file.id, to: .assessed, update: .init(skills: "panadería", intentions: "negocio"), by: cw)
        try await cases.move(file.id, to: .planDrafted, update: .init(plan: "panadería"), by: cw)
        let plan = "Panadería en Chalatenango: horno, mostrador, harina para tres meses"
        await #expect(throws: PuenteError.self) {
            try await grants.apply(
                caseID: file.id, amount: "1500", currency: "USD", businessPlan: plan, by: cw, today: day)
        }
        try await cases.move(file.id, to: .planApproved, by: sup)

        var g = try await grants.apply(
            caseID: file.id, amount: "1500.00", currency: "USD", businessPlan: plan, by: cw, today: day)
        #expect(g.grant.status == .applied && g.grant.requested.minorUnits == 150_000)
        await #expect(throws: PuenteError.self) {
            try await grants.apply(caseID: file.id, amount: "100", currency: "USD", businessPlan: plan, by: cw)
        }
        // Review and decision: supervisors, never the applicant.
        await #expect(throws: PuenteError.self) { try await grants.review(g.id, score: 80, by: cw) }
        await #expect(throws: PuenteError.self) { try await grants.review(g.id, score: 101, by: sup) }
        await #expect(throws: PuenteError.self) { try await grants.decide(g.id, approve: "1000", by: sup2) }
        g = try await grants.review(g.id, score: 80, by: sup)
        let above = await #expect(throws: PuenteError.self) { try await grants.decide(g.id, approve: "2000", by: sup2) }
        #expect(above?.message.contains("at most the 1500.00 USD requested") == true)
        g = try await grants.decide(g.id, approve: "1200.50", by: sup2, today: day.adding(days: 3))
        #expect(g.grant.status == .approved && g.grant.approved?.description == "1200.50 USD")

        // Tranches never above the approved amount.
        let tooMuch = await #expect(throws: PuenteError.self) {
            try await grants.schedule(g.id, tranches: [("800", nil), ("500", nil)], by: sup)
        }
        #expect(tooMuch?.message.contains("add up to 1300.00 USD, above the 1200.50 USD approved") == true)
        g = try await grants.schedule(g.id, tranches: [("700.25", "local alquilado"), ("500.25", nil)], by: sup)

        // Tranche 2 waits for tranche 1 and a visit after it; approvals by someone else.
        await #expect(throws: PuenteError.self) { try await grants.requestTranche(g.id, number: 2, by: cw) }
        g = try await grants.requestTranche(g.id, number: 1, by: cw)
        await #expect(throws: PuenteError.self) { try await grants.approveTranche(g.id, number: 1, by: cw) }
        await #expect(throws: PuenteError.self) {
            try await grants.disburse(g.id, number: 1, reference: "TRX-1", by: cw, today: day)
        }
        g = try await grants.approveTranche(g.id, number: 1, by: sup)
        await #expect(throws: PuenteError.self) {
            try await grants.disburse(g.id, number: 1, reference: "TRX-1", inKind: ["horno"], by: cw, today: day)
        }
        let paid1 = day.adding(days: 10)
        g = try await grants.disburse(g.id, number: 1, reference: "TRX-0001", on: paid1, by: cw, today: paid1)
        let noVisit = await #expect(throws: PuenteError.self) {
            try await grants.requestTranche(g.id, number: 2, by: sup)
        }
        #expect(noVisit?.message.contains("needs a monitoring visit after tranche 1") == true)
        g = try await grants.visit(
            g.id, business: .operating, on: paid1.adding(days: 30), by: cw, today: paid1.adding(days: 30))
        g = try await grants.requestTranche(g.id, number: 2, by: sup)
        let sameHands = await #expect(throws: PuenteError.self) {
            try await grants.approveTranche(g.id, number: 2, by: sup)
        }
        #expect(sameHands?.message.contains("Four eyes") == true)
        g = try await grants.approveTranche(g.id, number: 2, by: sup2)
        let paid2 = paid1.adding(days: 40)
        g = try await grants.disburse(
            g.id, number: 2, reference: nil, inKind: ["horno", "mostrador"], on: paid2, by: cw, today: paid2)
        await #expect(throws: PuenteError.self) { try await grants.schedule(g.id, tranches: [("1", nil)], by: sup) }

        // Business status at 6 and 12 months after the first disbursement.
        let today = paid1.adding(months: 13)
        g = try await grants.visit(g.id, business: .operating, on: paid1.adding(months: 6), by: cw, today: today)
        g = try await grants.visit(
            g.id, business: .closed, on: paid1.adding(months: 12).adding(days: 20), by: cw, today: today)
        #expect(g.grant.business(atMonths: 6) == .operating && g.grant.business(atMonths: 12) == .closed)

        // The ledger reconciles to the cent with the grants, computed independently.
        let (lines, totals) = try await grants.ledger(by: sup)
        #expect(lines.map(\.tranche) == [1, 2] && lines.map(\.disbursedOn) == [paid1, paid2])
        #expect(lines.map { $0.amount.minorUnits }.reduce(0, +) == 70_025 + 50_025)
        #expect(totals == ["USD": g.grant.disbursed] && totals["USD"]?.description == "1200.50 USD")
        #expect(lines[0].requestedBy == "carla" && lines[0].approvedBy == "sara" && lines[1].approvedBy == "sergio")
        #expect(try await grants.ledger(by: ReintegrationTests.otherOffice).lines.isEmpty)

        // The plan stays sealed, and unchanged by every step since.
        #expect(try await store.caseRecords(caseID: file.id, kind: "grant").first?.content == plan)
        let raw = try await StoreKind.fetchBehindTheStore("SELECT content_sealed FROM case_record", at: location)
        #expect(raw.count == 1 && raw[0]?.contains("Panadería") == false)
        let steps = try await store.caseEntries(caseID: file.id).map(\.kind).filter {
            $0.hasPrefix("grant") || $0.hasPrefix("tranche")
        }
        #expect(
            steps == [
                "grant_applied", "grant_reviewed", "grant_approved", "grant_scheduled", "tranche_requested",
                "tranche_approved", "tranche_disbursed", "grant_visit", "tranche_requested", "tranche_approved",
                "tranche_disbursed", "grant_visit", "grant_visit",
            ])
    }
}
