import COpenSSL

/// HMAC-SHA-256 (RFC 2104) under one key, for many short messages: the cell key of every imported
/// record. OpenSSL's one-shot `HMAC` fetches the algorithm and keys a new context on every call, which
/// cost more than sealing the record; here the key's inner and outer SHA-256 states are computed once,
/// and a message costs its own blocks and one outer block, each digest continued from a copy of a state.
public final class HMACSHA256: @unchecked Sendable {  // the states are only read (copied from) after init
    private let inner: OpaquePointer
    private let outer: OpaquePointer

    public static let size = 32

    public init(key: [UInt8]) {
        // Longer keys would be hashed first; Puente's secrets are 32 bytes.
        precondition(key.count <= 64, "HMAC-SHA-256 keys longer than a block are not supported")
        inner = EVP_MD_CTX_new()!
        outer = EVP_MD_CTX_new()!
        var ok: Int32 = 1
        for (state, pad) in [(inner, UInt8(0x36)), (outer, UInt8(0x5C))] {
            let block = (0..<64).map { i in (i < key.count ? key[i] : 0) ^ pad }
            ok &= EVP_DigestInit_ex(state, EVP_sha256(), nil)
            ok &= EVP_DigestUpdate(state, block, block.count)
        }
        precondition(ok == 1, "SHA-256 setup failed")
    }

    deinit {
        EVP_MD_CTX_free(inner)
        EVP_MD_CTX_free(outer)
    }

    /// A digest context for one thread's messages: the key's states are shared, the work is not.
    public final class Work {
        let context = EVP_MD_CTX_new()!
        public init() {}
        deinit { EVP_MD_CTX_free(context) }
    }

    /// Writes the MAC of `message` to `mac`, which must hold `size` bytes.
    public func authenticate(_ message: UnsafeRawBufferPointer, in work: Work, into mac: UnsafeMutablePointer<UInt8>) {
        var length: UInt32 = 0, ok: Int32 = 1
        ok &= EVP_MD_CTX_copy_ex(work.context, inner)
        if message.count > 0 { ok &= EVP_DigestUpdate(work.context, message.baseAddress, message.count) }
        ok &= EVP_DigestFinal_ex(work.context, mac, &length)
        ok &= EVP_MD_CTX_copy_ex(work.context, outer)
        ok &= EVP_DigestUpdate(work.context, mac, Int(length))
        ok &= EVP_DigestFinal_ex(work.context, mac, &length)
        precondition(ok == 1 && length == Self.size, "HMAC-SHA-256 failed")
    }
}
