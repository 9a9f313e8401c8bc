import Hummingbird
import PuenteCore

// Query parameters with a closed set of values or a range, read in one way by every route: a wrong
// value is a 400 naming the parameter and what it takes (never the value sent, which may be personal).
extension Hummingbird.Parameters {
    /// The value of `name` as one of `T`'s cases; nil when absent.
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _: T.Type) throws -> T? where T.RawValue == String {
        guard let raw = get(name) else { return nil }
        guard let value = T(rawValue: String(raw)) else {
            throw PuenteError(
                .invalidArgument, "\(name): expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return value
    }

    /// The value of `name` as a whole number in `range`; nil when absent.
    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw = get(name) else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw PuenteError(
                .invalidArgument, "\(name): expected a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return value
    }

    /// The page language: Spanish unless `lang` asks for English; another value is a 400.
    func language() throws -> Language { try Language(form: get("lang")) }
}
