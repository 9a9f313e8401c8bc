import Foundation

/// JSON text for values stored in a text column (quarantined rows and their reasons).
public enum JSONText {
    public static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ text: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

/// Timestamps Puente records (import start, audit), as ISO 8601 in UTC.
public enum Timestamp {
    public static func now() -> String { Date().formatted(.iso8601) }

    /// With milliseconds, always three digits, so stamps sort as text: for "what changed after T"
    /// questions, where two changes in one second must not look simultaneous.
    public static func precise() -> String {
        Date().formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

extension CivilDate {
    /// Today's date in UTC.
    public static var today: CivilDate {
        CivilDate(daysSinceEpoch: Int((Date().timeIntervalSince1970 / 86_400).rounded(.down)))
    }
}
