import PuenteCore
import Yams

/// One mistake in a profile file, with the line it is on when known.
public struct ProfileProblem: Hashable, Sendable, CustomStringConvertible {
    public var line: Int?
    public var message: String

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// Reads a YAML source profile, collecting every mistake with its line rather than stopping at the
/// first, so that `puente profile check` explains a broken profile in one pass.
public enum ProfileReader {
    /// The profile in `yaml`, or all the problems found in it.
    public static func read(yaml: String) -> Result<SourceProfile, ProfileErrors> {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch let error as YamlError {
            return .failure(ProfileErrors(problems: [syntaxProblem(error)]))
        } catch {
            return .failure(
                ProfileErrors(problems: [ProfileProblem(line: nil, message: "The file is not valid YAML.")]))
        }
        var reader = NodeReader()
        let profile = reader.profile(root)
        let problems = reader.problems + (profile?.problems().map { ProfileProblem(line: nil, message: $0) } ?? [])
        if let profile, problems.isEmpty { return .success(profile) }
        return .failure(ProfileErrors(problems: problems))
    }

    private static func syntaxProblem(_ error: YamlError) -> ProfileProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return ProfileProblem(line: mark.line, message: "YAML syntax: \(problem).")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ProfileProblem(
                line: context.mark.line,
                message: "A key is given twice: \(duplicates.sorted().joined(separator: ", ")).")
        default:
            return ProfileProblem(line: nil, message: "The file is not valid YAML.")
        }
    }
}

/// Every problem of a profile that could not be read.
public struct ProfileErrors: Error, Hashable, Sendable {
    public var problems: [ProfileProblem]
}

/// Walks the YAML tree, recording a problem (with its line) for anything missing or mistyped.
private struct NodeReader {
    var problems: [ProfileProblem] = []

    mutating func problem(_ node: Node?, _ message: String) {
        problems.append(ProfileProblem(line: node?.mark?.line, message: message))
    }

    static let topKeys: Set<String> = [
        "id", "title", "agency", "register", "reportingCountry", "format", "columns", "constants",
        "values", "dateFormats", "twoDigitYearPivot", "ageRange", "required", "placeholders",
    ]
    static var fieldList: String { Field.allCases.map(\.rawValue).joined(separator: ", ") }

    mutating func profile(_ root: Node?) -> SourceProfile? {
        guard let root, let top = root.mapping else {
            problem(
                root, "A profile is a YAML mapping with keys " + Self.topKeys.sorted().joined(separator: ", ") + ".")
            return nil
        }
        for (key, _) in top where !Self.topKeys.contains(key.string ?? "") {
            problem(
                key,
                "Unknown key `\(key.string ?? "?")`; the keys are " + Self.topKeys.sorted().joined(separator: ", ")
                    + ".")
        }
        let id = text(top, "id"), title = text(top, "title", optional: true) ?? id
        let agency = text(top, "agency"), country = text(top, "reportingCountry")
        if top["register"] == nil {
            problems.append(
                ProfileProblem(
                    line: top.mark?.line,
                    message: "Missing key `register`: name the agency's register "
                        + "the export comes from (e.g. `register: retornos`). Records are recognised by agency, register and record "
                        + "id, so keep it when you copy the profile for a new layout of the same register."))
        }
        let register = text(top, "register", optional: true)
        let format = self.format(top["format"])
        let columns = self.columns(top["columns"])
        let constants = self.constants(top["constants"])
        let values = self.values(top["values"])
        let dateFormats = strings(top, "dateFormats")
        let pivot = integer(top, "twoDigitYearPivot") ?? 30
        var ageRange = 0...120
        if let node = top["ageRange"] {
            let bounds = node.sequence?.compactMap(\.int) ?? []
            if bounds.count == 2, bounds[0] <= bounds[1] {
                ageRange = bounds[0]...bounds[1]
            } else {
                problem(node, "ageRange is a list of two whole numbers, lowest first, e.g. [0, 120].")
            }
        }
        let required = fields(top["required"], key: "required")
        let placeholders = self.placeholders(top["placeholders"])
        guard let id, let agency, let country, let format, let columns, let dateFormats else { return nil }
        if country.count != 3 || country.uppercased() != country {
            problem(top["reportingCountry"], "reportingCountry is an ISO 3166-1 alpha-3 code such as SLV, GTM or HND.")
        }
        return SourceProfile(
            id: id, title: title ?? id, agency: agency, register: register ?? id, reportingCountry: country,
            format: format,
            columns: columns, constants: constants, values: values, dateFormats: dateFormats,
            twoDigitYearPivot: pivot, ageRange: ageRange, required: required, placeholders: placeholders)
    }

    mutating func text(_ map: Node.Mapping, _ key: String, optional: Bool = false) -> String? {
        guard let node = map[key] else {
            if !optional { problems.append(ProfileProblem(line: map.mark?.line, message: "Missing key `\(key)`.")) }
            return nil
        }
        guard let s = node.scalar?.string, !s.isEmpty else {
            problem(node, "`\(key)` must be a text value."); return nil
        }
        return s
    }

    mutating func integer(_ map: Node.Mapping, _ key: String) -> Int? {
        guard let node = map[key] else { return nil }
        guard let i = node.int else { problem(node, "`\(key)` must be a whole number."); return nil }
        return i
    }

    mutating func strings(_ map: Node.Mapping, _ key: String) -> [String]? {
        guard let node = map[key] else {
            problems.append(ProfileProblem(line: map.mark?.line, message: "Missing key `\(key)`."))
            return nil
        }
        guard let items = node.sequence, items.allSatisfy({ $0.scalar != nil }) else {
            problem(node, "`\(key)` must be a list of text values."); return nil
        }
        return items.compactMap(\.scalar?.string)
    }

    mutating func field(_ node: Node, context: String) -> Field? {
        guard let name = node.scalar?.string, let field = Field(rawValue: name) else {
            problem(
                node, "`\(node.scalar?.string ?? "?")` in \(context) is not a field; the fields are \(Self.fieldList).")
            return nil
        }
        return field
    }

    mutating func fields(_ node: Node?, key: String) -> [Field] {
        guard let node else { return [] }
        guard let items = node.sequence else { problem(node, "`\(key)` must be a list of fields."); return [] }
        return items.compactMap { field($0, context: key) }
    }

    mutating func format(_ node: Node?) -> SourceProfile.Format? {
        guard let node else { return SourceProfile.Format() }
        guard let map = node.mapping else {
            problem(node, "`format` must be a mapping (type, delimiter, encoding, sheet)."); return nil
        }
        var format = SourceProfile.Format()
        for (key, value) in map {
            switch key.string {
            case "type":
                if let t = value.string.flatMap(SourceProfile.FormatType.init) {
                    format.type = t
                } else {
                    problem(
                        value,
                        "format.type must be one of "
                            + SourceProfile.FormatType.allCases.map(\.rawValue).joined(separator: ", ") + ".")
                }
            case "delimiter":
                let d = value.string ?? ""
                format.delimiter = d == "\\t" || d == "tab" ? "\t" : d
            case "encoding":
                if let e = value.string.flatMap(TextEncoding.init) {
                    format.encoding = e
                } else {
                    problem(
                        value,
                        "format.encoding must be one of "
                            + TextEncoding.allCases.map(\.rawValue).joined(separator: ", ")
                            + ", or left out to detect it.")
                }
            case "sheet": format.sheet = value.string
            default:
                problem(
                    key, "Unknown key `format.\(key.string ?? "?")`; the keys are type, delimiter, encoding, sheet.")
            }
        }
        return format
    }

    /// `columns` maps each header, in file order, to the field it feeds.
    mutating func columns(_ node: Node?) -> [SourceProfile.Column]? {
        guard let node else {
            problems.append(ProfileProblem(line: nil, message: "Missing key `columns`.")); return nil
        }
        guard let map = node.mapping, !map.isEmpty else {
            problem(node, "`columns` maps each column header to the field it feeds, e.g. `FECHA_INGRESO: eventDate`.")
            return nil
        }
        var out: [SourceProfile.Column] = []
        for (key, value) in map {
            guard let name = key.scalar?.string, !name.isEmpty else {
                problem(key, "A column header must be text."); continue
            }
            if let f = field(value, context: "columns") { out.append(SourceProfile.Column(name: name, field: f)) }
        }
        return out
    }

    /// `placeholders: {document: [S/N], date: [...], name: [...]}`: values added to the standard list.
    mutating func placeholders(_ node: Node?) -> [Placeholders.Kind: [String]] {
        guard let node else { return [:] }
        let kinds = Placeholders.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let map = node.mapping else {
            problem(node, "`placeholders` maps \(kinds) to lists of values that mean missing."); return [:]
        }
        var out: [Placeholders.Kind: [String]] = [:]
        for (key, value) in map {
            guard let kind = key.scalar.flatMap({ Placeholders.Kind(rawValue: $0.string) }) else {
                problem(key, "`\(key.scalar?.string ?? "?")` in placeholders is not a kind; the kinds are \(kinds).");
                continue
            }
            guard let list = value.sequence, list.allSatisfy({ $0.scalar != nil }) else {
                problem(value, "placeholders.\(kind.rawValue) must be a list of text values."); continue
            }
            out[kind] = list.compactMap(\.scalar?.string)
        }
        return out
    }

    mutating func constants(_ node: Node?) -> [Field: String] {
        guard let node else { return [:] }
        guard let map = node.mapping else {
            problem(node, "`constants` maps fields to a value, e.g. `eventType: RETURN`."); return [:]
        }
        var out: [Field: String] = [:]
        for (key, value) in map {
            guard let f = field(key, context: "constants") else { continue }
            guard let v = value.scalar?.string else {
                problem(value, "The constant for `\(f.rawValue)` must be a text value."); continue
            }
            out[f] = v
        }
        return out
    }

    mutating func values(_ node: Node?) -> [Field: [String: [String]]] {
        guard let node else { return [:] }
        guard let map = node.mapping else {
            problem(node, "`values` maps fields to their codes and spellings, e.g. `sex: {M: [Masculino, H]}`.")
            return [:]
        }
        var out: [Field: [String: [String]]] = [:]
        for (key, value) in map {
            guard let f = field(key, context: "values") else { continue }
            guard let codes = value.mapping else {
                problem(value, "values.\(f.rawValue) maps each code to a list of spellings."); continue
            }
            for (code, spellings) in codes {
                guard let c = code.scalar?.string else {
                    problem(code, "A code in values.\(f.rawValue) must be text."); continue
                }
                if let list = spellings.sequence, list.allSatisfy({ $0.scalar != nil }) {
                    out[f, default: [:]][c] = list.compactMap(\.scalar?.string)
                } else if let one = spellings.scalar?.string {
                    out[f, default: [:]][c] = [one]
                } else {
                    problem(spellings, "values.\(f.rawValue).\(c) must be a spelling or a list of spellings.")
                }
            }
        }
        return out
    }
}
