import COpenSSL
import Crypto
import Foundation
import PuenteCore

#if canImport(Glibc)
    import Glibc
#endif

/// The keys that seal personal data at rest, with AES-256-GCM (authenticated: an altered value fails to
/// open). Keys live in a key file or the environment, never in the database.
///
/// A sealed value reads `pe1:<key id>:<base64 of nonce, ciphertext and tag>`; the associated data is
/// the column name (for an event's personal fields, also the event's agency and record key).
/// Rotation: `puente keys add` makes a new key active (old ones stay, so every value still opens),
/// `puente keys rotate` re-seals stored values with it, `puente keys retire` drops an old
/// key once nothing uses it. A running server that meets a key id it does not know reloads the file,
/// so rotation needs no restart.
public final class Keyring: PersonalDataCipher, @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [String: SymmetricKey]
    private var activeID: String
    /// The secret of the records' cell keys (`cellkey` in the key file). Key files written before it
    /// existed derive it from their first key, and pin it the next time they are written.
    private let cellKeySecret: SymmetricKey
    private let cellKeyMAC: HMACSHA256
    /// Keys the audit trail's chain; derived from the cell key secret, so it lives in the key file too.
    private let auditKey: SymmetricKey
    /// The node's signing identity (`node` and `signing` lines), once `puente node init` has made one.
    private var nodeIdentity: NodeIdentity?
    /// The file the keys came from, reread when a value names an unknown key.
    private let file: URL?
    private var nonces = NonceSource()

    static let prefix = "pe1:"

    init(keys: [String: SymmetricKey], active: String, file: URL?, cellKeySecret: SymmetricKey? = nil) {
        self.keys = keys
        activeID = active
        self.file = file
        let secret =
            cellKeySecret
            ?? HKDF<SHA256>.deriveKey(
                inputKeyMaterial: keys[keys.keys.min()!]!, info: Data("puente cell keys".utf8), outputByteCount: 32)
        self.cellKeySecret = secret
        cellKeyMAC = HMACSHA256(key: secret.withUnsafeBytes { Array($0) })
        auditKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: secret, info: Data("puente audit trail".utf8), outputByteCount: 32)
    }

    public func cellKey(agency: String, recordKey: String) -> UInt8 {
        cellKey(agency: agency, recordKey: recordKey, in: HMACSHA256.Work())
    }

    /// One digest context for the whole batch: an import asks for a cell key per record.
    public func cellKeys(_ events: [MovementEvent]) -> [UInt8] {
        let work = HMACSHA256.Work()
        // Through a buffer, by index: an array's subscript or `map` would copy each event.
        return events.withUnsafeBufferPointer { events in
            events.indices.map {
                cellKey(agency: events[$0].source.agency, recordKey: events[$0].source.recordKey, in: work)
            }
        }
    }

    /// The first byte of HMAC-SHA-256(secret, agency 0x1F record key), over the identity written to the stack.
    private func cellKey(agency: String, recordKey: String, in work: HMACSHA256.Work) -> UInt8 {
        var agency = agency, recordKey = recordKey
        return agency.withUTF8 { a in
            recordKey.withUTF8 { k in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: a.count + 1 + k.count) { message in
                    _ = message.initialize(fromContentsOf: a)
                    message[a.count] = 0x1F
                    _ = UnsafeMutableBufferPointer(rebasing: message[(a.count + 1)...]).initialize(fromContentsOf: k)
                    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HMACSHA256.size) { mac in
                        cellKeyMAC.authenticate(UnsafeRawBufferPointer(message), in: work, into: mac.baseAddress!)
                        return mac[0]
                    }
                }
            }
        }
    }

    public var activeKeyID: String { lock.withLock { activeID } }
    public var keyIDs: [String] { lock.withLock { keys.keys.sorted() } }

    // MARK: Sealing

    public func seal(_ clear: String, field: String) -> String {
        let (id, key, nonce) = lock.withLock { (activeID, keys[activeID]!, nonces.next()) }
        return Self.seal(clear, field: field, keyID: id, key: key, nonce: nonce)
    }

    /// Seals many values under one look at the keys and one expanded key (`GCMSealer`): an import seals
    /// a value per event, millions of times.
    public func seal(_ values: [(clear: String, field: String)]) -> [String] {
        let (id, key) = lock.withLock { (activeID, keys[activeID]!) }
        var nonces = [UInt8](repeating: 0, count: values.count * GCMSealer.nonceSize)
        nonces.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
        let sealer = GCMSealer(key: key)
        var boxed = [UInt8](repeating: 0, count: 512)
        var head = Self.prefix + id + ":"
        return head.withUTF8 { head in
            nonces.withUnsafeBytes { nonces in
                values.indices.map { i in
                    var clear = values[i].clear, field = values[i].field
                    return clear.withUTF8 { clear in
                        field.withUTF8 { field in
                            let size = GCMSealer.nonceSize + clear.count + GCMSealer.tagSize
                            if boxed.count < size { boxed = [UInt8](repeating: 0, count: 2 * size) }
                            let nonce = UnsafeRawBufferPointer(
                                rebasing: nonces[(i * GCMSealer.nonceSize)...].prefix(GCMSealer.nonceSize))
                            return boxed.withUnsafeMutableBufferPointer { out in
                                sealer.seal(clear, aad: field, nonce: nonce, into: out.baseAddress!)
                                return Base64.encode(
                                    [
                                        UnsafeRawBufferPointer(head),
                                        UnsafeRawBufferPointer(start: out.baseAddress, count: size),
                                    ],
                                    keepingFirst: 1)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `prefix`, the key id, `:` and the base64 of nonce, ciphertext and tag, built straight from the
    /// strings' bytes: the copies through `Data` cost more than the encryption.
    private static func seal(_ clear: String, field: String, keyID: String, key: SymmetricKey, nonce: AES.GCM.Nonce)
        -> String
    {
        var clear = clear, field = field
        // Sealing with a valid 256-bit key and a 96-bit nonce cannot fail.
        let box = clear.withUTF8 { c in
            field.withUTF8 { f in
                try! AES.GCM.seal(
                    UnsafeRawBufferPointer(c), using: key, nonce: nonce, authenticating: UnsafeRawBufferPointer(f))
            }
        }
        var head = prefix + keyID + ":"
        return head.withUTF8 { head in
            box.nonce.withUnsafeBytes { n in
                box.ciphertext.withUnsafeBytes { c in
                    box.tag.withUnsafeBytes { t in
                        Base64.encode([UnsafeRawBufferPointer(head), n, c, t], keepingFirst: 1)
                    }
                }
            }
        }
    }

    public func open(_ stored: String, field: String) throws -> String {
        guard stored.hasPrefix(Self.prefix) else { return stored }  // stored before encryption: rotate seals it
        // Messages name the column only: the rest of the associated data identifies a person's record.
        let column = field.prefix { $0 != "|" }
        let rest = stored.dropFirst(Self.prefix.count)
        guard let colon = rest.firstIndex(of: ":"),
            let combined = Data(base64Encoded: String(rest[rest.index(after: colon)...]))
        else {
            throw PuenteError(.storeFailure, "A sealed value of \(column) is malformed.")
        }
        let id = String(rest[..<colon])
        guard let key = try key(id) else {
            throw PuenteError(
                .storeFailure,
                "A value of \(column) is sealed with key \(id), which the key file does not hold; "
                    + "restore the key file that goes with this database.")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            return String(decoding: try AES.GCM.open(box, using: key, authenticating: Data(field.utf8)), as: UTF8.self)
        } catch {
            throw PuenteError(
                .storeFailure, "A sealed value of \(column) does not open with key \(id): it was altered or moved.")
        }
    }

    /// Whether a stored value should be sealed again: clear, or under a key other than the active one.
    public func needsResealing(_ stored: String) -> Bool {
        !stored.hasPrefix(Self.prefix + activeKeyID + ":")
    }

    private func key(_ id: String) throws -> SymmetricKey? {
        if let key = lock.withLock({ keys[id] }) { return key }
        guard let file, let fresh = try? Self.parse(String(contentsOf: file, encoding: .utf8), file: file) else {
            return nil
        }
        let freshNode = fresh.node
        lock.withLock {
            keys = fresh.keys
            activeID = fresh.activeID
            nodeIdentity = freshNode
        }
        return lock.withLock { keys[id] }
    }

    // MARK: Key files

    /// Reads keys from text: `active <id>` and `<id> <base64 32-byte key>` lines; `#` comments; lines may
    /// also be separated by `;` (for the `PUENTE_KEYS` variable).
    public static func parse(_ text: String, file: URL? = nil) throws -> Keyring {
        var keys: [String: SymmetricKey] = [:]
        var active: String?, cellKey: SymmetricKey?
        var node: (id: String, country: String)?, signing: (keyID: String, key: Curve25519.Signing.PrivateKey)?
        let source = file?.lastPathComponent ?? "PUENTE_KEYS"
        for (n, line) in text.split(whereSeparator: { $0 == "\n" || $0 == ";" }).enumerated() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            // The node's identity: `node ID COUNTRY` and `signing KEYID BASE64` (an Ed25519 private key).
            if first == "node" || first == "signing" {
                let location = InputLocation(file: source, row: n + 1, field: first)
                guard words.count == 3 else {
                    throw PuenteError(.invalidInput, "Expected `node ID COUNTRY` or `signing KEYID KEY`.", at: location)
                }
                if first == "node" {
                    node = (words[1], words[2])
                } else {
                    guard let bytes = Data(base64Encoded: words[2]), bytes.count == 32,
                        let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
                    else {
                        throw PuenteError(
                            .invalidInput, "Expected an Ed25519 private key in base64 (44 characters).", at: location)
                    }
                    signing = (words[1], key)
                }
                continue
            }
            guard words.count == 2 else {
                throw PuenteError(
                    .invalidInput, "Expected `active ID` or `ID KEY`.", at: InputLocation(file: source, row: n + 1))
            }
            if first == "active" { active = words[1]; continue }
            if first == "cellkey" {
                guard let bytes = Data(base64Encoded: words[1]), bytes.count == 32 else {
                    throw PuenteError(
                        .invalidInput, "Expected a 256-bit secret in base64 (44 characters).",
                        at: InputLocation(file: source, row: n + 1, field: first))
                }
                cellKey = SymmetricKey(data: bytes)
                continue
            }
            guard let bytes = Data(base64Encoded: words[1]), bytes.count == 32 else {
                throw PuenteError(
                    .invalidInput, "Expected a 256-bit key in base64 (44 characters).",
                    at: InputLocation(file: source, row: n + 1, field: first))
            }
            keys[first] = SymmetricKey(data: bytes)
        }
        guard let active, keys[active] != nil else {
            throw PuenteError(
                .invalidInput, "The keys need an `active ID` line naming one of them.", at: InputLocation(file: source))
        }
        let ring = Keyring(keys: keys, active: active, file: file, cellKeySecret: cellKey)
        switch (node, signing) {
        case (let node?, let signing?):
            ring.nodeIdentity = NodeIdentity(
                id: node.id, country: node.country, keyID: signing.keyID, signingKey: signing.key)
        case (nil, nil): break
        default:
            throw PuenteError(
                .invalidInput, "A node identity needs both its `node` and its `signing` line.",
                at: InputLocation(file: source))
        }
        return ring
    }

    /// The node's signing identity, if `puente node init` has made one.
    public var node: NodeIdentity? { lock.withLock { nodeIdentity } }

    /// Gives the node of this key file its identity and signing key; refuses to replace one (a node's
    /// partners know it by its key).
    @discardableResult
    public static func initNode(id: String, country: String, file: URL) throws -> NodeIdentity {
        let ring = try load(file: file)
        if let existing = ring.node {
            throw PuenteError(
                .conflict, "This key file already holds the identity of node \(existing.id); Puente never replaces it.",
                at: InputLocation(file: file.path))
        }
        let identity = try NodeIdentity.generate(id: id, country: country)
        ring.lock.withLock { ring.nodeIdentity = identity }
        try ring.write(to: file)
        return identity
    }

    /// Reads a key file, which must be readable by its owner only.
    public static func load(file: URL) throws -> Keyring {
        if let mode = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.posixPermissions] as? Int,
            mode & 0o077 != 0
        {
            throw PuenteError(
                .forbidden,
                "The key file can be read or written by other accounts (mode \(String(mode & 0o777, radix: 8))): "
                    + "make it private with `chmod 600 \(file.path)`.", at: InputLocation(file: file.path))
        }
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw PuenteError(
                .storeUnavailable, "Cannot read the key file; check its path and permissions.",
                at: InputLocation(file: file.path))
        }
        return try parse(text, file: file)
    }

    /// A keyring with one new key, for a new node, not written yet: `save()` writes it once the store
    /// is known to hold nothing sealed with other keys.
    public static func generate(file: URL) -> Keyring {
        let id = newKeyID()
        return Keyring(
            keys: [id: SymmetricKey(size: .bits256)], active: id, file: file,
            cellKeySecret: SymmetricKey(size: .bits256))
    }

    /// Writes the keyring to its file, readable by its owner only. Refuses to overwrite a key file.
    public func save() throws {
        guard let file else { throw PuenteError(.invalidArgument, "These keys have no file to be written to.") }
        guard !FileManager.default.fileExists(atPath: file.path) else {
            throw PuenteError(
                .conflict, "A key file exists there already; Puente never overwrites keys.",
                at: InputLocation(file: file.path))
        }
        try write(to: file)
    }

    /// Writes a key file with one new key, readable by its owner only. Refuses to overwrite one.
    @discardableResult
    public static func create(file: URL) throws -> Keyring {
        let ring = generate(file: file)
        try ring.save()
        return ring
    }

    /// Adds a key and makes it active; the others stay so every stored value still opens.
    public static func addKey(file: URL) throws -> String {
        let ring = try load(file: file)
        let id = newKeyID()
        ring.lock.withLock {
            ring.keys[id] = SymmetricKey(size: .bits256)
            ring.activeID = id
        }
        try ring.write(to: file)
        return id
    }

    /// A random key id (`k` and 8 hex digits): two nodes, or a key file created by mistake beside a
    /// database, never hold different keys under the same id.
    static func newKeyID() -> String {
        "k" + (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// Removes a key that is not active (the caller checks that no stored value uses it).
    public static func retire(_ id: String, file: URL) throws {
        let ring = try load(file: file)
        guard ring.keys[id] != nil else { throw PuenteError(.notFound, "The key file has no key \(id).") }
        guard id != ring.activeID else {
            throw PuenteError(.conflict, "Key \(id) is active; add a new key and rotate first.")
        }
        ring.lock.withLock { _ = ring.keys.removeValue(forKey: id) }
        try ring.write(to: file)
    }

    /// A keyring with a fixed key, for tests only; `file` places its audit head (and nothing else).
    public static func forTesting(file: URL? = nil) -> Keyring {
        Keyring(keys: ["t1": SymmetricKey(data: Data(repeating: 7, count: 32))], active: "t1", file: file)
    }

    private func write(to file: URL) throws {
        let (keys, active) = lock.withLock { (self.keys, activeID) }
        var text = """
            # Puente personal-data keys (AES-256-GCM). Keep this file away from the database and its backups,
            # and back it up separately: without it the personal data cannot be read.
            active \(active)
            cellkey \(cellKeySecret.withUnsafeBytes { Data($0) }.base64EncodedString())

            """
        if let node = lock.withLock({ nodeIdentity }) {
            text += "node \(node.id) \(node.country)\n"
            text += "signing \(node.keyID) \(node.signingKey.rawRepresentation.base64EncodedString())\n"
        }
        for id in keys.keys.sorted() {
            text += "\(id) " + keys[id]!.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n"
        }
        // Written to a private temporary file, then moved into place: never half-written, never world-readable.
        let temporary = file.deletingLastPathComponent().appendingPathComponent("." + file.lastPathComponent + ".tmp")
        guard
            FileManager.default.createFile(
                atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw PuenteError(
                .storeUnavailable, "Cannot write the key file; check the folder is writable.",
                at: InputLocation(file: file.path))
        }
        // rename(2) replaces the old file in one step. (Foundation's `replaceItemAt` on Linux moved the
        // key file away and left only the old keys, hidden in the temporary file.)
        guard rename(temporary.path, file.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw PuenteError(
                .storeUnavailable, "Cannot replace the key file (\(reason)); it is unchanged.",
                at: InputLocation(file: file.path))
        }
    }
}

/// Random 96-bit nonces, drawn from the kernel a few hundred at a time: asking for each one cost more
/// than the encryption itself. Random nonces stay safe for up to 2^32 seals per key; rotate well before.
struct NonceSource {
    private var buffer = [UInt8](repeating: 0, count: 12 * 512)
    private var used = 12 * 512

    mutating func next() -> AES.GCM.Nonce {
        if used == buffer.count {
            // One call to the kernel's random source for the whole buffer.
            buffer.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
            used = 0
        }
        defer { used += 12 }
        // A slice of 12 bytes is always a valid nonce.
        return try! AES.GCM.Nonce(data: buffer[used..<(used + 12)])
    }
}

/// Standard base64 (with padding) written straight into a string: one allocation per sealed value.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The first `keepingFirst` parts copied as they are, then the base64 of the rest, joined.
    static func encode(_ parts: [UnsafeRawBufferPointer], keepingFirst kept: Int) -> String {
        let plain = parts[..<kept].reduce(0) { $0 + $1.count }
        let encoded = parts[kept...].reduce(0) { $0 + $1.count }
        let capacity = plain + (encoded + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: capacity) { out in
            var o = 0
            for part in parts[..<kept] { for b in part { out[o] = b; o += 1 } }
            // Three bytes in, four characters out; the bytes may straddle the parts.
            var group: UInt32 = 0, filled = 0
            for part in parts[kept...] {
                for b in part {
                    group = group << 8 | UInt32(b)
                    filled += 1
                    if filled == 3 {
                        out[o] = alphabet[Int(group >> 18 & 63)]; out[o + 1] = alphabet[Int(group >> 12 & 63)]
                        out[o + 2] = alphabet[Int(group >> 6 & 63)]; out[o + 3] = alphabet[Int(group & 63)]
                        o += 4; group = 0; filled = 0
                    }
                }
            }
            if filled > 0 {
                group <<= 8 * UInt32(3 - filled)
                out[o] = alphabet[Int(group >> 18 & 63)]; out[o + 1] = alphabet[Int(group >> 12 & 63)]
                out[o + 2] = filled == 2 ? alphabet[Int(group >> 6 & 63)] : UInt8(ascii: "=")
                out[o + 3] = UInt8(ascii: "=")
                o += 4
            }
            return o
        }
    }
}

// MARK: The audit trail's key and head

extension Keyring: AuditChainKey {
    public func auditHash(of text: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: auditKey).map { String(format: "%02x", $0) }
            .joined()
    }

    /// Beside the key file (`<key file>.audit-head`), private like it; none when the keys come from the
    /// environment.
    var auditHeadFile: URL? { file.map { $0.appendingPathExtension("audit-head") } }

    public func anchoredAuditHead() throws -> AuditHead? {
        guard let url = auditHeadFile, FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try withLockedAuditHead(url) { $0 }
    }

    /// Moves the head recorded beside the key file back to `head`: after a restore, whose trail ends
    /// where the backup did. Only a restore calls it (and records itself in the trail right after).
    public func rewindAuditHead(to head: AuditHead) throws {
        guard let url = auditHeadFile, FileManager.default.fileExists(atPath: url.path) else { return }
        try withLockedAuditHead(url) { current in
            AuditHead(sequence: head.sequence, hash: head.hash, keyedFrom: current?.keyedFrom ?? head.keyedFrom)
        }
    }

    public func anchorAuditHead(_ head: AuditHead) throws {
        guard let url = auditHeadFile else { return }
        try withLockedAuditHead(url) { current in
            guard current.map({ $0.sequence < head.sequence }) ?? true else { return current }
            return AuditHead(sequence: head.sequence, hash: head.hash, keyedFrom: current?.keyedFrom ?? head.keyedFrom)
        }
    }

    /// Reads the head file under an exclusive lock (the server and commands append from several
    /// processes), lets `update` decide the new head and writes it when it changed.
    @discardableResult
    private func withLockedAuditHead(_ url: URL, _ update: (AuditHead?) throws -> AuditHead?) throws -> AuditHead? {
        let fd = Glibc.open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw PuenteError(
                .storeUnavailable, "Cannot open the audit head file (\(String(cString: strerror(errno)))).",
                at: InputLocation(file: url.path))
        }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        var bytes = [UInt8](repeating: 0, count: 512)
        let count = pread(fd, &bytes, bytes.count, 0)
        let text = String(decoding: bytes[..<max(count, 0)], as: UTF8.self)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2 { fields[String(words[0])] = String(words[1]) }
        }
        let current: AuditHead?
        if text.isEmpty {
            current = nil
        } else if let sequence = fields["sequence"].flatMap({ Int64($0) }), let hash = fields["hash"],
            let keyedFrom = fields["keyed-from"].flatMap({ Int64($0) })
        {
            current = AuditHead(sequence: sequence, hash: hash, keyedFrom: keyedFrom)
        } else {
            throw PuenteError(
                .storeFailure, "The audit head file is damaged: expected `sequence`, `hash` and `keyed-from` lines.",
                at: InputLocation(file: url.path))
        }
        let updated = try update(current)
        guard let updated, updated != current else { return current }
        let out = Array(
            "# Puente audit trail head, kept outside the database; see docs/security.md\nsequence \(updated.sequence)\nhash \(updated.hash)\nkeyed-from \(updated.keyedFrom)\n"
                .utf8)
        // A few hundred bytes at offset 0: written in one call, after which the old tail is cut.
        guard pwrite(fd, out, out.count, 0) == out.count, ftruncate(fd, off_t(out.count)) == 0 else {
            throw PuenteError(
                .storeUnavailable, "Cannot write the audit head file (\(String(cString: strerror(errno)))).",
                at: InputLocation(file: url.path))
        }
        return updated
    }
}
