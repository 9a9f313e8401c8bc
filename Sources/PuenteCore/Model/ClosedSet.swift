/// The value of a closed set named `text`, or an error naming the field and the allowed values.
func closedSetValue<T: RawRepresentable & CaseIterable>(_ text: String, field: String) throws -> T
where T.RawValue == String {
    guard let value = T(rawValue: text) else {
        throw PuenteError(
            .invalidArgument, "\(field): expected one of " + T.allCases.map(\.rawValue).joined(separator: ", ") + ".")
    }
    return value
}
