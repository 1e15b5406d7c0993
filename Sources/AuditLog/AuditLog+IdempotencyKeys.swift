import Crypto
import Foundation
import SQLite

/// What the store says of a request sent with an idempotency key.
public enum IdempotentRequest: Sendable, Hashable {
    /// The key is new (or its last use expired or was given up): carry the request out, then
    /// ``AuditLog/finishIdempotentRequest(actor:key:status:response:)`` or
    /// ``AuditLog/abandonIdempotentRequest(actor:key:)``.
    case carryOut
    /// The same request was carried out already: answer this again, without acting.
    case answered(status: Int, response: String)
    /// The same request is being carried out now.
    case inProgress
    /// The key was used for another request (method, path or body).
    case keyReused
}

extension AuditLog {
    /// How long a key's answer is kept and answered again.
    public static let idempotencyKeyLifetime: TimeInterval = 24 * 3600
    /// How long a request being carried out keeps its key from a repeat; after that its process
    /// is taken to have died and a repeat carries the request out.
    public static let idempotentRequestTimeout: TimeInterval = 15 * 60

    /// Claims `key` of `actor` for `request`, or says what was done with it: expired keys are
    /// deleted first, so a key older than ``idempotencyKeyLifetime`` is new again.
    /// - Parameters:
    ///   - actor: The operator, whose keys are their own.
    ///   - key: The `Idempotency-Key`.
    ///   - request: What identifies the request: method, path and body in a canonical form.
    ///   - now: The time.
    /// - Returns: What to do.
    /// - Throws: ``AuditLogError``.
    public func beginIdempotentRequest(actor: String, key: String, request: [UInt8], now: Date = Date()) throws(AuditLogError)
        -> IdempotentRequest
    {
        let hash = SHA256.hash(data: request).map { String(format: "%02x", $0) }.joined()
        let millis = now.databaseMilliseconds
        let abandonedBefore = now.addingTimeInterval(-Self.idempotentRequestTimeout).databaseMilliseconds
        return try write { db in
            try db.run("DELETE FROM idempotency_keys WHERE expires_at <= ?", [millis])
            try db.run(
                "DELETE FROM idempotency_keys WHERE actor = ? AND idempotency_key = ? AND status IS NULL AND created_at < ?",
                [actor, key, abandonedBefore])
            let known = try db.queryOne(
                "SELECT request_hash, status, response FROM idempotency_keys WHERE actor = ? AND idempotency_key = ?",
                [actor, key]
            ) { row in
                (
                    hash: row.column(0, as: String.self), status: row.column(1, as: Int?.self),
                    response: row.column(2, as: String?.self)
                )
            }
            guard let known else {
                try db.run(
                    """
                    INSERT INTO idempotency_keys (actor, idempotency_key, request_hash, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                    [actor, key, hash, millis, now.addingTimeInterval(Self.idempotencyKeyLifetime).databaseMilliseconds])
                return .carryOut
            }
            guard known.hash == hash else { return .keyReused }
            guard let status = known.status else { return .inProgress }
            return .answered(status: status, response: known.response ?? "")
        }
    }

    /// Keeps the answer of a request claimed by ``beginIdempotentRequest(actor:key:request:now:)``,
    /// to be answered again to a repeat until the key expires.
    /// - Throws: ``AuditLogError``.
    public func finishIdempotentRequest(actor: String, key: String, status: Int, response: String) throws(AuditLogError) {
        try write { db in
            try db.run(
                "UPDATE idempotency_keys SET status = ?, response = ? WHERE actor = ? AND idempotency_key = ? AND status IS NULL",
                [status, response, actor, key])
        }
    }

    /// Frees a key whose request was refused or failed before it acted, so that a repeat carries
    /// it out.
    /// - Throws: ``AuditLogError``.
    public func abandonIdempotentRequest(actor: String, key: String) throws(AuditLogError) {
        try write { db in
            try db.run(
                "DELETE FROM idempotency_keys WHERE actor = ? AND idempotency_key = ? AND status IS NULL", [actor, key])
        }
    }
}
