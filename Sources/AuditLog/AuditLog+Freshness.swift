import Foundation
import SQLite

/// How long one applied change took from its DLQ message's `SentTimestamp` to its write to search.
public struct AppliedLag: Sendable, Hashable {
    /// The `applied` action.
    public var actionID: Int64
    /// Seconds from the message's sending to the action (never negative).
    public var seconds: Double

    /// Makes a lag.
    public init(actionID: Int64, seconds: Double) {
        self.actionID = actionID
        self.seconds = seconds
    }
}

extension AuditLog {
    /// The newest `applied` action's id (0 before any): where an observer of freshness starts.
    /// - Throws: ``AuditLogError``.
    public func lastAppliedActionID() throws(AuditLogError) -> Int64 {
        try read { db in
            let newest = try db.queryOne("SELECT max(id) FROM actions INDEXED BY actions_kind WHERE action = 'applied'") {
                $0.column(0) as Int64?
            }
            return (newest ?? nil) ?? 0
        }
    }

    /// The lags of changes applied after action `afterActionID`, oldest first, at most `limit`:
    /// from their message's `SentTimestamp` to the `applied` action. A change whose message has no
    /// sending time (or came in no message) is left out, but its action id still moves
    /// ``AppliedLagPage/lastActionID`` on.
    /// - Throws: ``AuditLogError``.
    public func appliedLags(afterActionID: Int64, limit: Int) throws(AuditLogError) -> AppliedLagPage {
        try read { db in
            var page = AppliedLagPage(lags: [], lastActionID: afterActionID)
            try db.forEachRow(
                """
                SELECT a.id, a.at, m.sent_at FROM actions a INDEXED BY actions_kind
                JOIN changes c ON c.id = a.change_id
                LEFT JOIN messages m ON m.message_id = c.message_id
                WHERE a.action = 'applied' AND a.id > ? ORDER BY a.id LIMIT ?
                """, [afterActionID, max(limit, 1)]
            ) { row in
                let id: Int64 = row.column(0)
                page.lastActionID = id
                if let sentAt = row.column(2) as Int64? {
                    let at: Int64 = row.column(1)
                    page.lags.append(AppliedLag(actionID: id, seconds: Double(max(0, at - sentAt)) / 1000))
                }
            }
            return page
        }
    }
}

extension AuditLog {
    /// The sent → applied lags of the `limit` changes applied last, newest first.
    /// - Throws: ``AuditLogError``.
    public func recentAppliedLags(limit: Int) throws(AuditLogError) -> [AppliedLag] {
        try read { db in
            var lags: [AppliedLag] = []
            try db.forEachRow(
                """
                SELECT a.id, a.at, m.sent_at FROM actions a INDEXED BY actions_kind
                JOIN changes c ON c.id = a.change_id
                JOIN messages m ON m.message_id = c.message_id
                WHERE a.action = 'applied' AND m.sent_at IS NOT NULL ORDER BY a.id DESC LIMIT ?
                """, [max(limit, 1)]
            ) { row in
                let at: Int64 = row.column(1)
                let sentAt: Int64 = row.column(2)
                lags.append(AppliedLag(actionID: row.column(0), seconds: Double(max(0, at - sentAt)) / 1000))
            }
            return lags
        }
    }
}

/// A page of ``AuditLog/appliedLags(afterActionID:limit:)``.
public struct AppliedLagPage: Sendable, Hashable {
    /// The lags found.
    public var lags: [AppliedLag]
    /// The last `applied` action the page covered: the next page starts after it.
    public var lastActionID: Int64
}
