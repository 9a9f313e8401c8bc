import Crypto
import CryptoExtras
import Foundation
import PuenteCore

/// Slow, salted password hashes with scrypt, encoded with their parameters so they can be raised later
/// without invalidating stored hashes: `scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>`.
public struct PasswordHasher: Sendable {
    /// log2 of scrypt's cost N. 17 with r = 8 and p = 1 (128 MiB per hash) is OWASP's minimum for scrypt
    /// (its Password Storage Cheat Sheet; 2^15 would need p = 3).
    public var logCost: Int
    public var blockSize = 8
    public var parallelism = 1

    public init(logCost: Int = 17) {
        self.logCost = logCost
    }

    /// Whether a stored hash was made with weaker parameters than this hasher's: it is replaced at the
    /// next successful login, the only moment the password is at hand.
    public func needsRehash(_ encoded: String) -> Bool {
        let parts = encoded.split(separator: "$")
        guard parts.count == 6, let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]) else { return true }
        return (1 << n) * r * p < (1 << logCost) * blockSize * parallelism || n < logCost
    }

    /// The shortest password accepted. Length beats composition rules (NIST SP 800-63B).
    public static let minimumLength = 12

    /// Checks a new password against the policy; the message never repeats it.
    public static func validate(_ password: String) throws {
        guard password.count >= minimumLength else {
            throw PuenteError(
                .invalidArgument,
                "Choose a password of at least \(minimumLength) characters; a short sentence is easy to remember.")
        }
        guard Set(password).count >= 5 else {
            throw PuenteError(.invalidArgument, "Choose a password with more variety: it repeats too few characters.")
        }
    }

    public func hash(_ password: String) throws -> String {
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let derived = try derive(password, salt: salt, logCost: logCost, blockSize: blockSize, parallelism: parallelism)
        return [
            "scrypt", String(logCost), String(blockSize), String(parallelism), salt.base64EncodedString(),
            derived.base64EncodedString(),
        ].joined(separator: "$")
    }

    /// Whether `password` matches an encoded hash; false for a malformed one.
    public func verify(_ password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let logCost = Int(parts[1]), (10...20).contains(logCost),
            let r = Int(parts[2]), let p = Int(parts[3]), let salt = Data(base64Encoded: parts[4]),
            let expected = Data(base64Encoded: parts[5]),
            let derived = try? derive(password, salt: salt, logCost: logCost, blockSize: r, parallelism: p)
        else { return false }
        return Self.constantTimeEqual(derived, expected)
    }

    private func derive(_ password: String, salt: Data, logCost: Int, blockSize: Int, parallelism: Int) throws -> Data {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32,
            rounds: 1 << logCost, blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { Data($0) }
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// Random secrets handed to clients, and the hashes stored in their place.
public enum Secret {
    /// 256 random bits, base64url without padding, with a prefix telling what it is (`pt_` API token,
    /// `ps_` session): a leaked token is recognisable in a scan.
    public static func generate(prefix: String) -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return prefix
            + bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Hex SHA-256: what the store keeps. Secrets are random and long, so no salt or slow hash is needed.
    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
