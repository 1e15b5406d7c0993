import Foundation
import SQLite

/// Where a key started keying the action chain: a row of `chain_anchors` (see ``ActionChain``).
struct ChainAnchor {
    /// The first action hashed with the key.
    var firstActionID: Int64
    /// The key's public id.
    var keyID: String
    /// The hash the first keyed action chains to (nil when it is the first action).
    var previousHash: String?
    /// When the anchor was recorded (milliseconds).
    var anchoredAt: Int64
    /// HMAC of the anchor's fields under the key.
    var mac: String

    /// The newest anchor: the one that keys new actions (nil when the chain is unkeyed).
    static func latest(in db: AuditDatabase) throws -> ChainAnchor? {
        try db.queryOne("SELECT \(columns) FROM chain_anchors ORDER BY first_action_id DESC LIMIT 1") { try anchor(from: $0) }
    }

    /// Every anchor, oldest first.
    static func all(in db: AuditDatabase) throws -> [ChainAnchor] {
        try db.query("SELECT \(columns) FROM chain_anchors ORDER BY first_action_id") { try anchor(from: $0) }
    }

    /// Keys the chain with `key` from the next action on, unless the newest anchor already
    /// names this key. Runs inside the caller's write transaction.
    /// - Throws: ``AuditLogError`` `.invalidKey` when the chain is keyed with another key.
    static func anchor(_ key: AuditChainKey, at now: Int64, in db: AuditDatabase) throws {
        if let latest = try latest(in: db) {
            guard latest.keyID == key.keyID else { throw wrongKey(latest, key) }
            return
        }
        let lastID = try db.highestActionID()
        let previousHash =
            lastID == 0 ? nil : try db.queryOne("SELECT hash FROM actions WHERE id = ?", [lastID]) { $0.column(0) as String }
        let first = lastID + 1
        try db.run(
            "INSERT INTO chain_anchors (first_action_id, key_id, previous_hash, anchored_at, mac) VALUES (?, ?, ?, ?, ?)",
            [
                first, key.keyID, previousHash, now,
                ActionChain.anchorMAC(firstActionID: first, previousHash: previousHash, anchoredAt: now, key: key),
            ])
        // The next append in this transaction reads the new anchor.
        db.chainTail = nil
    }

    /// Whether the anchor was written by the holder of `key`.
    func isSigned(by key: AuditChainKey) -> Bool {
        keyID == key.keyID
            && mac
                == ActionChain.anchorMAC(
                    firstActionID: firstActionID, previousHash: previousHash, anchoredAt: anchoredAt, key: key)
    }

    static func wrongKey(_ anchor: ChainAnchor, _ key: AuditChainKey) -> AuditLogError {
        AuditLogError(
            code: .invalidKey,
            description:
                "the audit chain is keyed (from action \(anchor.firstActionID)) with key id \(anchor.keyID), not with the key given (id \(key.keyID))"
        )
    }

    static func keyRequired(_ anchor: ChainAnchor) -> AuditLogError {
        AuditLogError(
            code: .keyRequired,
            description:
                "the audit chain is keyed from action \(anchor.firstActionID) (key id \(anchor.keyID)); open the audit log with that key to write or verify it"
        )
    }

    private static let columns = "first_action_id, key_id, previous_hash, anchored_at, mac"

    private static func anchor(from row: any SQLRow) throws -> ChainAnchor {
        ChainAnchor(
            firstActionID: row.column(0), keyID: row.column(1), previousHash: row.column(2), anchoredAt: row.column(3),
            mac: row.column(4))
    }
}
