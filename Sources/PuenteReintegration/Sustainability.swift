import Foundation
import PuenteCore

/// The three dimensions of sustainable reintegration (IOM): economic self-sufficiency, social stability
/// and psychosocial well-being.
public enum ReintegrationDimension: String, CaseIterable, Codable, Sendable {
    case economic
    case social
    case psychosocial
}

/// A versioned survey instrument: questions, each feeding one indicator of one dimension.
///
/// Every question's answers are listed from worst to best, so an answer's position normalised to 0–1
/// is its indicator contribution: a better answer can never lower a score. An instrument is never
/// edited once used: a change is a new version, and scores already stored keep the version they were
/// computed with.
public struct SurveyInstrument: Codable, Hashable, Sendable {
    public struct Indicator: Codable, Hashable, Sendable {
        public var id: String
        public var dimension: ReintegrationDimension
        public var labelEN: String
        public var labelES: String

        enum CodingKeys: String, CodingKey {
            case id, dimension
            case labelEN = "label_en"
            case labelES = "label_es"
        }
    }

    public struct Question: Codable, Hashable, Sendable {
        public var id: String
        public var indicator: String
        public var textEN: String
        public var textES: String
        /// Answer codes, worst first.
        public var answers: [String]

        enum CodingKeys: String, CodingKey {
            case id, indicator, answers
            case textEN = "text_en"
            case textES = "text_es"
        }
    }

    public var id: String
    public var version: Int
    /// Where it comes from and how far it may be trusted.
    public var note: String
    public var indicators: [Indicator]
    public var questions: [Question]
    /// How each answer code reads on a form, by language (`es`, `en`); a code without one reads as itself.
    public var answerLabels: [String: [String: String]]?

    enum CodingKeys: String, CodingKey {
        case id, version, note, indicators, questions
        case answerLabels = "answer_labels"
    }

    public func answerLabel(_ code: String, language: String) -> String {
        answerLabels?[code]?[language] ?? code.replacingOccurrences(of: "_", with: " ")
    }

    /// `id@version`, as stored with every score.
    public var reference: String { "\(id)@\(version)" }

    public func indicator(_ id: String) -> Indicator? { indicators.first { $0.id == id } }

    /// Reads and checks an instrument: unique ids, every question's indicator defined, every indicator
    /// asked, at least two answers per question.
    public static func load(_ data: Data, source: String) throws -> SurveyInstrument {
        let instrument: SurveyInstrument
        do { instrument = try JSONDecoder().decode(SurveyInstrument.self, from: data) } catch {
            throw PuenteError(.invalidInput, "\(source): not a survey instrument (\(Self.describe(error))).")
        }
        try instrument.check(source: source)
        return instrument
    }

    func check(source: String) throws {
        func refuse(_ what: String) -> PuenteError { PuenteError(.invalidInput, "\(source): \(what)") }
        guard version >= 1 else { throw refuse("version: expected 1 or more.") }
        let indicatorIDs = indicators.map(\.id)
        guard Set(indicatorIDs).count == indicatorIDs.count else { throw refuse("indicators: ids must be unique.") }
        guard Set(questions.map(\.id)).count == questions.count else { throw refuse("questions: ids must be unique.") }
        for q in questions {
            guard indicatorIDs.contains(q.indicator) else {
                throw refuse("question \(q.id): indicator \(q.indicator) is not defined.")
            }
            guard q.answers.count >= 2, Set(q.answers).count == q.answers.count else {
                throw refuse("question \(q.id): expected two or more distinct answers, worst first.")
            }
        }
        for i in indicators where !questions.contains(where: { $0.indicator == i.id }) {
            throw refuse("indicator \(i.id): no question asks for it.")
        }
        for d in ReintegrationDimension.allCases where !indicators.contains(where: { $0.dimension == d }) {
            throw refuse("dimension \(d.rawValue): no indicator.")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable" }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return
                "bad value at \(context.codingPath.map(\.stringValue).joined(separator: ".").nilIfEmpty ?? "top level")"
        @unknown default: return "unreadable"
        }
    }
}

/// How indicators add up: weights within each dimension and for the composite, and the cut-off the
/// programme calls "sustainable". No official cut-off exists, and the official weights (IOM's
/// Reintegration Handbook, Annex 4) are not shipped: a table says whether it is official.
public struct WeightTable: Codable, Hashable, Sendable {
    public var id: String
    /// The instrument's id it weighs.
    public var instrument: String
    public var official: Bool
    public var note: String
    /// Weight of each indicator within its dimension; each dimension's weights sum to 1.
    public var dimensionWeights: [String: Double]
    /// Weight of each indicator in the composite; they sum to 1.
    public var compositeWeights: [String: Double]
    /// A composite score at or above it counts as sustainable in the programme's figures.
    public var cutoff: Double

    enum CodingKeys: String, CodingKey {
        case id, instrument, official, note, cutoff
        case dimensionWeights = "dimension_weights"
        case compositeWeights = "composite_weights"
    }

    /// Tolerance on sums of weights written with a few decimals.
    static let tolerance = 1e-6

    /// Reads a table and checks it against the instrument: every indicator weighed, none unknown, none
    /// negative, sums of 1 per dimension and for the composite, a cut-off in [0, 1].
    public static func load(_ data: Data, source: String, for instrument: SurveyInstrument) throws -> WeightTable {
        let table: WeightTable
        do { table = try JSONDecoder().decode(WeightTable.self, from: data) } catch {
            throw PuenteError(.invalidInput, "\(source): not a weight table (\(SurveyInstrument.describe(error))).")
        }
        try table.check(against: instrument, source: source)
        return table
    }

    public func check(against instrument: SurveyInstrument, source: String) throws {
        func refuse(_ what: String) -> PuenteError { PuenteError(.invalidInput, "\(source): \(what)") }
        guard instrument.id == self.instrument else {
            throw refuse("instrument: the table weighs \(self.instrument), not \(instrument.id).")
        }
        let ids = Set(instrument.indicators.map(\.id))
        for (name, weights) in [("dimension_weights", dimensionWeights), ("composite_weights", compositeWeights)] {
            if let unknown = Set(weights.keys).subtracting(ids).sorted().first {
                throw refuse("\(name): \(unknown) is not an indicator of \(instrument.reference).")
            }
            if let missing = ids.subtracting(weights.keys).sorted().first {
                throw refuse("\(name): no weight for indicator \(missing).")
            }
            if let negative = weights.filter({ !($0.value >= 0 && $0.value.isFinite) }).keys.sorted().first {
                throw refuse("\(name): the weight of \(negative) must be a number of 0 or more.")
            }
        }
        for d in ReintegrationDimension.allCases {
            let sum = instrument.indicators.filter { $0.dimension == d }.reduce(0) { $0 + dimensionWeights[$1.id]! }
            guard abs(sum - 1) <= Self.tolerance else {
                throw refuse(
                    "dimension_weights: the \(d.rawValue) weights sum to \(String(format: "%.6f", sum)), expected 1.")
            }
        }
        let composite = compositeWeights.values.reduce(0, +)
        guard abs(composite - 1) <= Self.tolerance else {
            throw refuse("composite_weights: the weights sum to \(String(format: "%.6f", composite)), expected 1.")
        }
        guard (0...1).contains(cutoff) else { throw refuse("cutoff: expected a score between 0 and 1.") }
    }
}

/// Scores on 0–1 from one administration of the survey.
public struct SustainabilityScores: Codable, Hashable, Sendable {
    /// Each answered indicator's value, 0 (worst) to 1 (best).
    public var indicators: [String: Double]
    /// Nil for a dimension none of whose indicators was answered.
    public var economic: Double?
    public var social: Double?
    public var psychosocial: Double?
    public var composite: Double?
    /// Share of the composite's weight that was answered (1 when every indicator was).
    public var coverage: Double
    public var instrument: String
    public var weights: String
    public var cutoff: Double

    public func score(_ dimension: ReintegrationDimension) -> Double? {
        switch dimension {
        case .economic: economic
        case .social: social
        case .psychosocial: psychosocial
        }
    }

    /// The dimension to work on next: the lowest score (ties: the order economic, social, psychosocial);
    /// none when every scored dimension is level.
    public var weakest: ReintegrationDimension? {
        let scored = ReintegrationDimension.allCases.compactMap { d in score(d).map { (d, $0) } }
        guard let lowest = scored.min(by: { $0.1 < $1.1 }), scored.contains(where: { $0.1 > lowest.1 }) else {
            return nil
        }
        return lowest.0
    }

    /// At or above the configured cut-off.
    public var sustainable: Bool? { composite.map { $0 >= cutoff } }
}

extension SurveyInstrument {
    /// Checks answers (question id → answer code) against the instrument, naming the question at fault.
    public func checkAnswers(_ answers: [String: String]) throws {
        for (question, answer) in answers.sorted(by: { $0.key < $1.key }) {
            guard let q = questions.first(where: { $0.id == question }) else {
                throw PuenteError(.invalidArgument, "answers: \(question) is not a question of \(reference).")
            }
            guard q.answers.contains(answer) else {
                throw PuenteError(
                    .invalidArgument, "answers: \(question) expects one of \(q.answers.joined(separator: ", ")).")
            }
        }
        guard !answers.isEmpty else { throw PuenteError(.invalidArgument, "answers: none given.") }
    }

    /// The scores of checked answers under a weight table. An indicator is the mean of its answered
    /// questions' positions (worst 0, best 1); a dimension and the composite are weighted means over
    /// the answered indicators (weights renormalised over them, with the coverage kept).
    public func score(_ answers: [String: String], weights: WeightTable) -> SustainabilityScores {
        var indicatorValues: [String: Double] = [:]
        for indicator in indicators {
            let values = questions.filter { $0.indicator == indicator.id }.compactMap { q -> Double? in
                guard let answer = answers[q.id], let position = q.answers.firstIndex(of: answer) else { return nil }
                return Double(position) / Double(q.answers.count - 1)
            }
            if !values.isEmpty { indicatorValues[indicator.id] = values.reduce(0, +) / Double(values.count) }
        }
        func weightedMean(_ ids: [String], _ w: [String: Double]) -> Double? {
            let answered = ids.filter { indicatorValues[$0] != nil }
            let total = answered.reduce(0) { $0 + w[$1]! }
            guard total > 0 else { return nil }
            // Clamped: rounding must not carry a mean of values in [0, 1] outside it.
            return min(1, max(0, answered.reduce(0) { $0 + w[$1]! * indicatorValues[$1]! } / total))
        }
        func dimension(_ d: ReintegrationDimension) -> Double? {
            weightedMean(indicators.filter { $0.dimension == d }.map(\.id), weights.dimensionWeights)
        }
        let all = indicators.map(\.id)
        return SustainabilityScores(
            indicators: indicatorValues, economic: dimension(.economic), social: dimension(.social),
            psychosocial: dimension(.psychosocial), composite: weightedMean(all, weights.compositeWeights),
            coverage: all.filter { indicatorValues[$0] != nil }.reduce(0) { $0 + weights.compositeWeights[$1]! },
            instrument: reference, weights: weights.id, cutoff: weights.cutoff)
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// The instrument and weights Puente ships, and loading others from configuration.
public enum SustainabilitySurvey {
    /// Puente's default instrument, modelled on the structure of IOM's Reintegration Sustainability
    /// Survey (15 indicators over three dimensions); its questions are Puente's, not IOM's.
    public static func defaultInstrument() throws -> SurveyInstrument {
        try SurveyInstrument.load(try resource("rss-puente-v1"), source: "rss-puente-v1.json")
    }

    /// Equal weights, labelled unofficial, with a cut-off of 0.66 (the upper band some programmes use).
    public static func defaultWeights(for instrument: SurveyInstrument) throws -> WeightTable {
        try WeightTable.load(
            try resource("weights-equal-unofficial"), source: "weights-equal-unofficial.json", for: instrument)
    }

    static func resource(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Instruments") else {
            throw PuenteError(.storeFailure, "The survey resource \(name).json is missing from this build.")
        }
        return try Data(contentsOf: url)
    }
}
