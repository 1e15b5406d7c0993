import Foundation
import SQLite

/// The documents one claimant holds on a shared store, each with the epoch its claim got
/// (see ``AuditLog/claimDocuments(_:holder:ttl:now:)``).
public struct DocumentClaims: Sendable, Hashable {
    /// The claimant: one task of a worker (a replay round, an operator request, a reconcile
    /// page), named by the worker's run lease holder id and a task number, so that two tasks of
    /// one process never take each other's claims.
    public var holder: String
    /// Each claimed document's epoch.
    public var epochs: [String: Int64]

    /// Makes a set of claims.
    public init(holder: String, epochs: [String: Int64]) {
        self.holder = holder
        self.epochs = epochs
    }

    /// Whether `documentID` is among them.
    public func holds(_ documentID: String) -> Bool {
        epochs[documentID] != nil
    }
}

extension AuditLog {
    /// Claims those of `documentIDs` no other claimant holds (free, released, or expired), for
    /// `holder` until `ttl` from now, each with a new epoch. Expiry is judged and written by the
    /// database's clock, never `now` (a worker's clock), so a worker whose clock is off takes no
    /// claim early and keeps none too long.
    ///
    /// Two statements that wait for no other worker: on PostgreSQL rows locked by another claim
    /// in progress, or by a record checking its claim, are skipped (`FOR UPDATE SKIP LOCKED`); on
    /// SQLite each statement holds the store's one write lock, so none is ever seen half done. A
    /// document this claimant already holds is claimed again with a new epoch; one another live
    /// claimant holds is not free, even when that claimant is a task of the same process. Both
    /// stores: on SQLite the run lease makes one process the only replayer, but operator commands
    /// write beside it, and claims keep each document to one task at a time (migration 0019).
    /// On SQLite a claim whose holder's process died is free at once too
    /// (``holdClaimantLock(for:)``).
    /// - Returns: The documents claimed, with their epochs; the others are another worker's now.
    /// - Throws: ``AuditLogError`` `.storage`.
    public func claimDocuments(_ documentIDs: [String], holder: String, ttl: Duration, now: Date) throws(AuditLogError)
        -> DocumentClaims
    {
        guard !documentIDs.isEmpty else { return DocumentClaims(holder: holder, epochs: [:]) }
        let ids = Self.jsonArray(Array(Set(documentIDs)))
        // Two statements, each atomic by itself, in no transaction: two round trips. The rows
        // exist once the first is done (whoever made them); the second locks those free now,
        // passing over any another claimant is locking, and claims them.
        return try statement { db in
            let clock = db.expiryClockSQL(now)
            // In one order for every claimant: two inserting the same new rows in different orders
            // would each wait for a row the other inserted (a deadlock).
            try db.run(
                "INSERT INTO document_claims (document_id) SELECT value FROM json_each(?) ORDER BY value ON CONFLICT DO NOTHING",
                [ids])
            // On SQLite, the claims of a process that died (its kernel lock free) are free at once.
            if !db.isPostgres {
                var holders: Set<String> = []
                try db.forEachRow(
                    """
                    SELECT DISTINCT holder FROM document_claims WHERE document_id IN (SELECT value FROM json_each(?))
                    AND holder IS NOT NULL AND holder <> ? AND expires_at > ?
                    """, [ids, holder] + clock.bindings
                ) { row in holders.insert(row.column(0)) }
                for process in Set(deadClaimants(holders).map(Self.process(of:))) {
                    try Self.releaseTaskClaims(of: process, in: db)
                }
            }
            var epochs: [String: Int64] = [:]
            try db.forEachRow(
                """
                UPDATE document_claims SET holder = ?, epoch = epoch + 1, expires_at = \(clock.sql) + ?
                WHERE document_id IN (
                    SELECT document_id FROM document_claims
                    WHERE document_id IN (SELECT value FROM json_each(?)) AND (holder IS NULL OR holder = ? OR expires_at <= \(clock.sql))
                    ORDER BY document_id\(db.isPostgres ? " FOR UPDATE SKIP LOCKED" : ""))
                RETURNING document_id, epoch
                """, [holder] + clock.bindings + [max(1, ttl.milliseconds), ids, holder] + clock.bindings
            ) { row in epochs[row.column(0)] = row.column(1) }
            return DocumentClaims(holder: holder, epochs: epochs)
        }
    }

    /// Extends `claims` still held (same holder and epoch, unexpired) to `ttl` from now, by the
    /// database's clock (`now` only on SQLite), in one statement.
    /// - Returns: The claims still held.
    /// - Throws: ``AuditLogError`` `.storage`.
    public func renewClaims(_ claims: DocumentClaims, ttl: Duration, now: Date) throws(AuditLogError) -> DocumentClaims {
        guard !claims.epochs.isEmpty else { return claims }
        return try statement { db in
            let clock = db.expiryClockSQL(now)
            var renewed: [String: Int64] = [:]
            try db.forEachRow(
                """
                UPDATE document_claims SET expires_at = \(clock.sql) + ?
                WHERE holder = ? AND expires_at > \(clock.sql) AND document_id IN (SELECT value FROM json_each(?))
                AND document_id || ':' || epoch IN (SELECT value FROM json_each(?))
                RETURNING document_id, epoch
                """,
                clock.bindings + [max(1, ttl.milliseconds), claims.holder] + clock.bindings
                    + [Self.jsonArray(Array(claims.epochs.keys)), Self.claimKeys(claims)]
            ) { row in
                let id: String = row.column(0)
                if claims.epochs[id] == row.column(1) { renewed[id] = claims.epochs[id] }
            }
            return DocumentClaims(holder: claims.holder, epochs: renewed)
        }
    }

    /// Gives `claims` up (those still held with their epochs): other claimants may claim the
    /// documents at once. A document claimed again since (by another claimant, or by this one
    /// with a newer epoch) is left as it is.
    /// - Throws: ``AuditLogError`` `.storage`.
    public func releaseClaims(_ claims: DocumentClaims) throws(AuditLogError) {
        guard !claims.epochs.isEmpty else { return }
        try statement { db in
            try db.run(
                """
                UPDATE document_claims SET holder = NULL, expires_at = 0
                WHERE holder = ? AND document_id IN (SELECT value FROM json_each(?))
                AND document_id || ':' || epoch IN (SELECT value FROM json_each(?))
                """, [claims.holder, Self.jsonArray(Array(claims.epochs.keys)), Self.claimKeys(claims)])
        }
    }

    /// On SQLite, inside the write that takes the run lease over with its kernel lock held: the
    /// lease's previous holder is gone, so the claims its tasks (`holder#n`) still hold are
    /// released, for the new replayer to finish (or drop) the writes they left open at once
    /// instead of after their time to live. Epochs stay, so a late record of theirs is refused.
    static func releaseTaskClaims(of holder: String, in db: AuditDatabase) throws {
        let prefix = holder + "#"
        try db.run(
            "UPDATE document_claims SET holder = NULL, expires_at = 0 WHERE holder IS NOT NULL AND substr(holder, 1, ?) = ?",
            [Int64(prefix.unicodeScalars.count), prefix])
    }

    /// `claims` as a JSON array of `document:epoch` strings (the epoch, after the last colon, is
    /// a number, so each pair reads back one way), matched against `document_id || ':' || epoch`.
    static func claimKeys(_ claims: DocumentClaims) -> String {
        jsonArray(claims.epochs.map { "\($0.key):\($0.value)" })
    }

    /// How far the database's clock is ahead of this process's (negative when behind), on a
    /// shared store, for the logs: claims and leases expire by the database's clock, so an offset
    /// changes nothing they decide, but it skews what a worker's logs and reports say. Measured by one query, against the middle of its
    /// round trip. `nil` on SQLite, whose store one machine's clock serves.
    /// - Parameter clock: This process's clock (tests shift it).
    /// - Throws: ``AuditLogError`` `.storage`.
    public func databaseClockOffset(clock: @Sendable () -> Date = { Date() }) throws(AuditLogError) -> Duration? {
        guard isShared else { return nil }
        return try read { db in
            let sent = clock()
            guard let databaseMilliseconds = try db.postgresNowMilliseconds() else { return nil }
            let received = clock()
            let middle = sent.addingTimeInterval(received.timeIntervalSince(sent) / 2)
            return .milliseconds(databaseMilliseconds - middle.databaseMilliseconds)
        }
    }

    /// Who holds `documentID` now, by the database's clock (nil when nobody does).
    /// - Throws: ``AuditLogError``.
    public func claimHolder(of documentID: String, now: Date) throws(AuditLogError) -> String? {
        try read { db in
            try db.queryOne(
                "SELECT holder FROM document_claims WHERE document_id = ? AND holder IS NOT NULL AND expires_at > ?",
                [documentID, try db.expiryClock(now)]
            ) { $0.column(0) as String }
        }
    }

    /// Inside a write: checks that every one of `claims` is still held by its holder with its
    /// epoch and unexpired (by the database's clock; `now` only on SQLite), locking the rows `FOR SHARE` so that no take-over commits
    /// before this write does (on SQLite the write transaction's lock keeps every claim out until
    /// it ends); and that they include each of `documentIDs`, the documents the write records
    /// something for.
    /// - Throws: ``AuditLogError`` `.leaseLost` naming the first document whose claim is gone
    ///   or was never taken.
    static func check(_ claims: DocumentClaims?, covering documentIDs: [String] = [], now: Int64, in db: AuditDatabase)
        throws
    {
        guard let claims else { return }
        if let unclaimed = documentIDs.first(where: { !claims.holds($0) }) {
            throw AuditLogError(
                code: .leaseLost, description: "\(claims.holder) holds no claim on document \(unclaimed); nothing written")
        }
        guard !claims.epochs.isEmpty else { return }
        let clock = db.expiryClockSQL(Date(databaseMilliseconds: now))
        var held: [String: Int64] = [:]
        try db.forEachRow(
            """
            SELECT document_id, epoch FROM document_claims
            WHERE holder = ? AND expires_at > \(clock.sql) AND document_id IN (SELECT value FROM json_each(?))\(db.isPostgres ? " FOR SHARE" : "")
            """, [claims.holder] + clock.bindings + [jsonArray(Array(claims.epochs.keys))]
        ) { row in held[row.column(0)] = row.column(1) }
        for (document, epoch) in claims.epochs.sorted(by: { $0.key < $1.key }) where held[document] != epoch {
            throw AuditLogError(
                code: .leaseLost,
                description:
                    "the claim of \(claims.holder) on document \(document) (epoch \(epoch)) expired or was taken over; nothing written"
            )
        }
    }
}
