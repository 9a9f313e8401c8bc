/// A reviewer's decision on a pair of records the linkage model was unsure of: the same person or not.
/// The API and the store speak its raw values; files and commands typed by hand are read leniently.
public enum ReviewVerdict: String, CaseIterable, Codable, Sendable {
    case match
    case nonMatch = "non-match"

    /// Reads what reviewers write by hand: `match` or `non-match`, and also yes/no, sí/no, 1/0,
    /// true/false, m/n, in any case and with or without accents. Nil for anything else (and for blank,
    /// which in a decisions file means the pair is still pending).
    public init?(reviewerText text: String) {
        switch TextFolding.fold(text) {
        case "match", "yes", "si", "1", "true", "m": self = .match
        case "non-match", "non match", "nonmatch", "no", "0", "false", "n": self = .nonMatch
        default: return nil
        }
    }

    public var isMatch: Bool { self == .match }
}
