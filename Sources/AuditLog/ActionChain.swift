import Crypto
import Foundation
import SQLite

/// The hash chain over the actions table.
///
/// Each action's `hash` is `lowercase hex(SHA-256(previous ‖ canonical(row)))`, where
/// `previous` is the 32 raw bytes of the previous action's hash (the action whose id is one
/// less; 32 zero bytes for the first action) and `canonical(row)` encodes the row's columns
/// `id, change_id, message_id, action, actor, reason, outcome, response, at`, in that order,
/// each as:
///
/// - NULL: the byte `0x00`;
/// - an integer (`id`, `change_id`, `at` in milliseconds since 1970): `0x01`, then the value as
///   8 bytes, big-endian two's complement;
/// - text: `0x02`, then the UTF-8 byte count as 8 bytes big-endian, then the UTF-8 bytes.
///
/// The encoding is prefix-free, so two different rows never encode alike. Verification
/// recomputes it from the values stored in the file, so any edit of any column, a removed
/// row or a re-ordered row breaks the chain at that row.
///
/// **Keyed chain.** From the first action written with an ``AuditChainKey`` on, the hash is
/// `HMAC-SHA-256(key, previous ‖ canonical(row))` instead: without the key nobody can
/// recompute it. Where the key was introduced is recorded in `chain_anchors` (migration
/// 0004): the first keyed action's id, the key's public id, the hash it chains to, the time,
/// and `mac = HMAC-SHA-256(key, canonical("anchor", first_action_id, previous_hash, key_id,
/// anchored_at))`, so only the key's holder can record an anchor. Actions before the anchor
/// keep their plain SHA-256 hashes.
enum ActionChain {
    /// The previous hash of the first action: 32 zero bytes.
    static let genesis = [UInt8](repeating: 0, count: 32)

    /// The canonical bytes of one row's columns (see the type's documentation).
    static func canonicalEncoding(of columns: [SQLValue]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(columns.reduce(0) { $0 + encodedCount(of: $1) })
        for column in columns {
            switch column {
            case .null:
                bytes.append(0x00)
            case .integer(let value):
                bytes.append(0x01)
                appendBigEndian(UInt64(bitPattern: value), to: &bytes)
            case .text(let text):
                bytes.append(0x02)
                appendBigEndian(UInt64(text.utf8.count), to: &bytes)
                bytes.append(contentsOf: text.utf8)
            case .real(let value):
                // The schema (STRICT) has no REAL or BLOB columns in actions; encode them distinctly anyway.
                bytes.append(0x03)
                appendBigEndian(value.bitPattern, to: &bytes)
            case .blob(let blob):
                bytes.append(0x04)
                appendBigEndian(UInt64(blob.count), to: &bytes)
                bytes.append(contentsOf: blob)
            }
        }
        return bytes
    }

    /// The hex hash of a row given its predecessor's hash bytes: SHA-256, or HMAC-SHA-256
    /// under `key` for an action in the keyed part of the chain.
    static func hash(previous: [UInt8], columns: [SQLValue], key: AuditChainKey? = nil) -> String {
        hex(digest(previous: previous, columns: columns, key: key))
    }

    /// The raw 32 bytes of ``hash(previous:columns:key:)``: what the next action chains to.
    static func digest(previous: [UInt8], columns: [SQLValue], key: AuditChainKey? = nil) -> [UInt8] {
        let encoding = canonicalEncoding(of: columns)
        guard let key else {
            var hasher = SHA256()
            hasher.update(data: previous)
            hasher.update(data: encoding)
            return Array(hasher.finalize())
        }
        var authenticator = HMAC<SHA256>(key: key.symmetricKey)
        authenticator.update(data: previous)
        authenticator.update(data: encoding)
        return Array(authenticator.finalize())
    }

    /// The mac of a key anchor (see the type's documentation).
    static func anchorMAC(firstActionID: Int64, previousHash: String?, anchoredAt: Int64, key: AuditChainKey) -> String {
        let columns: [SQLValue] = [
            .text("anchor"), .integer(firstActionID), previousHash.map(SQLValue.text) ?? .null, .text(key.keyID),
            .integer(anchoredAt),
        ]
        return hex(Array(HMAC<SHA256>.authenticationCode(for: canonicalEncoding(of: columns), using: key.symmetricKey)))
    }

    /// Lowercase hex.
    static func hex(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { text in
            for (offset, byte) in bytes.enumerated() {
                text[2 * offset] = hexDigits[Int(byte >> 4)]
                text[2 * offset + 1] = hexDigits[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The bytes of a 64-character hex hash, nil when it is not one.
    static func bytes(ofHex text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// SHA-256 hex of a migration's text: the checksum recorded in `schema_migrations`.
    static func migrationChecksum(_ sql: String) -> String {
        hex(Array(SHA256.hash(data: Array(sql.utf8))))
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// How many bytes ``canonicalEncoding(of:)`` spends on `column`.
    private static func encodedCount(of column: SQLValue) -> Int {
        switch column {
        case .null: 1
        case .integer, .real: 9
        case .text(let text): 9 + text.utf8.count
        case .blob(let blob): 9 + blob.count
        }
    }

    private static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
