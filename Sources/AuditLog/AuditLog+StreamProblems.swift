import Foundation
import SQLite

/// A stream that cannot be found or described: a configuration error (wrong endpoint, region,
/// account or permissions), which puts its batches off and never expires them.
public struct StreamProblem: Sendable, Hashable {
    /// The stream's ARN, as the batches name it.
    public var streamARN: String
    /// What failed, in one line, naming the endpoint asked.
    public var reason: String
    /// When it was first seen.
    public var since: Date
    /// When it was last seen.
    public var checkedAt: Date

    /// Makes a stream problem.
    public init(streamARN: String, reason: String, since: Date, checkedAt: Date) {
        self.streamARN = streamARN
        self.reason = reason
        self.since = since
        self.checkedAt = checkedAt
    }
}

extension AuditLog {
    /// Records that `streamARN` cannot be found or described, keeping when that was first seen.
    /// - Returns: Whether the problem is new (the stream was not listed).
    /// - Throws: ``AuditLogError``.
    @discardableResult
    public func recordStreamProblem(streamARN: String, reason: String, at: Date) throws(AuditLogError) -> Bool {
        try write { db in
            let known = try db.queryOne("SELECT 1 FROM stream_problems WHERE stream_arn = ?", [streamARN]) { _ in true } ?? false
            try db.run(
                """
                INSERT INTO stream_problems (stream_arn, reason, since, checked_at) VALUES (?1, ?2, ?3, ?3)
                ON CONFLICT (stream_arn) DO UPDATE SET reason = excluded.reason, checked_at = excluded.checked_at
                """, [streamARN, reason, at.databaseMilliseconds])
            return !known
        }
    }

    /// Forgets the problem of `streamARN` (a read of it worked); does nothing when there is none.
    /// - Throws: ``AuditLogError``.
    public func clearStreamProblem(streamARN: String) throws(AuditLogError) {
        let known = try read { db in
            try db.queryOne("SELECT 1 FROM stream_problems WHERE stream_arn = ?", [streamARN]) { _ in true } ?? false
        }
        guard known else { return }
        try write { db in try db.run("DELETE FROM stream_problems WHERE stream_arn = ?", [streamARN]) }
    }

    /// Every stream that cannot be found or described, by ARN.
    /// - Throws: ``AuditLogError``.
    public func streamProblems() throws(AuditLogError) -> [StreamProblem] {
        try read { db in try Self.streamProblems(in: db) }
    }

    static func streamProblems(in db: AuditDatabase) throws -> [StreamProblem] {
        try db.query("SELECT stream_arn, reason, since, checked_at FROM stream_problems ORDER BY stream_arn") { row in
            StreamProblem(
                streamARN: row.column(0), reason: row.column(1), since: Date(databaseMilliseconds: row.column(2)),
                checkedAt: Date(databaseMilliseconds: row.column(3)))
        }
    }
}
