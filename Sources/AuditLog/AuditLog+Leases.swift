import Foundation
import SQLite

extension AuditLog {
    /// The lease `run --once` and `serve` hold while they ingest and replay.
    public static let runLeaseName = "run"

    /// Takes the lease `name` for `holder`, recording a new epoch.
    ///
    /// On an embedded store the row mirrors a lock the caller holds outside the database (a
    /// kernel lock that dies with its holder). With `lockHeld`, the caller has that lock, so
    /// whoever the row names is gone: the lease is taken over whatever the row says. Without
    /// it, someone else has the lock, and the lease is taken only when the row shows that
    /// holder stopped: not renewed (nor taken, nor released) within its time to live, as a
    /// stopped or hung process. A missing or just-released row is not taken without the lock:
    /// the lock's holder is about to write it.
    ///
    /// On a shared store there is no kernel lock: the row is the lease. A missing row (a new
    /// store) or a released one is free, and so is one its holder stopped renewing.
    ///
    /// The take is a compare-and-set on the epoch it read, so of two processes that race for
    /// the same row exactly one wins. Either way the epoch grows, which fences the previous
    /// holder's writes (``checkFence(_:)``).
    /// - Parameters:
    ///   - name: The lease, e.g. `run`.
    ///   - holder: The new holder's id.
    ///   - ttl: How long the lease counts as held without a renewal.
    ///   - lockHeld: Whether the caller holds the lease's kernel lock.
    ///   - now: The time of the take-over: the worker's clock on SQLite; a shared store judges and
    ///     writes by its own clock.
    /// - Returns: The new holder's fence, or nil when another holder has the lease.
    /// - Throws: ``AuditLogError`` `.storage`.
    public func takeLease(name: String, holder: String, ttl: Duration, lockHeld: Bool, now: Date) throws(AuditLogError)
        -> LeaseFence?
    {
        let ttlMilliseconds = max(1, ttl.milliseconds)
        return try write { db in
            // A shared store's leases expire by its own clock, whatever the worker's says.
            let nowMilliseconds = try db.expiryClock(now)
            let current = try Self.leaseState(name: name, in: db)
            if !lockHeld {
                if let current {
                    let free =
                        current.expiresAt.databaseMilliseconds <= nowMilliseconds
                        || (isShared && current.releasedAt != nil)
                    guard free else { return nil }
                } else if !isShared {
                    return nil
                }
            }
            let readEpoch = current?.epoch ?? 0
            let epoch = readEpoch + 1
            let taken = try db.run(
                """
                INSERT INTO leases (name, holder, acquired_at, ttl_ms, expires_at, epoch, renewed_at, released_at)
                VALUES (?1, ?2, ?3, ?4, ?3 + ?4, ?5, NULL, NULL)
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
                    ttl_ms = excluded.ttl_ms, expires_at = excluded.expires_at, epoch = excluded.epoch,
                    renewed_at = NULL, released_at = NULL
                WHERE leases.epoch = ?6
                """, [name, holder, nowMilliseconds, ttlMilliseconds, epoch, readEpoch])
            guard taken == 1 else { return nil }
            // The kernel lock is ours and the row was never released: its holder died, and so did
            // its tasks' document claims (one that released the lease may live on, e.g. `serve`
            // answering requests while it stops, and its tasks give their claims back themselves).
            if lockHeld, !isShared, let current, current.holder != holder, current.releasedAt == nil {
                try Self.releaseTaskClaims(of: current.holder, in: db)
            }
            return LeaseFence(name: name, holder: holder, epoch: epoch)
        }
    }

    /// Extends the lease of `fence`'s holder to its time to live from now (by the database's
    /// clock on a shared store; `now` on SQLite).
    /// - Returns: The lease as it stands after the call: renewed when `fence` still holds it,
    ///   else as another holder (or a release) left it.
    /// - Throws: ``AuditLogError`` `.storage`; `.notFound` when the lease row does not exist.
    public func renewLease(_ fence: LeaseFence, now: Date) throws(AuditLogError) -> (renewed: Bool, state: LeaseState) {
        try write { db in
            let changed = try db.run(
                """
                UPDATE leases SET expires_at = ?1 + ttl_ms, renewed_at = ?1
                WHERE name = ?2 AND holder = ?3 AND epoch = ?4 AND released_at IS NULL
                """, [try db.expiryClock(now), fence.name, fence.holder, fence.epoch])
            guard let state = try Self.leaseState(name: fence.name, in: db) else {
                throw AuditLogError(code: .notFound, description: "lease \(fence.name) does not exist")
            }
            return (changed == 1, state)
        }
    }

    /// Gives the lease up if `fence` still holds it (otherwise does nothing). The row stays,
    /// marked released, so the epoch keeps growing; the next holder is whoever takes the
    /// kernel lock (see ``takeLease(name:holder:ttl:lockHeld:now:)``).
    /// - Throws: ``AuditLogError`` `.storage`.
    public func releaseLease(_ fence: LeaseFence, now: Date) throws(AuditLogError) {
        try write { db in
            try db.run(
                """
                UPDATE leases SET released_at = ?1
                WHERE name = ?2 AND holder = ?3 AND epoch = ?4 AND released_at IS NULL
                """, [try db.expiryClock(now), fence.name, fence.holder, fence.epoch])
        }
    }

    /// The lease row (nil before anyone took it).
    /// - Throws: ``AuditLogError``.
    public func lease(name: String) throws(AuditLogError) -> LeaseState? {
        try read { db in try Self.leaseState(name: name, in: db) }
    }

    /// Checks that `fence` still holds its lease: same holder, same epoch, not released.
    /// - Throws: ``AuditLogError`` `.leaseLost` naming the current holder when it does not.
    public func checkFence(_ fence: LeaseFence) throws(AuditLogError) {
        try read { db in try Self.check(fence, in: db) }
    }

    /// ``checkFence(_:)`` inside the caller's transaction (a write's, so the answer holds until it commits).
    static func check(_ fence: LeaseFence?, in db: AuditDatabase) throws {
        guard let fence else { return }
        let state = try leaseState(name: fence.name, in: db)
        guard let state, state.holder == fence.holder, state.epoch == fence.epoch, state.releasedAt == nil else {
            let now: String
            if let state {
                now =
                    state.holder == fence.holder
                    ? "it was released" : "\(state.holder) took it over (epoch \(state.epoch))"
            } else {
                now = "nobody holds it"
            }
            throw AuditLogError(
                code: .leaseLost,
                description:
                    "the \(fence.name) lease is no longer held by \(fence.holder) (epoch \(fence.epoch)): \(now); nothing written"
            )
        }
    }

    static func leaseState(name: String, in db: AuditDatabase) throws -> LeaseState? {
        try db.queryOne(
            "SELECT name, holder, epoch, acquired_at, renewed_at, expires_at, released_at FROM leases WHERE name = ?", [name]
        ) { row in
            LeaseState(
                name: row.column(0), holder: row.column(1), epoch: row.column(2),
                acquiredAt: Date(databaseMilliseconds: row.column(3)),
                renewedAt: (row.column(4) as Int64?).map(Date.init(databaseMilliseconds:)),
                expiresAt: Date(databaseMilliseconds: row.column(5)),
                releasedAt: (row.column(6) as Int64?).map(Date.init(databaseMilliseconds:)))
        }
    }
}
