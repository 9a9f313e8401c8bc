import COpenSSL
import Crypto

/// AES-256-GCM sealing of many values under one key through OpenSSL's EVP interface, keeping one
/// context: the key is expanded once per batch instead of once per value, and nothing is allocated per
/// value. The output is what `AES.GCM.SealedBox.combined` holds (nonce, ciphertext, tag), so values
/// sealed here open with Swift Crypto.
final class GCMSealer {
    private let context: OpaquePointer

    static let nonceSize = 12
    static let tagSize = 16

    init(key: SymmetricKey) {
        // Allocation failure is the only way these calls fail with a valid 256-bit key.
        context = EVP_CIPHER_CTX_new()!
        let ready = key.withUnsafeBytes { key in
            EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key.bindMemory(to: UInt8.self).baseAddress, nil)
        }
        precondition(ready == 1 && key.bitCount == 256, "AES-256-GCM setup failed")
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// Writes nonce, ciphertext and tag of `clear` (with associated data `aad`) to `out`, which must hold
    /// `nonceSize + clear.count + tagSize` bytes.
    func seal(
        _ clear: UnsafeBufferPointer<UInt8>, aad: UnsafeBufferPointer<UInt8>, nonce: UnsafeRawBufferPointer,
        into out: UnsafeMutablePointer<UInt8>
    ) {
        precondition(nonce.count == Self.nonceSize)
        out.update(from: nonce.bindMemory(to: UInt8.self).baseAddress!, count: Self.nonceSize)
        var length: Int32 = 0, ok: Int32 = 1
        // A new nonce on the same context keeps the expanded key.
        ok &= EVP_EncryptInit_ex(context, nil, nil, nil, out)
        if aad.count > 0 { ok &= EVP_EncryptUpdate(context, nil, &length, aad.baseAddress, Int32(aad.count)) }
        let body = out + Self.nonceSize
        if clear.count > 0 { ok &= EVP_EncryptUpdate(context, body, &length, clear.baseAddress, Int32(clear.count)) }
        ok &= EVP_EncryptFinal_ex(context, body + clear.count, &length)
        ok &= EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagSize), body + clear.count)
        precondition(ok == 1, "AES-256-GCM sealing failed")
    }
}
