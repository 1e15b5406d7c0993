import SQLite

/// The end of the action chain as a write transaction sees it: the newest action's id and hash,
/// and the anchor that keys new actions. ``AuditLog/appendActions(_:at:in:)``
/// reads it from the store at a transaction's first append and then carries it forward itself
/// (``AuditDatabase/chainTail``): the transaction holds the store's write lock, so nothing else
/// appends in between, and an ingest of a thousand changes reads the tail once, not a thousand times.
struct ChainTail {
    /// The newest anchor (nil when the chain is unkeyed).
    var anchor: ChainAnchor?
    /// The id of the newest action ever appended (0 when none was).
    var lastID: Int64
    /// That action's hash, as the 32 bytes the next action chains to (nil when there is none,
    /// when its row is gone, or when what the row holds is not a hash).
    var lastHash: [UInt8]?

    /// Reads the tail from the store, inside the caller's transaction.
    static func read(in db: AuditDatabase) throws -> ChainTail {
        let anchor = try ChainAnchor.latest(in: db)
        // A lock that waited for another writer's commit sees that writer's new `chain_head`
        // but not, in its statement's snapshot, the action it points at: then the hash is read anew.
        if let end = db.lockedChainEnd, end.lastID == 0 || end.hash != nil {
            return ChainTail(anchor: anchor, lastID: end.lastID, lastHash: end.hash.flatMap(ActionChain.bytes(ofHex:)))
        }
        let lastID = try db.highestActionID()
        let lastHash =
            lastID == 0 ? nil : try db.queryOne("SELECT hash FROM actions WHERE id = ?", [lastID]) { $0.column(0) as String }
        return ChainTail(anchor: anchor, lastID: lastID, lastHash: lastHash.flatMap(ActionChain.bytes(ofHex:)))
    }
}
