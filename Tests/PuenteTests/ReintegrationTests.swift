import Foundation
import PuenteAccess
import PuenteCore
import PuenteServices
import PuenteTesting
import Testing

/// Reintegration case management: the case lifecycle and the closed referral loop, on every store.
@Suite("Reintegration: cases, partners and referrals")
struct ReintegrationTests {
    static let office = "SV-CAIM"
    static let cw = Actor(name: "carla", role: .caseWorker, organisation: office)
    static let otherOffice = Actor(name: "oscar", role: .caseWorker, organisation: "SV-SMA")
    static let sup = Actor(name: "sara", role: .supervisor, organisation: office)
    static let sup2 = Actor(name: "sergio", role: .supervisor, organisation: office)
    static let partnerActor = Actor(name: "pablo", role: .partner, organisation: "SV-INSAFORP")
    static let otherPartner = Actor(name: "paula", role: .partner, organisation: "SV-CRUZ")
    static let admin = Actor.commandOperator("cli:test")

    /// A store with three returns and an entry from one import, and the office's accounts.
    func prepared(_ kind: StoreKind) async throws -> (store: any PuenteStore, location: String) {
        let (store, location) = try await kind.makeStoreWithLocation()
        let id = try await store.startImport(
            ImportRequest(profile: "t", agency: "TEST", file: "t.csv", contentHash: "reintegration"))
        _ = try await store.appendCounted(
            [
                Fixtures.event(key: "r1", sex: .female, age: 27, division: "SLV:1217", row: 1),
                Fixtures.event(key: "r2", row: 2), Fixtures.event(key: "r3", row: 3),
                Fixtures.event(key: "e1", type: .entry, row: 4),
            ], to: id)
        try await store.finishImport(id, counts: ImportCounts(read: 4, accepted: 4))
        let access = AccessService(store: store, hasher: PasswordHasher(logCost: 10))
        for actor in [Self.cw, Self.otherOffice, Self.sup, Self.sup2, Self.partnerActor, Self.otherPartner] {
            try await access.createUser(
                username: actor.name, role: actor.role!, password: nil, organisation: actor.organisation,
                by: Self.admin)
        }
        return (store, location)
    }

    func consent(_ store: any PuenteStore, _ key: String, _ purpose: ConsentPurpose, to recipients: [String] = [])
        async throws -> ConsentRecord
    {
        try await ConsentService(store: store).record(
            .init(agency: "TEST", recordKey: key, purpose: purpose.rawValue, recipients: recipients), by: Self.cw)
    }

    @Test(
        "A case moves only along its lifecycle: guards, four eyes, versions, closing and reopening",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func lifecycle(kind: StoreKind) async throws {
        let (store, location) = try await prepared(kind)
        let cases = CaseService(store: store)
        let today = CivilDate(iso: "2016-03-06")!

        // Opening: from a stored return only, once, for the case worker's own office.
        let opened = try await cases.open(
            .init(agency: "TEST", recordKey: "r1", phone: "7777-0000"), by: Self.cw, today: today)
        #expect(opened.status == .registered && opened.version == 1 && opened.office == Self.office)
        #expect(
            opened.profile
                == CaseProfile(
                    arrivalDay: CivilDate(iso: "2016-03-05")!, sex: .female, age: 27,
                    municipality: "SLV:1217", returnedFrom: "MEX", childStatus: .adult))
        await #expect(throws: PuenteError.returnHasCase) {
            try await cases.open(.init(agency: "TEST", recordKey: "r1"), by: Self.cw, today: today)
        }
        let notReturn = await #expect(throws: PuenteError.self) {
            try await cases.open(.init(agency: "TEST", recordKey: "e1"), by: Self.cw, today: today)
        }
        #expect(notReturn?.code == .notFound)
        let elsewhere = await #expect(throws: PuenteError.self) {
            try await cases.open(.init(agency: "TEST", recordKey: "r2", office: "SV-SMA"), by: Self.cw, today: today)
        }
        #expect(elsewhere?.code == .forbidden)
        // Another office's case worker cannot tell the case exists.
        await #expect(throws: PuenteError.noSuchCase) { try await cases.show(opened.id, by: Self.otherOffice) }
        #expect(try await cases.list(by: Self.otherOffice).isEmpty)
        #expect(try await cases.list(by: Self.cw).map(\.id) == [opened.id])

        // An illegal transition names the allowed ones.
        let skipped = await #expect(throws: PuenteError.self) {
            try await cases.move(opened.id, to: .assessed, by: Self.cw, today: today)
        }
        #expect(skipped?.code == .conflict && skipped?.message.contains("screened, closed") == true)
        // Screening needs the consent to reintegration, and the needs found.
        await #expect(throws: PuenteError.self) {
            try await cases.move(
                opened.id, to: .screened, update: .init(vulnerabilities: ["health"]), by: Self.cw, today: today)
        }
        _ = try await consent(store, "r1", .reintegration)
        await #expect(throws: PuenteError.self) {
            try await cases.move(
                opened.id, to: .screened, update: .init(vulnerabilities: ["flu"]), by: Self.cw, today: today)
        }
        var file = try await cases.move(
            opened.id, to: .screened, update: .init(vulnerabilities: ["health", "protection"]), by: Self.cw,
            today: today)
        #expect(file.details.vulnerabilities == [.health, .protection] && file.version == 2)
        await #expect(throws: PuenteError.self) {
            try await cases.move(
                opened.id, to: .assessed, update: .init(skills: "panadería"), by: Self.cw, today: today)
        }
        file = try await cases.move(
            opened.id, to: .assessed, update: .init(skills: "panadería artesanal", intentions: "abrir un negocio"),
            by: Self.cw, today: today)

        // A change made from a stale reading is refused, whoever saved first.
        let stale = file.version
        file = try await cases.move(
            opened.id, readAt: stale, to: .planDrafted, update: .init(plan: "Capital semilla para panadería"),
            by: Self.cw,
            today: today.adding(days: 10))
        await #expect(throws: PuenteError.caseChangedSinceRead) {
            try await cases.move(opened.id, readAt: stale, to: .closed, by: Self.cw, today: today)
        }
        var concurrent = try #require(try await store.caseFile(id: opened.id))
        concurrent.details.notes = "first"
        _ = try await store.saveCase(CaseChange(caseFile: concurrent, entries: []))
        concurrent.details.notes = "second"
        await #expect(throws: PuenteError.caseChangedSinceRead) {
            try await store.saveCase(CaseChange(caseFile: concurrent, entries: []))
        }
        #expect(try await store.caseFile(id: opened.id)?.details.notes == "first")

        // Four eyes: a case worker cannot approve, nor a supervisor their own plan.
        await #expect(throws: PuenteError.self) {
            try await cases.move(opened.id, to: .planApproved, by: Self.cw, today: today)
        }
        try await cases.move(
            opened.id, to: .assessed, update: .init(note: "revisar montos"), by: Self.sup, today: today)
        try await cases.move(
            opened.id, to: .planDrafted, update: .init(plan: "Capital semilla, 2 tramos"), by: Self.sup, today: today)
        let ownPlan = await #expect(throws: PuenteError.self) {
            try await cases.move(opened.id, to: .planApproved, by: Self.sup, today: today)
        }
        #expect(ownPlan?.message.contains("Four eyes") == true)
        file = try await cases.move(opened.id, to: .planApproved, by: Self.sup2, today: today.adding(days: 12))
        #expect(file.workflow.planDraftedBy == "sara" && file.workflow.planApprovedBy == "sergio")
        #expect(file.workflow.day(reached: .planApproved) == today.adding(days: 12))

        // Closing: reintegrated only after a follow-up; reopening resumes where it closed.
        try await cases.move(opened.id, to: .inAssistance, by: Self.cw, today: today)
        await #expect(throws: PuenteError.self) { try await cases.close(opened.id, reason: .reintegrated, by: Self.cw) }
        try await cases.move(opened.id, to: .followUp, by: Self.cw, today: today)
        file = try await cases.close(opened.id, reason: .lostContact, note: "no contesta", by: Self.cw, today: today)
        #expect(file.status == .closed && file.workflow.closure == .lostContact)
        await #expect(throws: PuenteError.self) { try await cases.move(opened.id, to: .followUp, by: Self.cw) }
        file = try await cases.reopen(opened.id, by: Self.cw)
        #expect(file.status == .followUp && file.workflow.reopenings == 1 && file.workflow.closure == nil)
        file = try await cases.close(opened.id, reason: .reintegrated, by: Self.cw, today: today)

        // Assignment is a supervisor's, to an account of the office.
        await #expect(throws: PuenteError.self) { try await cases.assign(opened.id, to: "carla", by: Self.cw) }
        await #expect(throws: PuenteError.self) { try await cases.assign(opened.id, to: "oscar", by: Self.sup) }
        file = try await cases.assign(opened.id, to: "carla", by: Self.sup)
        #expect(file.assignee == "carla")

        // The timeline holds every step in order, notes opened; behind the store they are sealed.
        let view = try await cases.show(opened.id, by: Self.cw)
        #expect(
            view.entries.map(\.kind) == [
                "opened", "status", "status", "status", "status", "status", "status", "status", "status", "closed",
                "reopened", "closed", "assigned",
            ])
        #expect(view.entries.map(\.detail)[1...4] == ["screened", "assessed", "plan_drafted", "assessed"])
        #expect(view.entries.contains { $0.note == "no contesta" })
        let raw = try await StoreKind.fetchBehindTheStore(
            "SELECT details_sealed FROM case_file UNION ALL SELECT note_sealed FROM case_entry", at: location
        ).compactMap { $0 }.joined()
        for clear in ["panadería", "7777", "abrir un negocio", "no contesta", "health"] {
            #expect(!raw.contains(clear), "\(clear) in clear")
        }
        // Every change is in the audit trail, by case id only.
        let trail = try await store.auditEntries(after: 0, limit: 1000)
        #expect(trail.filter { $0.action == "case_status" }.count == 8)
        #expect(trail.contains { $0.action == "read_personal" && $0.target == "case:\(opened.id)" })
        #expect(!trail.contains { $0.target.contains("r1") })
    }

    @Test(
        "Referrals close the loop: consent naming the partner, the partner's decisions, escalation, feedback",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func referralLoop(kind: StoreKind) async throws {
        let (store, _) = try await prepared(kind)
        let cases = CaseService(store: store)
        let referrals = ReferralService(store: store, acknowledgeDays: 3)
        let today = CivilDate(iso: "2016-03-06")!
        try await referrals.register(
            Partner(
                id: "SV-INSAFORP", name: "Instituto Salvadoreño de Formación Profesional",
                services: [.vocationalTraining, .businessDevelopment]), by: Self.sup)
        try await referrals.register(
            Partner(
                id: "SV-CRUZ", name: "Cruz Roja", services: [.health, .psychosocial], municipalities: ["SLV:0614"]),
            by: Self.admin)
        await #expect(throws: PuenteError.self) {
            try await referrals.register(Partner(id: "X", name: "Sin servicios", services: []), by: Self.admin)
        }
        await #expect(throws: PuenteError.self) {
            try await referrals.register(Partner(id: "Y", name: "y", services: [.health]), by: Self.cw)
        }
        let file = try await cases.open(.init(agency: "TEST", recordKey: "r1"), by: Self.cw, today: today)
        let request = ReferralService.Request(
            caseID: file.id, partner: "SV-INSAFORP", service: "vocational_training", fields: ["given_names", "phone"])

        // No consent naming the partner: refused, unless a supervisor overrides with a reason.
        let refused = await #expect(throws: PuenteError.self) {
            try await referrals.refer(request, by: Self.cw, today: today)
        }
        #expect(refused?.message.contains("consent") == true)
        _ = try await consent(store, "r1", .referral, to: ["SV-CRUZ"])
        await #expect(throws: PuenteError.self) { try await referrals.refer(request, by: Self.cw, today: today) }
        // Services and coverage are the partner's.
        var wrong = request
        wrong.service = "health"
        await #expect(throws: PuenteError.self) { try await referrals.refer(wrong, by: Self.cw, today: today) }
        wrong = ReferralService.Request(caseID: file.id, partner: "SV-CRUZ", service: "health", fields: ["phone"])
        let outside = await #expect(throws: PuenteError.self) {
            try await referrals.refer(wrong, by: Self.cw, today: today)
        }
        #expect(outside?.message.contains("municipality") == true)
        var withOverride = request
        withOverride.override = "riesgo inmediato"
        await #expect(throws: PuenteError.self) { try await referrals.refer(withOverride, by: Self.cw, today: today) }
        let overridden = try await referrals.refer(withOverride, by: Self.sup, today: today)
        #expect(overridden.consentID == nil && overridden.overriddenBy == "sara")
        #expect(
            try await store.auditEntries(after: 0, limit: 1000).contains {
                $0.action == "referral_consent_override" && $0.purpose == "riesgo inmediato"
            })
        try await referrals.update(overridden.id, to: .cancelled, reason: "not_needed", by: Self.cw, today: today)

        // With consent naming the partner.
        let given = try await consent(store, "r2", .referral, to: ["SV-INSAFORP"])
        let second = try await cases.open(.init(agency: "TEST", recordKey: "r2"), by: Self.cw, today: today)
        var referral = try await referrals.refer(
            .init(
                caseID: second.id, partner: "SV-INSAFORP", service: "vocational_training",
                fields: ["given_names", "phone", "skills"]), by: Self.cw, today: today)
        #expect(referral.consentID == given.id && referral.status == .requested)
        #expect(referral.acknowledgeBy == today.adding(days: 3))
        await #expect(throws: PuenteError.self) {
            try await referrals.refer(
                .init(caseID: second.id, partner: "SV-INSAFORP", service: "vocational_training", fields: ["phone"]),
                by: Self.cw, today: today)
        }

        // Unacknowledged past its day, it escalates once.
        #expect(try await referrals.escalate(by: Self.sup, today: today.adding(days: 3)).isEmpty)
        #expect(try await referrals.escalate(by: Self.sup, today: today.adding(days: 4)).map(\.id) == [referral.id])
        #expect(try await referrals.escalate(by: Self.sup, today: today.adding(days: 5)).isEmpty)

        // The partner sees its own referral, and only the fields it names.
        #expect(try await referrals.inbox(by: Self.partnerActor).map(\.id) == [overridden.id, referral.id])
        #expect(try await referrals.inbox(by: Self.otherPartner).isEmpty)
        await #expect(throws: PuenteError.noSuchReferral) {
            try await referrals.referredCase(referral.id, by: Self.otherPartner)
        }
        let seen = try await referrals.referredCase(referral.id, by: Self.partnerActor)
        #expect(Set(seen.fields.keys) == ["given_names"])  // no phone or skills were recorded
        #expect(seen.fields["given_names"] == "Ana María")

        // The partner's decisions, in order, with reasons where a closing needs one.
        await #expect(throws: PuenteError.self) {
            try await referrals.update(referral.id, to: .cancelled, reason: "not_needed", by: Self.partnerActor)
        }
        referral = try await referrals.update(
            referral.id, to: .received, by: Self.partnerActor, today: today.adding(days: 5))
        await #expect(throws: PuenteError.self) {
            try await referrals.update(referral.id, to: .completed, reason: "delivered", by: Self.partnerActor)
        }
        referral = try await referrals.update(
            referral.id, to: .accepted, by: Self.partnerActor, today: today.adding(days: 6))
        referral = try await referrals.update(
            referral.id, to: .inProgress, by: Self.partnerActor, today: today.adding(days: 8))
        let noReason = await #expect(throws: PuenteError.self) {
            try await referrals.update(referral.id, to: .completed, by: Self.partnerActor)
        }
        #expect(noReason?.message.contains("delivered, partially_delivered") == true)
        await #expect(throws: PuenteError.self) {
            try await referrals.update(referral.id, to: .completed, reason: "no_capacity", by: Self.partnerActor)
        }
        referral = try await referrals.update(
            referral.id, to: .completed, reason: "delivered", note: "curso terminado", by: Self.partnerActor,
            today: today.adding(days: 40))
        #expect(referral.reason == .delivered && referral.day(reached: .completed) == today.adding(days: 40))
        #expect(
            referral.day(reached: .received) == today.adding(days: 5) && referral.escalatedOn == today.adding(days: 4))
        // Closed: the partner keeps the referral's record, not the person's fields.
        #expect(try await referrals.referredCase(referral.id, by: Self.partnerActor).fields.isEmpty)

        // The returnee's word at the follow-up.
        await #expect(throws: PuenteError.self) {
            try await referrals.feedback(referral.id, received: true, usefulness: 9, by: Self.cw)
        }
        referral = try await referrals.feedback(
            referral.id, received: true, usefulness: 4, by: Self.cw, today: today.adding(days: 60))
        #expect(
            referral.feedback == ReferralFeedback(received: true, usefulness: 4, recordedOn: today.adding(days: 60)))

        // The case's timeline tells the whole loop.
        let kinds = try await store.caseEntries(caseID: second.id).map(\.kind)
        #expect(
            kinds == [
                "opened", "referral_requested", "referral_escalated", "referral_status", "referral_status",
                "referral_status", "referral_status", "referral_feedback",
            ])
    }

    @Test(
        "Withdrawing referral consent cancels the open referrals under it and the partner's access at once",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func withdrawalCancels(kind: StoreKind) async throws {
        let (store, _) = try await prepared(kind)
        let cases = CaseService(store: store)
        let referrals = ReferralService(store: store)
        try await referrals.register(
            Partner(id: "SV-INSAFORP", name: "INSAFORP", services: [.vocationalTraining, .jobPlacement]), by: Self.admin
        )
        let file = try await cases.open(.init(agency: "TEST", recordKey: "r3"), by: Self.cw)
        let consent = try await consent(store, "r3", .referral, to: ["INSAFORP"])  // by the partner's name
        let training = try await referrals.refer(
            .init(caseID: file.id, partner: "SV-INSAFORP", service: "vocational_training", fields: ["given_names"]),
            by: Self.cw)
        var jobs = try await referrals.refer(
            .init(caseID: file.id, partner: "SV-INSAFORP", service: "job_placement", fields: ["given_names"]),
            by: Self.cw)
        jobs = try await referrals.update(jobs.id, to: .accepted, by: Self.partnerActor)
        jobs = try await referrals.update(jobs.id, to: .completed, reason: "partially_delivered", by: Self.partnerActor)
        #expect(
            try await referrals.referredCase(training.id, by: Self.partnerActor).fields["given_names"] == "Ana María")

        try await ConsentService(store: store).withdraw(id: consent.id, by: Self.cw)
        let cancelled = try #require(try await store.referral(id: training.id))
        #expect(
            cancelled.status == .cancelled && cancelled.reason == .consentWithdrawn
                && cancelled.version == training.version + 1)
        // A referral already closed keeps its outcome.
        #expect(try await store.referral(id: jobs.id)?.status == .completed)
        #expect(try await referrals.referredCase(training.id, by: Self.partnerActor).fields.isEmpty)
        await #expect(throws: PuenteError.self) {
            try await referrals.update(training.id, to: .accepted, by: Self.partnerActor)
        }
        let entries = try await store.caseEntries(caseID: file.id)
        #expect(entries.last?.kind == "referral_status" && entries.last?.detail == "cancelled consent_withdrawn")
        #expect(entries.last?.referralID == training.id)
    }

    @Test(
        "Case details are resealed when keys rotate, and erased with the person's data",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func sealedKeysAndErasure(kind: StoreKind) async throws {
        let (store, location) = try await prepared(kind)
        let cases = CaseService(store: store)
        let file = try await cases.open(.init(agency: "TEST", recordKey: "r1", phone: "7777-0000"), by: Self.cw)
        _ = try await consent(store, "r1", .reintegration)
        try await cases.move(
            file.id, to: .screened, update: .init(vulnerabilities: ["none"], note: "llegó sola"), by: Self.cw)
        try await cases.move(
            file.id, to: .assessed, update: .init(skills: "costura", intentions: "quedarse"), by: Self.cw)

        let oldKey = Data(repeating: 7, count: 32).base64EncodedString()
        let newKey = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let rotated = try StoreKind.reopen(location, cipher: try Keyring.parse("active k2; t1 \(oldKey); k2 \(newKey)"))
        // The four events, the case's details and its one note.
        #expect(try await rotated.resealPersonalData(batchSize: 1) == 6)
        let newOnly = try StoreKind.reopen(location, cipher: try Keyring.parse("active k2; k2 \(newKey)"))
        try await newOnly.checkKeys()
        let reread = try #require(try await newOnly.caseFile(id: file.id))
        #expect(
            reread.details.skills == "costura" && reread.details.vulnerabilities == []
                && reread.details.phone == "7777-0000")
        #expect(try await newOnly.caseEntries(caseID: file.id).contains { $0.note == "llegó sola" })
        await #expect(throws: PuenteError.self) { try await store.caseFile(id: file.id) }  // the old key alone

        // Erasure: what the case said about the person goes; its codes and dates stay for the figures.
        _ = try await newOnly.erasePersonalData(agency: "TEST", recordKeys: ["r1"])
        let erased = try #require(try await newOnly.caseFile(id: file.id))
        #expect(erased.details == CaseDetails() && erased.status == .assessed && erased.profile.sex == .female)
        #expect(try await newOnly.caseEntries(caseID: file.id).allSatisfy { $0.note == nil })
    }

    @Test("The case tables' SQL numbers its placeholders in order of first use, as SQLite binds them")
    func placeholderOrder() {
        var statements = [
            CaseRows.insertCase, CaseRows.updateCase, CaseRows.caseIDForReturn, CaseRows.insertReferral,
            CaseRows.updateReferral, CaseRows.openReferralsUnderConsent, CaseRows.insertEntry, CaseRows.selectEntries,
            CaseRows.eraseDetails, CaseRows.eraseNotes, CaseRows.selectRecordByID, CaseRows.updateRecord,
            CaseRows.caseSelect(CaseQuery(office: "o", assignee: "a", statuses: [.closed, .screened], ids: [1, 2])).sql,
            CaseRows.referralSelect(ReferralQuery(caseID: 1, partner: "p", statuses: [.requested])).sql,
        ]
        statements += CaseRows.sealedColumns.flatMap { [$0.select, $0.update] }
        for sql in statements {
            let numbers = sql.matches(of: /\$(\d+)/).map { Int($0.output.1)! }
            var firstUse: [Int] = []
            for n in numbers where !firstUse.contains(n) { firstUse.append(n) }
            #expect(firstUse == firstUse.indices.map { $0 + 1 }, "\(sql)")
        }
    }
}

@Suite("Reintegration: registering a return on the reception form")
struct ReceptionTests {
    @Test(
        "A return entered on the form is stored through its register's profile and opens the case; a refused form stores nothing",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func registerOnTheForm(kind: StoreKind) async throws {
        let store = try await kind.makeStore()
        let cw = Actor(name: "carla", role: .caseWorker, country: "SLV", organisation: "SV-CAIM")
        try await AccessService(store: store, hasher: PasswordHasher(logCost: 10)).createUser(
            username: cw.name, role: .caseWorker, password: nil, country: "SLV", organisation: cw.organisation,
            by: .commandOperator("cli:test"))
        let reception = ReceptionService(store: store)
        #expect(ReceptionService.registers(country: "SLV").map(\.id) == ["sv-dgme-retornos"])
        let today = CivilDate(iso: "2026-11-20")!
        var arrival = ReceptionService.Arrival(
            recordKey: "CAIM-2026-0001", arrivedOn: CivilDate(iso: "2026-11-19")!, givenNames: "Ana María",
            firstSurname: "Pérez", secondSurname: "López", sex: "F", birthDate: CivilDate(iso: "1994-02-10")!,
            municipality: "SV-1217", returnedFrom: "USA", transportMode: "AIR", returnType: "DEPORTATION",
            place: "SV-RC_AIRPORT_SAL", documentType: "NATIONAL_ID", documentNumber: "01234567-8", phone: "7777-1234")

        // Refused by the profile's own rules (a birth after the arrival), naming the form's field: nothing stored.
        var wrong = arrival
        wrong.birthDate = CivilDate(iso: "2026-11-25")!
        let refused = await #expect(throws: PuenteError.self) {
            try await reception.register(wrong, in: "sv-dgme-retornos", by: cw, today: today)
        }
        #expect(refused?.message.contains("birthDate") == true, "\(refused?.message ?? "")")
        #expect(try await store.imports(limit: 10).isEmpty)
        // A register of another country, or one that does not hold returns, is refused by name.
        for register in ["gt-igm-retornos", "sv-dgme-movimientos"] {
            await #expect(throws: PuenteError.self) {
                try await reception.register(arrival, in: register, by: cw, today: today)
            }
        }
        #expect(try await store.imports(limit: 10).isEmpty)

        let opened = try await reception.register(arrival, in: "sv-dgme-retornos", by: cw, today: today)
        #expect(opened.status == .registered && opened.office == "SV-CAIM" && opened.assignee == "carla")
        #expect(opened.subject == ConsentSubject(agency: "SV-DGME", recordKey: "sv-dgme-retornos:CAIM-2026-0001"))
        #expect(
            opened.profile
                == CaseProfile(
                    arrivalDay: arrival.arrivedOn, sex: .female, age: 32, municipality: "SV-1217",
                    returnedFrom: "USA", childStatus: .adult))
        // Its own committed batch of one row, named without the person, counted like any import.
        let batches = try await store.imports(limit: 10)
        #expect(batches.count == 1 && batches[0].status == .committed && batches[0].counts.accepted == 1)
        #expect(batches[0].request.file.hasPrefix("reception-form SV-CAIM "))
        let stored = try await store.events(importID: batches[0].id, limit: 10)
        #expect(stored.count == 1)
        #expect(stored[0].person.givenNames == "Ana María" && stored[0].person.surnames == "Pérez López")
        #expect(stored[0].person.documentNumber == "01234567-8" && stored[0].place == "SV-RC_AIRPORT_SAL")
        #expect(stored[0].returnDetails?.returnType == .deportation)
        let view = try await CaseService(store: store).show(opened.id, by: cw)
        #expect(view.person?.givenNames == "Ana María" && view.caseFile.details.phone == "7777-1234")

        // The same number again is refused before anything is stored.
        arrival.givenNames = "Otra"
        let twice = await #expect(throws: PuenteError.self) {
            try await reception.register(arrival, in: "sv-dgme-retornos", by: cw, today: today)
        }
        #expect(twice?.code == .conflict)
        #expect(try await store.imports(limit: 10).count == 1)
        try await store.close()
    }
}
