import Foundation
import PuenteAccess
import PuenteCore
import PuenteReintegration
import PuenteServices
import PuenteTesting
import Testing

/// The sustainability survey: instruments and weight tables checked, scores' properties, and surveys
/// and follow-ups on every store.
@Suite("Reintegration: sustainability survey and follow-ups")
struct SustainabilityTests {
    let instrument: SurveyInstrument
    let weights: WeightTable

    init() throws {
        instrument = try SustainabilitySurvey.defaultInstrument()
        weights = try SustainabilitySurvey.defaultWeights(for: instrument)
    }

    /// Random complete answers, seeded.
    func randomAnswers(_ rng: inout SplitMix64, skip: Double = 0) -> [String: String] {
        var answers: [String: String] = [:]
        for q in instrument.questions where skip == 0 || rng.unit() >= skip {
            answers[q.id] = q.answers[Int(rng.next() % UInt64(q.answers.count))]
        }
        return answers
    }

    @Test("The shipped instrument has 15 indicators over three dimensions; its weights are labelled unofficial")
    func shipped() {
        #expect(instrument.indicators.count == 15)
        #expect(
            Dictionary(grouping: instrument.indicators, by: \.dimension).mapValues(\.count) == [
                .economic: 5, .social: 5, .psychosocial: 5,
            ])
        #expect(!weights.official && weights.note.hasPrefix("UNOFFICIAL") && weights.cutoff == 0.66)
        // Every answer reads in both languages on the survey form.
        for answer in Set(instrument.questions.flatMap(\.answers)) {
            #expect(instrument.answerLabels?[answer]?["es"]?.isEmpty == false, "\(answer) has no Spanish label")
            #expect(instrument.answerLabels?[answer]?["en"]?.isEmpty == false, "\(answer) has no English label")
        }
    }

    @Test("A weight table that does not sum correctly, or misses or invents an indicator, is refused by name")
    func weightTablesChecked() throws {
        func refusal(_ edit: (inout [String: Any]) -> Void) throws -> String {
            var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(weights)) as! [String: Any]
            edit(&object)
            let data = try JSONSerialization.data(withJSONObject: object)
            do {
                _ = try WeightTable.load(data, source: "w.json", for: instrument)
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(try refusal { _ in } == "accepted")
        let sums = try refusal { o in
            var d = o["dimension_weights"] as! [String: Double]
            d["debt"] = 0.3
            o["dimension_weights"] = d
        }
        #expect(sums.contains("w.json") && sums.contains("economic weights sum to 1.100000, expected 1"))
        let composite = try refusal { o in
            var c = o["composite_weights"] as! [String: Double]
            c["debt"] = 0.5
            o["composite_weights"] = c
        }
        #expect(composite.contains("composite_weights: the weights sum to"))
        let missing = try refusal { o in
            var c = o["composite_weights"] as! [String: Double]
            c.removeValue(forKey: "housing")
            o["composite_weights"] = c
        }
        #expect(missing.contains("no weight for indicator housing"))
        let unknown = try refusal { o in
            var c = o["dimension_weights"] as! [String: Double]
            c["happiness"] = 0
            o["dimension_weights"] = c
        }
        #expect(unknown.contains("happiness is not an indicator"))
        let negative = try refusal { o in
            var d = o["dimension_weights"] as! [String: Double]
            (d["debt"], d["productive_assets"]) = (-0.1, 0.5)
            o["dimension_weights"] = d
        }
        #expect(negative.contains("0 or more"))
        #expect(try refusal { $0["cutoff"] = 1.5 }.contains("cutoff"))
        #expect(try refusal { $0["instrument"] = "other" }.contains("instrument"))
    }

    @Test("Scores: always in [0, 1], a better answer never lowers one, equal to an independent computation")
    func scoreProperties() {
        var rng = SplitMix64(seed: 20)
        for round in 0..<300 {
            let answers = randomAnswers(&rng, skip: round % 3 == 0 ? 0.3 : 0)
            let scores = instrument.score(answers, weights: weights)
            let all = [scores.economic, scores.social, scores.psychosocial, scores.composite].compactMap { $0 }
            #expect(all.allSatisfy { (0...1).contains($0) })
            // Independently: with equal weights, a dimension is the mean of its answered indicators, each
            // the mean of its answered questions' positions.
            for d in ReintegrationDimension.allCases {
                let values = instrument.indicators.filter { $0.dimension == d }.compactMap { ind -> Double? in
                    let positions = instrument.questions.filter { $0.indicator == ind.id }.compactMap { q in
                        answers[q.id].map { Double(q.answers.firstIndex(of: $0)!) / Double(q.answers.count - 1) }
                    }
                    return positions.isEmpty ? nil : positions.reduce(0, +) / Double(positions.count)
                }
                let expected = values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
                #expect(abs((scores.score(d) ?? -1) - (expected ?? -1)) < 1e-9)
            }
            // Improving any one answer by one step never lowers a score.
            let question = instrument.questions[Int(rng.next() % UInt64(instrument.questions.count))]
            guard let current = answers[question.id], let position = question.answers.firstIndex(of: current),
                position + 1 < question.answers.count
            else { continue }
            var better = answers
            better[question.id] = question.answers[position + 1]
            let improved = instrument.score(better, weights: weights)
            for d in ReintegrationDimension.allCases { #expect(improved.score(d)! >= scores.score(d)! - 1e-12) }
            #expect(improved.composite! >= scores.composite! - 1e-12)
        }
        // All best answers score 1, all worst 0; the weakest dimension is the lowest.
        let best = Dictionary(uniqueKeysWithValues: instrument.questions.map { ($0.id, $0.answers.last!) })
        let worst = Dictionary(uniqueKeysWithValues: instrument.questions.map { ($0.id, $0.answers.first!) })
        #expect(instrument.score(best, weights: weights).composite == 1)
        #expect(instrument.score(worst, weights: weights).composite == 0)
        var mixed = best
        for q in instrument.questions where instrument.indicator(q.indicator)?.dimension == .social {
            mixed[q.id] = q.answers.first!
        }
        let scores = instrument.score(mixed, weights: weights)
        #expect(scores.weakest == .social && scores.sustainable == true && abs(scores.composite! - 2.0 / 3) < 1e-9)
    }

    @Test(
        "Surveys at baseline and follow-ups: answers sealed, scores kept as computed, follow-ups due and overdue",
        arguments: StoreKind.available.filter { $0 != .sqliteMemory })
    func followUps(kind: StoreKind) async throws {
        let (store, location) = try await ReintegrationTests().prepared(kind)
        let cw = ReintegrationTests.cw
        let cases = CaseService(store: store)
        let followUps = FollowUpService(store: store, instrument: instrument, weights: weights)
        let arrival = CivilDate(iso: "2016-03-05")!
        let file = try await cases.open(.init(agency: "TEST", recordKey: "r1"), by: cw, today: arrival)
        var rng = SplitMix64(seed: 3)
        let answers = randomAnswers(&rng)

        // Baseline after screening, follow-ups once assistance started.
        await #expect(throws: PuenteError.self) {
            try await followUps.record(caseID: file.id, occasion: .baseline, mode: .visit, answers: answers, by: cw)
        }
        _ = try await ReintegrationTests().consent(store, "r1", .reintegration)
        try await cases.move(file.id, to: .screened, update: .init(vulnerabilities: ["none"]), by: cw, today: arrival)
        let baseline = try await followUps.record(
            caseID: file.id, occasion: .baseline, mode: .visit, answers: answers, on: arrival.adding(days: 2), by: cw)
        #expect(baseline.survey.scores == instrument.score(answers, weights: weights))
        await #expect(throws: PuenteError.self) {
            try await followUps.record(caseID: file.id, occasion: .followUp, mode: .phone, answers: answers, by: cw)
        }
        let badAnswer = await #expect(throws: PuenteError.self) {
            try await followUps.record(
                caseID: file.id, occasion: .baseline, mode: .visit, answers: ["work": "millionaire"], by: cw)
        }
        #expect(badAnswer?.message.contains("work expects one of none, occasional") == true)

        try await cases.move(file.id, to: .assessed, update: .init(skills: "s", intentions: "i"), by: cw)
        try await cases.move(file.id, to: .planDrafted, update: .init(plan: "p"), by: cw)
        try await cases.move(file.id, to: .planApproved, by: ReintegrationTests.sup)
        let start = arrival.adding(days: 20)
        try await cases.move(file.id, to: .inAssistance, by: cw, today: start)

        // Due: three months after assistance started, overdue after the grace; done, the next one.
        #expect(try await followUps.due(until: start.adding(days: 80), by: cw, today: start).isEmpty)
        let first = try await followUps.due(until: start.adding(months: 3), by: cw, today: start.adding(months: 3))
        #expect(first.map(\.caseID) == [file.id] && first.map(\.number) == [1] && first.first?.overdue == false)
        #expect(first.first?.dueOn == CivilDate(iso: "2016-06-25"))
        let late = try await followUps.due(until: start.adding(months: 4), by: cw, today: start.adding(months: 4))
        #expect(late.first?.overdue == true)
        #expect(try await followUps.due(until: start.adding(months: 4), by: ReintegrationTests.otherOffice).isEmpty)
        let better = Dictionary(uniqueKeysWithValues: instrument.questions.map { ($0.id, $0.answers.last!) })
        try await followUps.record(
            caseID: file.id, occasion: .followUp, mode: .phone, answers: better, on: start.adding(months: 4), by: cw,
            today: start.adding(months: 4))
        let next = try await followUps.due(until: start.adding(months: 6), by: cw, today: start.adding(months: 5))
        #expect(next.map(\.number) == [2] && next.first?.dueOn == start.adding(months: 6))

        // A new instrument version and weight table leave stored scores as they were.
        var v2 = instrument
        v2.version = 2
        v2.questions[0].answers.reverse()
        var w2 = weights
        w2.id = "programme-2026"
        w2.cutoff = 0.5
        let newer = FollowUpService(store: store, instrument: v2, weights: w2)
        let stored = try await newer.surveys(caseID: file.id, by: cw)
        #expect(stored.map(\.survey.scores.instrument) == ["rss-puente@1", "rss-puente@1"])
        #expect(stored[0].survey.scores == baseline.survey.scores && stored[1].survey.scores.composite == 1)
        #expect(stored.map(\.survey.scores.weights) == ["equal-unofficial", "equal-unofficial"])
        let third = try await newer.record(
            caseID: file.id, occasion: .followUp, mode: .visit, answers: better, on: start.adding(months: 5), by: cw,
            today: start.adding(months: 5))
        #expect(third.survey.scores.instrument == "rss-puente@2" && third.survey.scores.cutoff == 0.5)

        // Raw answers: sealed at rest, read back (audited) by those who see the case.
        #expect(try await followUps.answers(surveyID: baseline.id, caseID: file.id, by: cw) == answers)
        await #expect(throws: PuenteError.self) {
            try await followUps.answers(surveyID: baseline.id, caseID: file.id, by: ReintegrationTests.otherOffice)
        }
        let raw = try await StoreKind.fetchBehindTheStore("SELECT content_sealed FROM case_record", at: location)
            .compactMap { $0 }.joined()
        #expect(!raw.isEmpty && !raw.contains("regular_full_time") && !raw.contains("work"))
        let timeline = try await store.caseEntries(caseID: file.id).filter { $0.kind == "survey" }
        #expect(timeline.count == 3 && timeline[1].detail == "follow_up 1.00")
    }
}
