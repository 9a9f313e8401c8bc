import Foundation
import PuenteCore

/// The profiles Puente ships, and loading a user's own profile from a path.
public enum ProfileCatalogue {
    static var shippedDirectory: URL { Bundle.module.resourceURL!.appendingPathComponent("Profiles") }

    /// Ids of the shipped profiles, sorted.
    public static var shippedIDs: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: shippedDirectory.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// Where the profile named `nameOrPath` is: a shipped id, or a path (anything with `/` or a YAML suffix).
    public static func url(of nameOrPath: String) throws -> URL {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            return URL(fileURLWithPath: nameOrPath)
        }
        let url = shippedDirectory.appendingPathComponent("\(nameOrPath).yaml")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PuenteError(
                .invalidProfile,
                "There is no shipped profile `\(nameOrPath)`. Shipped profiles: "
                    + shippedIDs.joined(separator: ", ") + ". Give a path to use your own.")
        }
        return url
    }

    /// A shipped profile by id, or a profile file by path; throws listing every problem of a broken one.
    public static func load(_ nameOrPath: String) throws -> SourceProfile {
        let url = try url(of: nameOrPath)
        switch read(url) {
        case .success(let profile): return profile
        case .failure(let errors):
            throw PuenteError(
                .invalidProfile,
                "The profile has \(errors.problems.count) problem(s): "
                    + errors.problems.map(\.description).joined(separator: "; ")
                    + ". `puente profile check` explains them.",
                at: InputLocation(file: url.lastPathComponent))
        }
    }

    /// Reads and checks the profile at `url`.
    public static func read(_ url: URL) -> Result<SourceProfile, ProfileErrors> {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return .failure(
                ProfileErrors(problems: [ProfileProblem(line: nil, message: "Cannot read the file; check the path.")]))
        }
        guard TextEncoding.isValidUTF8(data) else {
            return .failure(
                ProfileErrors(problems: [ProfileProblem(line: nil, message: "A profile must be UTF-8 text.")]))
        }
        return ProfileReader.read(yaml: String(decoding: data, as: UTF8.self))
    }
}
