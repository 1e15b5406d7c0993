import Foundation
import SQLite

/// The moves of changes inside one write transaction, made set-wise: the state of every change
/// they may touch read in one query, each move checked and applied in order against that state
/// in memory (so a change moved twice is checked the second time against its first move), and
/// the rows that moved written back with one `UPDATE … FROM (VALUES …)` per chunk. A round of the
/// write engine so costs the store a few statements whatever its size, not two per change: on
/// PostgreSQL each statement is a network round trip.
///
/// Every check of a move comes before it changes the state in memory, so a refused move leaves
/// the change as it found it (as ``AuditLog/move(_:now:in:)`` always did).
struct ChangeMoves {
    /// One change's state columns as the moves leave them.
    private struct State {
        var status: String
        var attempts: Int
        var nextAttemptAt: Date?
        var lastError: String?
        var messageID: String?
        /// Whether a move set the last error (then its fingerprint and group are written too).
        var setsError = false
    }

    private var states: [Int64: State] = [:]
    /// The changes moved, in the order of their first move.
    private var moved: [Int64] = []
    private var movedIDs: Set<Int64> = []

    /// Reads the state of the changes `ids` (those that exist), inside the caller's transaction,
    /// in one query.
    static func read(_ ids: some Sequence<Int64>, in db: AuditDatabase) throws -> ChangeMoves {
        var moves = ChangeMoves()
        let unique = Array(Set(ids))
        guard !unique.isEmpty else { return moves }
        try db.forEachRow(
            """
            SELECT id, status, attempts, next_attempt_at, last_error, message_id FROM changes
            WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))
            """, [AuditLog.jsonArray(unique.map(String.init))]
        ) { row in
            moves.states[row.column(0)] = State(
                status: row.column(1), attempts: row.column(2),
                nextAttemptAt: (row.column(3) as Int64?).map(Date.init(databaseMilliseconds:)), lastError: row.column(4),
                messageID: row.column(5))
        }
        return moves
    }

    /// The message change `id` came in: `nil` when there is no such change (or it was not read),
    /// `.some(nil)` when it has none.
    func messageID(ofChange id: Int64) -> String?? {
        states[id].map(\.messageID)
    }

    /// Makes one move in memory, as the state machine and the request's `expecting` allow; the
    /// move's action goes to `actions`.
    /// - Returns: The change's new status.
    /// - Throws: ``AuditLogError`` `.notFound`, `.illegalTransition` (nothing changed), or
    ///   `.corrupt` for a stored status that is not one.
    @discardableResult
    mutating func move(_ request: TransitionRequest, actions: inout [PendingAction]) throws -> ChangeStatus {
        let id = request.id
        guard var state = states[id] else {
            throw AuditLogError(code: .notFound, description: "change \(id) does not exist")
        }
        guard let status = ChangeStatus(rawValue: state.status) else {
            throw AuditLogError.corruptRow("change \(id): unknown status \(state.status)")
        }
        if let expecting = request.expecting, !expecting.contains(status) {
            let expected = expecting.map(\.rawValue).sorted().joined(separator: ", ")
            throw AuditLogError(
                code: .illegalTransition,
                description: "change \(id) is \(status.rawValue), expected \(expected): another process moved it; nothing changed"
            )
        }
        guard status.canTransition(to: request.to) else {
            throw AuditLogError(
                code: .illegalTransition,
                description: "change \(id) cannot go from \(status.rawValue) to \(request.to.rawValue); nothing changed")
        }
        let update = request.update
        state.status = request.to.rawValue
        state.attempts = update.attempts ?? state.attempts
        state.nextAttemptAt = update.nextAttemptAt ?? state.nextAttemptAt
        if let lastError = update.lastError {
            state.lastError = lastError
            state.setsError = true
        }
        if movedIDs.insert(id).inserted { moved.append(id) }
        states[id] = state
        actions.append(PendingAction(changeID: id, messageID: state.messageID, entry: request.action))
        return request.to
    }

    /// Writes the moved changes' state columns back, inside the caller's transaction, with
    /// `updated_at` = `now`: on PostgreSQL in one statement (the rows as one JSON parameter), on
    /// SQLite in one statement per chunk of rows.
    func write(at now: Int64, in db: AuditDatabase) throws {
        guard !moved.isEmpty else { return }
        var values: [SQLValue] = []
        values.reserveCapacity(moved.count * Self.columns.count)
        for id in moved {
            guard let state = states[id] else { continue }
            let group = state.setsError ? AuditLog.errorGroupColumns(state.lastError) : (fingerprint: .null, group: .null)
            values += [
                .integer(id), .text(state.status), .integer(Int64(state.attempts)),
                state.nextAttemptAt.map { .integer($0.databaseMilliseconds) } ?? .null, .integer(state.setsError ? 1 : 0),
                state.setsError ? state.lastError.sqlValue : .null, group.fingerprint, group.group,
            ]
        }
        if db.isPostgres {
            try db.run(
                """
                UPDATE changes SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
                    last_error = CASE WHEN v.sets_error = 1 THEN v.last_error ELSE changes.last_error END,
                    error_fingerprint = CASE WHEN v.sets_error = 1 THEN v.error_fingerprint ELSE changes.error_fingerprint END,
                    error_group = CASE WHEN v.sets_error = 1 THEN v.error_group ELSE changes.error_group END,
                    updated_at = ?
                FROM json_to_recordset(CAST(? AS json)) AS v(id BIGINT, status TEXT, attempts BIGINT,
                    next_attempt_at BIGINT, sets_error BIGINT, last_error TEXT, error_fingerprint TEXT, error_group TEXT)
                WHERE changes.id = v.id
                """, [now, db.timedJSONRecords(columns: Self.columns, values: values)])
            return
        }
        let rowsPerStatement = 999 / Self.columns.count
        var first = 0
        while first < moved.count {
            let rows = min(rowsPerStatement, moved.count - first)
            let slice = values[(first * Self.columns.count)..<((first + rows) * Self.columns.count)]
            try db.run(Self.sqliteUpdate(rows: rows), [SQLValue.integer(now)] + Array(slice))
            first += rows
        }
    }

    /// The columns of each row written back: the id, the state, and whether the error is set
    /// with the error, its fingerprint and group.
    private static let columns = [
        "id", "status", "attempts", "next_attempt_at", "sets_error", "last_error", "error_fingerprint", "error_group",
    ]

    /// SQLite's `UPDATE changes … FROM (VALUES …)` for `rows` rows (a VALUES list's columns are
    /// named `column1`, `column2`…).
    private static func sqliteUpdate(rows: Int) -> String {
        let row = "(?, ?, ?, ?, ?, ?, ?, ?)"
        return """
            UPDATE changes SET status = v.column2, attempts = v.column3, next_attempt_at = v.column4,
                last_error = CASE WHEN v.column5 = 1 THEN v.column6 ELSE changes.last_error END,
                error_fingerprint = CASE WHEN v.column5 = 1 THEN v.column7 ELSE changes.error_fingerprint END,
                error_group = CASE WHEN v.column5 = 1 THEN v.column8 ELSE changes.error_group END,
                updated_at = ?
            FROM (VALUES \(Array(repeating: row, count: rows).joined(separator: ", "))) AS v
            WHERE changes.id = v.column1
            """
    }
}
