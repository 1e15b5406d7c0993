import Crypto
import Foundation

/// The secret that keys the action chain: every action written with it is hashed with
/// HMAC-SHA-256 under this key instead of plain SHA-256, so that whoever can write the
/// database file but does not hold the key cannot rewrite the chain.
///
/// The key never lives in the database. Its ``keyID`` (a public fingerprint) is recorded
/// with the chain, so a wrong key is named as such. The description never shows the key.
public struct AuditChainKey: Sendable, CustomStringConvertible {
    /// The fewest bytes a key may have.
    public static let minimumLength = 32

    let symmetricKey: SymmetricKey
    /// A public fingerprint of the key: the first 16 hex digits of
    /// `HMAC-SHA-256(key, "dlq-reprocessor audit chain key id")`.
    public let keyID: String

    /// Makes a key from its bytes.
    /// - Parameter bytes: The secret, at least ``minimumLength`` bytes.
    /// - Throws: ``AuditLogError`` with code `.invalidKey` when it is shorter.
    public init(bytes: some Collection<UInt8>) throws(AuditLogError) {
        guard bytes.count >= Self.minimumLength else {
            throw AuditLogError(
                code: .invalidKey,
                description:
                    "the audit chain key has \(bytes.count) bytes; it needs at least \(Self.minimumLength) (e.g. openssl rand -hex 32)"
            )
        }
        symmetricKey = SymmetricKey(data: Array(bytes))
        let id = HMAC<SHA256>.authenticationCode(for: Array("dlq-reprocessor audit chain key id".utf8), using: symmetricKey)
        keyID = String(ActionChain.hex(Array(id)).prefix(16))
    }

    /// Makes a key from the text of a key file or secret: the text with surrounding white
    /// space removed, as UTF-8 bytes (so `openssl rand -hex 32 > key` gives a 64-byte key).
    /// - Throws: ``AuditLogError`` with code `.invalidKey` when it is too short.
    public init(text: String) throws(AuditLogError) {
        try self.init(bytes: Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8))
    }

    /// `AuditChainKey(id: …)`: the fingerprint only.
    public var description: String {
        "AuditChainKey(id: \(keyID))"
    }
}
