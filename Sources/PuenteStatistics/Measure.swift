import PuenteCore

/// What is counted or computed.
public enum Measure: String, CaseIterable, Codable, Sendable {
    /// Returns of nationals (administrative events, not statistical return migration).
    case returns
    case entries
    case exits
    /// Entries minus exits.
    case netMovements = "net_movements"
    /// Every stored event.
    case events
    /// Returns per 1,000 inhabitants of the area of residence (needs a geographic breakdown).
    case returnsPer1000 = "returns_per_1000"
    /// Share (%) of children (under 18) among returns of known age.
    case childShare = "child_share"
    /// Share (%) of unaccompanied children among returned children.
    case unaccompaniedShare = "unaccompanied_share"
    /// Registration coverage (%): share of events recording sex, age, the municipality of residence, or
    /// an identity document number.
    case coverageSex = "coverage_sex"
    case coverageAge = "coverage_age"
    case coverageMunicipality = "coverage_municipality"
    case coverageDocument = "coverage_document"
    /// Mirror coverage (%): returns registered here from a partner country, as a share of the exits of
    /// this country's nationals the partner reports (both sources loaded). Break down by
    /// `returning_from` (the partner) and `nationality` (here).
    case mirrorCoverage = "mirror_coverage"
    /// Distinct persons returned (linked by `puente link persons`): each person once per period, broken
    /// down by what their first return of the period recorded.
    case returnedPersons = "returned_persons"
    /// Share (%) of returns of persons returned before (an earlier return of the same linked person).
    case repeatReturnShare = "repeat_return_share"

    /// Whether the measure is a count of events (published in SDMX), rather than a ratio.
    public var isCount: Bool { [.returns, .entries, .exits, .netMovements, .events].contains(self) }

    /// Whether values are whole numbers (counts of events or of persons), shown without decimals.
    public var isWhole: Bool { isCount || self == .returnedPersons }

    /// Whether the measure is computed from linked persons rather than from events.
    public var needsPersons: Bool { self == .returnedPersons || self == .repeatReturnShare }

    public var title: (es: String, en: String) {
        switch self {
        case .returns: ("Personas retornadas (eventos)", "Returned nationals (events)")
        case .entries: ("Entradas", "Entries")
        case .exits: ("Salidas", "Exits")
        case .netMovements: ("Movimientos netos (entradas − salidas)", "Net movements (entries − exits)")
        case .events: ("Eventos registrados", "Recorded events")
        case .returnsPer1000: ("Retornos por 1.000 habitantes", "Returns per 1,000 inhabitants")
        case .childShare:
            ("Porcentaje de niñas, niños y adolescentes retornados", "Share of children among returns (%)")
        case .unaccompaniedShare:
            ("Porcentaje de niñez no acompañada", "Share of unaccompanied among returned children (%)")
        case .coverageSex: ("Cobertura del registro: sexo (%)", "Registration coverage: sex (%)")
        case .coverageAge: ("Cobertura del registro: edad (%)", "Registration coverage: age (%)")
        case .coverageMunicipality: ("Cobertura del registro: municipio (%)", "Registration coverage: municipality (%)")
        case .coverageDocument: ("Cobertura del registro: documento (%)", "Registration coverage: document (%)")
        case .mirrorCoverage: ("Cobertura espejo (%)", "Mirror coverage (%)")
        case .returnedPersons: ("Personas retornadas (personas distintas)", "Returned persons (distinct persons)")
        case .repeatReturnShare:
            (
                "Porcentaje de retornos de personas ya retornadas antes",
                "Share of returns of persons returned before (%)"
            )
        }
    }

    /// Event types counted by a count measure, with their sign.
    var terms: [(EventType?, Int)] {
        switch self {
        case .returns: [(.return, 1)]
        case .entries: [(.entry, 1)]
        case .exits: [(.exit, 1)]
        case .netMovements: [(.entry, 1), (.exit, -1)]
        default: [(nil, 1)]
        }
    }
}

/// One count a measure is computed from: the events of some types that meet some conditions.
struct CountSpec {
    var eventTypes: [EventType]
    var conditions: [CubeCondition] = []
}

extension Measure {
    /// A ratio measure as numerator and denominator counts, and the factor applied to their quotient.
    var ratio: (numerator: CountSpec, denominator: CountSpec, factor: Double)? {
        let all = EventType.allCases
        func recorded(_ c: CubeColumn) -> CubeCondition { CubeCondition(column: c) { $0 != nil } }
        let childAge = CubeCondition(column: .age) {
            if case .integer(let a)? = $0 { return a < 18 }; return false
        }
        switch self {
        case .childShare:
            return (
                CountSpec(eventTypes: [.return], conditions: [childAge]),
                CountSpec(eventTypes: [.return], conditions: [recorded(.age)]), 100
            )
        case .unaccompaniedShare:
            let unaccompanied = CubeCondition(column: .childStatus) { $0 == .text(ChildStatus.unaccompanied.rawValue) }
            // Children whose status was not recorded count in neither part.
            let known = CubeCondition(column: .childStatus) {
                $0 == .text(ChildStatus.unaccompanied.rawValue) || $0 == .text(ChildStatus.accompanied.rawValue)
            }
            return (
                CountSpec(eventTypes: [.return], conditions: [childAge, unaccompanied]),
                CountSpec(eventTypes: [.return], conditions: [childAge, known]), 100
            )
        case .coverageSex:
            let known = CubeCondition(column: .sex) { $0 != nil && $0 != .text(Sex.unknown.rawValue) }
            return (CountSpec(eventTypes: all, conditions: [known]), CountSpec(eventTypes: all), 100)
        case .coverageAge:
            return (CountSpec(eventTypes: all, conditions: [recorded(.age)]), CountSpec(eventTypes: all), 100)
        case .coverageMunicipality:
            return (
                CountSpec(eventTypes: all, conditions: [recorded(.residenceDivision)]), CountSpec(eventTypes: all), 100
            )
        case .coverageDocument:
            return (
                CountSpec(
                    eventTypes: all, conditions: [CubeCondition(column: .documentRecorded) { $0 == .integer(1) }]),
                CountSpec(eventTypes: all), 100
            )
        default:
            return nil
        }
    }
}
