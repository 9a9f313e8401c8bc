import Foundation
import PuenteCore

/// The profiles Puente ships, and loading a user's own profile from a path.
public enum ProfileCatalogue {
    /// Ids of the shipped profiles, sorted.
    public static var shippedIDs: [String] {
        let dir = Bundle.module.resourceURL!.appendingPathComponent("Profiles")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// A shipped profile by id, or a profile file by path (anything containing `/` or ending in `.json`).
    public static func load(_ nameOrPath: String) throws -> SourceProfile {
        let url: URL
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".json") {
            url = URL(fileURLWithPath: nameOrPath)
        } else {
            url = Bundle.module.resourceURL!.appendingPathComponent("Profiles/\(nameOrPath).json")
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw PuenteError(.invalidProfile, "There is no shipped profile `\(nameOrPath)`. Shipped profiles: "
                    + shippedIDs.joined(separator: ", ") + ". Give a path to use your own.")
            }
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PuenteError(.invalidProfile, "Cannot read the profile file; check the path.",
                              at: InputLocation(file: url.lastPathComponent))
        }
        let profile: SourceProfile
        do { profile = try JSONDecoder().decode(SourceProfile.self, from: data) } catch let error as DecodingError {
            throw PuenteError(.invalidProfile, Self.explain(error), at: InputLocation(file: url.lastPathComponent))
        }
        let problems = profile.problems()
        if !problems.isEmpty {
            throw PuenteError(.invalidProfile, problems.joined(separator: " "), at: InputLocation(file: url.lastPathComponent))
        }
        return profile
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let c): return "Missing key `\(key.stringValue)` at `\(path(c))`."
        case .typeMismatch(_, let c), .valueNotFound(_, let c):
            return "Wrong kind of value at `\(path(c))`: \(c.debugDescription)"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "The file is not valid JSON." : "Invalid value at `\(path(c))`: \(c.debugDescription)"
        @unknown default: return "The profile could not be read."
        }
    }
}
