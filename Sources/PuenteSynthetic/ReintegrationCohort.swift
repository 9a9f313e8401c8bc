import Foundation
import PuenteCore
import PuenteReintegration

/// A reintegration programme's year, generated over a country's generated returns: which returnees
/// entered the programme, and every step of their cases (consent, screening, plans, referrals to
/// partners and what each partner delivered, seed grants and their tranches, surveys at baseline and
/// follow-ups), as the actions `puente cases load` replays through Puente's services, with the truth.
///
/// Calibration (assumptions, documented in docs/reintegration.md): a share of the year's registered
/// returns enters the programme (El Salvador 4 %, Guatemala 2 %, Honduras 3 %: hundreds to a few
/// thousand cases a year); partners deliver at known, different rates; wellbeing starts low and rises
/// with each service delivered.
struct ReintegrationCohort {
    let scenario: Scenario
    let options: GeneratorOptions
    let instrument: SurveyInstrument

    static let programmeShare: [String: Double] = ["SV": 0.04, "GT": 0.02, "HN": 0.03]

    /// A partner as generated: what it offers, how often it delivers, how slowly it acknowledges.
    struct PartnerPlan {
        var partner: Partner
        var delivery: Double
        /// Days to acknowledge, drawn uniformly up to this.
        var acknowledgeDays: Int
    }

    var office: String { "\(scenario.alpha2)-REINT" }
    var currency: String { ["SV": "USD", "GT": "GTQ", "HN": "HNL"][scenario.alpha2] ?? "USD" }
    /// A grant's size in the local currency (El Salvador's programmes grant about 1,000–2,000 USD).
    var grantUnit: Int { ["SV": 100, "GT": 800, "HN": 2_500][scenario.alpha2] ?? 100 }

    var partners: [PartnerPlan] {
        let a = scenario.alpha2
        return [
            PartnerPlan(
                partner: Partner(
                    id: "\(a)-FORMA", name: "Centro de Formación", services: [.vocationalTraining, .jobPlacement]),
                delivery: 0.85, acknowledgeDays: 4),
            PartnerPlan(
                partner: Partner(id: "\(a)-SALUD", name: "Red de Salud", services: [.health, .psychosocial]),
                delivery: 0.9, acknowledgeDays: 3),
            PartnerPlan(
                partner: Partner(id: "\(a)-EMPRENDE", name: "Emprende", services: [.businessDevelopment]),
                delivery: 0.75, acknowledgeDays: 5),
            PartnerPlan(
                partner: Partner(id: "\(a)-LEGAL", name: "Asistencia Legal", services: [.legal, .documents]),
                delivery: 0.8, acknowledgeDays: 6),
            PartnerPlan(
                partner: Partner(id: "\(a)-ALBERGUE", name: "Albergue", services: [.shelter, .familyReunification]),
                delivery: 0.6, acknowledgeDays: 12),
        ]
    }

    var staff: [CaseStaff] {
        let a = scenario.alpha2.lowercased()
        return (1...4).map { CaseStaff(username: "\(a)-cw\($0)", role: .caseWorker, organisation: office) }
            + (1...2).map { CaseStaff(username: "\(a)-sup\($0)", role: .supervisor, organisation: office) }
            + partners.map {
                CaseStaff(
                    username: "\(a)-p-\($0.partner.id.split(separator: "-").last!.lowercased())", role: .partner,
                    organisation: $0.partner.id)
            }
    }

    /// One case's truth.
    struct Truth {
        var recordKey: String
        var status: CaseStatus
        var closure: ClosureReason?
        var planApproved: CivilDate?
        var arrival: CivilDate
        var referrals: [(partner: String, status: ReferralStatus, reason: ReferralReason?, escalated: Bool)]
        var grantDisbursed: Int64
        var surveys: Int
        var assistanceStart: CivilDate? = nil
        var closedOn: CivilDate? = nil
        var followUpDays: [CivilDate] = []
    }

    /// Writes `reintegration/` (staff, partners, actions) and `truth/reintegration-*.csv`.
    /// `register` prefixes the register's record ids as ingest stores them (`register:id`).
    func write(to dir: URL, returnsTruth: URL, agency: String, register: String) throws -> (cases: Int, actions: Int) {
        let rows = try Self.acceptedReturns(returnsTruth).map {
            ($0.key.isEmpty ? $0.key : "\(register):\($0.key)", $0.day, $0.age)
        }
        var rng = RandomSource(seed: options.seed &* 0x5EED_CA5E &+ UInt64(options.year))
        let share = Self.programmeShare[scenario.alpha2] ?? 0.03
        var actions: [CaseAction] = []
        var truths: [Truth] = []
        for row in rows where rng.chance(share) {
            var caseRNG = RandomSource(seed: rng.next())
            let (steps, truth) = simulate(row, agency: agency, &caseRNG)
            actions += steps
            truths.append(truth)
        }
        // Chronological, each case's steps in their order (a stable sort keeps it).
        let ordered = actions.enumerated().sorted { ($0.element.day, $0.offset) < ($1.element.day, $1.offset) }.map(
            \.element)
        let folder = dir.appendingPathComponent("reintegration")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var lines = ""
        for action in ordered { lines += String(decoding: try encoder.encode(action), as: UTF8.self) + "\n" }
        try lines.write(to: folder.appendingPathComponent("actions.jsonl"), atomically: true, encoding: .utf8)
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(staff).write(to: folder.appendingPathComponent("staff.json"))
        try encoder.encode(partners.map(\.partner)).write(to: folder.appendingPathComponent("partners.json"))
        var cases =
            "record_key,arrival,status,closure,plan_approved,grant_disbursed_minor,surveys,assistance_start,closed_on,followup_days\n"
        var referrals = "record_key,number,partner,status,reason,escalated\n"
        for t in truths {
            cases += CSVWriter.line([
                t.recordKey, t.arrival.description, t.status.rawValue, t.closure?.rawValue ?? "",
                t.planApproved?.description ?? "", String(t.grantDisbursed), String(t.surveys),
                t.assistanceStart?.description ?? "", t.closedOn?.description ?? "",
                t.followUpDays.map(\.description).joined(separator: ";"),
            ])
            for (i, r) in t.referrals.enumerated() {
                referrals += CSVWriter.line([
                    t.recordKey, String(i + 1), r.partner, r.status.rawValue, r.reason?.rawValue ?? "",
                    r.escalated ? "1" : "0",
                ])
            }
        }
        try cases.write(
            to: dir.appendingPathComponent("truth/reintegration-cases.csv"), atomically: true, encoding: .utf8)
        try referrals.write(
            to: dir.appendingPathComponent("truth/reintegration-referrals.csv"), atomically: true, encoding: .utf8)
        return (truths.count, ordered.count)
    }

    /// The returns ingest accepts, from the generator's truth: key, day, age.
    static func acceptedReturns(_ url: URL) throws -> [(key: String, day: CivilDate, age: Int)] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 10, f[9].isEmpty, !f[1].isEmpty, let day = CivilDate(iso: f[4]), let age = Int(f[6])
            else { return nil }
            return (f[1], day, age)
        }
    }

    // MARK: One case

    private func simulate(_ row: (key: String, day: CivilDate, age: Int), agency: String, _ rng: inout RandomSource)
        -> ([CaseAction], Truth)
    {
        let a = scenario.alpha2.lowercased()
        let worker = "\(a)-cw\(rng.int(1...4))"
        let (sup1, sup2) = rng.chance(0.5) ? ("\(a)-sup1", "\(a)-sup2") : ("\(a)-sup2", "\(a)-sup1")
        // The programme's records close with the following year.
        let horizon = CivilDate(year: options.year + 1, month: 12, day: 31)!
        var out: [CaseAction] = []
        var day = row.day
        func act(
            _ op: CaseAction.Op, by actor: String? = nil, after days: ClosedRange<Int> = 0...0,
            _ fill: (inout CaseAction) -> Void = { _ in }
        )
            -> Bool
        {
            let next = day.adding(days: rng.int(days))
            guard next <= horizon else { return false }
            day = next
            var action = CaseAction(day: day, actor: actor ?? worker, op: op, agency: agency, recordKey: row.key)
            fill(&action)
            out.append(action)
            return true
        }
        var truth = Truth(
            recordKey: row.key, status: .registered, closure: nil, planApproved: nil, arrival: row.day, referrals: [],
            grantDisbursed: 0, surveys: 0)
        _ = act(.open, after: 0...2) {
            $0.to = office
            $0.phone = "7\(rng.int(100...999))-\(rng.int(1000...9999))"
        }
        guard rng.chance(0.93) else {
            _ = act(.close, after: 1...5) { $0.to = ClosureReason.declined.rawValue }
            truth.status = .closed
            truth.closure = .declined
            return (out, truth)
        }
        _ = act(.consent) { $0.purpose = ConsentPurpose.reintegration.rawValue }
        // Screening: the needs found.
        var needs: [Vulnerability] = []
        if row.age < 18 { needs.append(rng.chance(0.45) ? .unaccompaniedChild : .separatedChild) }
        if rng.chance(0.10) { needs.append(.health) }
        if rng.chance(0.08) { needs.append(.mentalHealth) }
        if rng.chance(0.06) { needs.append(.protection) }
        _ = act(.move, after: 0...3) {
            $0.to = CaseStatus.screened.rawValue
            $0.vulnerabilities = needs.isEmpty ? ["none"] : needs.map(\.rawValue)
        }
        truth.status = .screened
        // Wellbeing per dimension, low at first; each delivered service raises it.
        var wellbeing = ReintegrationDimension.allCases.map { _ in min(0.9, max(0.05, 0.35 + 0.12 * normal(&rng))) }
        _ = act(.survey, after: 0...2) {
            $0.occasion = "baseline"
            $0.mode = "visit"
            $0.answers = answers(wellbeing, &rng)
        }
        truth.surveys += 1
        let business = row.age >= 18 && rng.chance(0.35)
        guard
            act(
                .move, after: 2...10,
                {
                    $0.to = CaseStatus.assessed.rawValue; $0.skills = business ? "oficio y comercio" : "oficio";
                    $0.intentions = business ? "abrir un negocio" : "conseguir empleo"
                })
        else {
            return (out, truth)
        }
        truth.status = .assessed
        guard
            act(
                .move, after: 2...12,
                {
                    $0.to = CaseStatus.planDrafted.rawValue;
                    $0.plan = business ? "Capital semilla y formación" : "Formación y empleo"
                }),
            act(.move, by: sup1, after: 1...14, { $0.to = CaseStatus.planApproved.rawValue })
        else { return (out, truth) }
        truth.status = .planApproved
        truth.planApproved = day
        guard act(.move, after: 0...5, { $0.to = CaseStatus.inAssistance.rawValue }) else { return (out, truth) }
        truth.status = .inAssistance
        let start = day

        // Referrals, each to a partner offering the service, under consent naming them (or an override).
        var services: [ServiceKind] = [business ? .businessDevelopment : .vocationalTraining]
        if needs.contains(.health) || needs.contains(.mentalHealth) {
            services.append(rng.chance(0.5) ? .health : .psychosocial)
        }
        if needs.contains(.protection) || needs.contains(.unaccompaniedChild) { services.append(.familyReunification) }
        if rng.chance(0.25) { services.append(.documents) }
        let chosen = services.map { s in partners.first { $0.partner.services.contains(s) }! }
        let withConsent = rng.chance(0.92)
        if withConsent {
            _ = act(.consent) {
                $0.purpose = ConsentPurpose.referral.rawValue
                $0.recipients = Array(Set(chosen.map(\.partner.id))).sorted()
            }
        }
        /// Referrals closed by the partner, and the day: the returnee is asked about them at the next follow-up.
        var pendingFeedback: [(number: Int, closedOn: CivilDate)] = []
        for (i, (service, plan)) in zip(services, chosen).enumerated() {
            let number = i + 1
            let referDay = start.adding(days: rng.int(0...10))
            guard referDay <= horizon else { break }
            out.append(
                with(
                    CaseAction(
                        day: referDay, actor: withConsent ? worker : sup2, op: .refer, agency: agency,
                        recordKey: row.key)
                ) {
                    $0.referral = number
                    $0.partner = plan.partner.id
                    $0.service = service.rawValue
                    $0.fields = ["given_names", "surnames", "phone", "municipality"]
                    if !withConsent { $0.override = "urgencia: sin medio para recabar el consentimiento a tiempo" }
                })
            let partnerAccount = staff.first { $0.organisation == plan.partner.id }!.username
            var step = referDay
            var statuses: [(ReferralStatus, ReferralReason?)] = []
            let ack = rng.int(1...plan.acknowledgeDays)
            step = step.adding(days: ack)
            statuses.append((.received, nil))
            if rng.chance(0.08) {
                statuses.append((.rejected, .noCapacity))
            } else {
                statuses.append((.accepted, nil))
                statuses.append((.inProgress, nil))
                statuses.append(rng.chance(plan.delivery) ? (.completed, .delivered) : (.failed, .unreachable))
            }
            var reached: (ReferralStatus, ReferralReason?) = (.requested, nil)
            var stepDay = step
            for (k, (status, reason)) in statuses.enumerated() {
                if k > 0 {
                    stepDay = stepDay.adding(
                        days: status == .completed || status == .failed ? rng.int(15...60) : rng.int(1...5))
                }
                guard stepDay <= horizon else { break }
                out.append(
                    with(
                        CaseAction(
                            day: stepDay, actor: partnerAccount, op: .referral, agency: agency, recordKey: row.key)
                    ) {
                        $0.referral = number
                        $0.to = status.rawValue
                        $0.reason = reason?.rawValue
                    })
                reached = (status, reason)
            }
            // Escalated when not acknowledged within the five days a referral gives, checked daily.
            let escalated = ack > 5
            truth.referrals.append((plan.partner.id, reached.0, reached.1, escalated))
            if reached.0 == .completed { wellbeing = wellbeing.map { min(0.97, $0 + 0.08 + 0.04 * normal(&rng)) } }
            if reached.0 == .completed || reached.0 == .failed { pendingFeedback.append((number, stepDay)) }
        }
        // A seed grant for business plans: two tranches, a visit before the second.
        if business {
            var g = day
            func grantStep(
                _ op: CaseAction.Op, by actor: String, after days: ClosedRange<Int>,
                _ fill: (inout CaseAction) -> Void = { _ in }
            ) -> Bool {
                g = g.adding(days: rng.int(days))
                guard g <= horizon else { return false }
                out.append(with(CaseAction(day: g, actor: actor, op: op, agency: agency, recordKey: row.key), fill))
                return true
            }
            g = start
            let requested = rng.int(10...20) * grantUnit
            let approved = rng.chance(0.85) ? requested - rng.int(0...2) * grantUnit / 2 : 0
            let first = approved * 6 / 10
            let tranches = [first, approved - first]
            var paid: Int64 = 0
            if grantStep(
                .grantApply, by: worker, after: 5...20,
                {
                    $0.amount = "\(requested)"; $0.currency = currency; $0.plan = "Negocio: compra de equipo e insumos"
                }),
                grantStep(.grantReview, by: sup1, after: 3...10, { $0.score = rng.int(40...95) }),
                grantStep(
                    .grantDecide, by: sup2, after: 1...7,
                    {
                        if approved > 0 { $0.amount = "\(approved)" } else { $0.reason = "plan de negocio sin mercado" }
                    }), approved > 0,
                grantStep(.grantSchedule, by: sup1, after: 0...2, { $0.tranches = tranches.map(String.init) })
            {
                for (i, amount) in tranches.enumerated() {
                    if i > 0 {
                        guard
                            grantStep(
                                .grantVisit, by: worker, after: 20...40,
                                { $0.business = Grant.BusinessStatus.operating.rawValue })
                        else { break }
                    }
                    guard grantStep(.trancheRequest, by: worker, after: 1...5, { $0.tranche = i + 1 }),
                        grantStep(.trancheApprove, by: i == 0 ? sup2 : sup1, after: 1...3, { $0.tranche = i + 1 }),
                        grantStep(
                            .trancheDisburse, by: worker, after: 1...7,
                            {
                                $0.tranche = i + 1; $0.reference = "TRX-\(rng.int(100_000...999_999))"
                            })
                    else { break }
                    paid += Int64(amount) * 100
                }
                for months in [6, 12] {
                    let business: Grant.BusinessStatus =
                        rng.chance(0.7) ? .operating : (rng.chance(0.5) ? .struggling : .closed)
                    let visitDay = start.adding(months: months)
                    if visitDay <= horizon, visitDay > g {
                        g = visitDay
                        out.append(
                            with(CaseAction(day: g, actor: worker, op: .grantVisit, agency: agency, recordKey: row.key))
                            { $0.business = business.rawValue })
                    }
                }
            }
            truth.grantDisbursed = paid
        }
        // Follow-ups at 3, 6 and 12 months after assistance started: some rounds reach nobody (tried
        // again at the next), some people are lost or re-migrate.
        day = start
        truth.assistanceStart = start
        var followed = false
        for months in [3, 6, 12] {
            let due = start.adding(months: months).adding(days: rng.int(-5...10))
            guard due <= horizon, due >= day else { break }
            day = due
            if months != 12, rng.chance(0.12) { continue }
            if rng.chance(0.07) {
                out.append(
                    with(CaseAction(day: day, actor: worker, op: .close, agency: agency, recordKey: row.key)) {
                        $0.to = ClosureReason.lostContact.rawValue
                    })
                truth.status = .closed
                truth.closure = .lostContact
                truth.closedOn = day
                break
            }
            if !followed {
                out.append(
                    with(CaseAction(day: day, actor: worker, op: .move, agency: agency, recordKey: row.key)) {
                        $0.to = CaseStatus.followUp.rawValue
                    })
                truth.status = .followUp
                followed = true
            }
            wellbeing = wellbeing.map { min(0.97, max(0.03, $0 + 0.03 + 0.05 * normal(&rng))) }
            out.append(
                with(CaseAction(day: day, actor: worker, op: .survey, agency: agency, recordKey: row.key)) {
                    $0.occasion = "follow_up"
                    $0.mode = rng.chance(0.6) ? "phone" : "visit"
                    $0.answers = answers(wellbeing, &rng)
                })
            truth.surveys += 1
            truth.followUpDays.append(day)
            for (number, _) in pendingFeedback.filter({ $0.closedOn <= day }) {
                out.append(
                    with(CaseAction(day: day, actor: worker, op: .feedback, agency: agency, recordKey: row.key)) {
                        let outcome = truth.referrals[number - 1].status
                        $0.referral = number
                        $0.received = outcome == .completed ? rng.chance(0.93) : rng.chance(0.1)
                        $0.usefulness = $0.received == true ? rng.int(2...5) : nil
                    })
            }
            pendingFeedback.removeAll { $0.closedOn <= day }
            if months == 12 {
                let reason: ClosureReason = rng.chance(0.06) ? .remigrated : .reintegrated
                out.append(
                    with(CaseAction(day: day, actor: worker, op: .close, agency: agency, recordKey: row.key)) {
                        $0.to = reason.rawValue
                    })
                truth.status = .closed
                truth.closure = reason
                truth.closedOn = day
            }
        }
        return (out, truth)
    }

    /// Answers drawn around the person's wellbeing per dimension: each question's answer index near
    /// wellbeing × (answers − 1), with noise.
    private func answers(_ wellbeing: [Double], _ rng: inout RandomSource) -> [String: String] {
        var out: [String: String] = [:]
        for q in instrument.questions {
            guard let d = instrument.indicator(q.indicator)?.dimension,
                let level = ReintegrationDimension.allCases.firstIndex(of: d).map({ wellbeing[$0] })
            else { continue }
            if q.id == "school" || q.id == "children_documents", rng.chance(0.5) { continue }  // no children
            let position = Int((level * Double(q.answers.count - 1) + 0.6 * normal(&rng)).rounded())
            out[q.id] = q.answers[min(q.answers.count - 1, max(0, position))]
        }
        return out
    }

    private func normal(_ rng: inout RandomSource) -> Double {
        let (u1, u2) = (max(rng.unit(), 1e-12), rng.unit())
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    private func with(_ action: CaseAction, _ fill: (inout CaseAction) -> Void) -> CaseAction {
        var action = action
        fill(&action)
        return action
    }
}
