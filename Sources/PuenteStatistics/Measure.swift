import PuenteCore

/// What is counted.
public enum Measure: String, CaseIterable, Codable, Sendable {
    /// Returns of nationals (administrative events, not statistical return migration).
    case returns
    case entries
    case exits
    /// Entries minus exits.
    case netMovements = "net_movements"
    /// Every stored event.
    case events

    /// Event types counted, with their sign.
    var terms: [(EventType?, Int)] {
        switch self {
        case .returns: [(.return, 1)]
        case .entries: [(.entry, 1)]
        case .exits: [(.exit, 1)]
        case .netMovements: [(.entry, 1), (.exit, -1)]
        case .events: [(nil, 1)]
        }
    }

    public var title: (es: String, en: String) {
        switch self {
        case .returns: ("Personas retornadas (eventos)", "Returned nationals (events)")
        case .entries: ("Entradas", "Entries")
        case .exits: ("Salidas", "Exits")
        case .netMovements: ("Movimientos netos (entradas − salidas)", "Net movements (entries − exits)")
        case .events: ("Eventos registrados", "Recorded events")
        }
    }
}
