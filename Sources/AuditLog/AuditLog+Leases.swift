import Foundation
import SQLite

extension AuditLog {
    /// Takes the run lease `name` for `holder` until `now + ttl`.
    ///
    /// Succeeds when nobody holds it, when `holder` already holds it (the lease is extended),
    /// or when the current holder's lease has expired (it is taken over).
    /// - Returns: Whether `holder` now holds the lease.
    /// - Throws: ``AuditLogError``.
    public func acquireLease(name: String, holder: String, ttl: Duration, now: Date) throws(AuditLogError) -> Bool {
        let ttlMilliseconds = max(1, ttl.milliseconds)
        let nowMilliseconds = now.databaseMilliseconds
        return try write { db in
            let current = try db.queryOne("SELECT holder, expires_at FROM leases WHERE name = ?", [name]) { row in
                (row.column(0) as String, row.column(1) as Int64)
            }
            if let current, current.0 != holder, current.1 > nowMilliseconds {
                return false
            }
            try db.run(
                """
                INSERT INTO leases (name, holder, acquired_at, ttl_ms, expires_at) VALUES (?1, ?2, ?3, ?4, ?3 + ?4)
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
                                                 ttl_ms = excluded.ttl_ms, expires_at = excluded.expires_at
                """, [name, holder, nowMilliseconds, ttlMilliseconds])
            return true
        }
    }

    /// Extends `holder`'s lease to `now` + its ttl.
    /// - Returns: false when `holder` does not hold the lease (another holder took it over, or it was released).
    /// - Throws: ``AuditLogError``.
    public func renewLease(name: String, holder: String, now: Date) throws(AuditLogError) -> Bool {
        try write { db in
            try db.run(
                "UPDATE leases SET expires_at = ? + ttl_ms WHERE name = ? AND holder = ?",
                [now.databaseMilliseconds, name, holder]) == 1
        }
    }

    /// Gives the lease up if `holder` holds it (otherwise does nothing).
    /// - Throws: ``AuditLogError``.
    public func releaseLease(name: String, holder: String) throws(AuditLogError) {
        try write { db in
            try db.run("DELETE FROM leases WHERE name = ? AND holder = ?", [name, holder])
        }
    }

    /// Who holds the lease at `now` (nil when nobody, or the lease expired).
    /// - Throws: ``AuditLogError``.
    public func leaseHolder(name: String, now: Date) throws(AuditLogError) -> String? {
        try read { db in
            try db.queryOne("SELECT holder FROM leases WHERE name = ? AND expires_at > ?", [name, now.databaseMilliseconds]) {
                $0.column(0) as String
            }
        }
    }
}
