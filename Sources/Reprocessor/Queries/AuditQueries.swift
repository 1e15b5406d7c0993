import AuditLog
import Foundation
import StreamModel

/// The query façade: every question the command line and the HTTP API answer about the audit
/// log, with its defaults, its bounds and its JSON shape. Front ends parse their input, call
/// this, and render the answer: a table on a terminal, ``json`` everywhere else.
public struct AuditQueries: Sendable {
    /// The audit log asked.
    public let auditLog: AuditLog

    /// Makes the façade.
    public init(auditLog: AuditLog) {
        self.auditLog = auditLog
    }

    /// How many rows one page of a listing may hold, and how many it holds when not told.
    public typealias PageSize = OperatorInput.Count

    /// The page size asked for (`limit`), or the listing's standard one.
    /// - Throws: ``ReprocessorError`` `.invalidRequest` naming `limit` when it is out of range.
    static func pageSize(_ size: PageSize, _ limit: Int?) throws(ReprocessorError) -> Int {
        do {
            return try size.resolve(limit, field: "limit")
        } catch {
            throw ReprocessorError(error)
        }
    }

    /// `list`: pages of changes.
    public static let changesPage = PageSize(allowed: 1...1000, standard: 50)
    /// `audit`: pages of actions.
    public static let actionsPage = PageSize(allowed: 1...1000, standard: 500)
    /// Actions on one screen of the console's audit log.
    public static let actionsScreenPage = PageSize(allowed: 1...1000, standard: 50)
    /// `quarantined`: pages of messages (their bodies may be large).
    public static let quarantinedPage = PageSize(allowed: 1...1000, standard: 50)
    /// `batches`: pages of failed batches.
    public static let batchesPage = PageSize(allowed: 1...1000, standard: 50)
    /// `GET /v1/reconcile`: the newest reconcile runs.
    public static let reconcileRunsPage = PageSize(allowed: 1...100, standard: 20)
    /// The statuses `errors` groups when none are named.
    public static let defaultErrorStatuses: Set<ChangeStatus> = [.failed, .parked, .expired]
    /// Most changes, and most actions, one `history` answer lists (the newest are cut, and the answer says so).
    public static let historyRows = 1000
    /// Most groups one `errors` answer lists (the largest groups first).
    public static let errorGroupRows = 1000
    /// Most bytes of message bodies one page of `quarantined` carries (at least one message, whatever its size).
    public static let quarantinedPageBytes = 4 * 1024 * 1024

    /// Applied changes whose freshness `stats` summarises (the newest).
    public static let freshnessSample = 1000

    // MARK: stats

    /// `stats`: the counts and states of the store, and the freshness of the last
    /// ``freshnessSample`` applied changes (sent → applied).
    public func stats() async throws -> (stats: AuditStats, recentLags: [AppliedLag]) {
        (try await auditLog.stats(), try await auditLog.recentAppliedLags(limit: Self.freshnessSample))
    }

    // MARK: changes

    /// A page of changes matching `filter`: `{"changes": [...], "next": cursor|null}`.
    /// `newestFirst` lists the highest id first (the console's default).
    public func changes(_ filter: ChangeFilter, cursor: String?, limit: Int?, newestFirst: Bool = false) async throws
        -> Page<ChangeRecord>
    {
        try await auditLog.listChanges(
            filter, after: cursor, limit: try Self.pageSize(Self.changesPage, limit), newestFirst: newestFirst)
    }

    /// How many changes match `filter`.
    public func changeCount(_ filter: ChangeFilter) async throws -> Int {
        try await auditLog.countChanges(filter)
    }

    /// One change with its actions.
    /// - Throws: ``ReprocessorError`` `.notFound` when there is no such change.
    public func change(id: Int64) async throws -> (change: ChangeRecord, actions: [ActionRecord]) {
        guard let change = try await auditLog.change(id: id) else {
            throw ReprocessorError(.notFound, "no change with id \(id)")
        }
        return (change, try await auditLog.actions(forChange: id))
    }

    // MARK: history

    /// Every change and action of one artist.
    public struct History: Sendable {
        /// The search document id.
        public var documentID: String
        /// Its changes, in sequence order.
        public var changes: [ChangeRecord]
        /// Their actions, in order.
        public var actions: [ActionRecord]
        /// Whether changes or actions past ``AuditQueries/historyRows`` were left out.
        public var truncated: Bool

        /// `{"documentId", "changes": [...], "actions": [...], "truncated": bool}`.
        public var json: JSONValue {
            AuditJSON.history(documentID: documentID, changes: changes, actions: actions, truncated: truncated)
        }
    }

    /// The document as the reprocessor left it at a moment, rebuilt from the writes its actions recorded.
    public struct DocumentAt: Sendable {
        /// The search document id.
        public var documentID: String
        /// The moment asked about.
        public var moment: Date
        /// The last write at or before the moment and what it wrote (`null` for a delete); nil
        /// when nothing was written by then.
        public var state: (action: ActionRecord, document: JSONValue)?

        /// Whether the document existed then.
        public var exists: Bool { state.map { $0.document != .null } ?? false }

        /// `{"documentId", "at", "document": {...}|null, "exists", "asOfAction": {...}|null}`.
        public var json: JSONValue {
            .object([
                "documentId": .string(documentID), "at": .string(AuditJSON.time(moment)),
                "document": state?.document ?? .null, "exists": .bool(exists),
                "asOfAction": state.map { AuditJSON.action($0.action) } ?? .null,
            ])
        }
    }

    /// Every change and action of the artist `key` (`ARTIST#42` or `42`).
    public func history(key: String) async throws -> History {
        let documentID = OperatorInput.documentID(forKey: key)
        let history = try await auditLog.history(documentID: documentID)
        return History(
            documentID: documentID, changes: Array(history.changes.prefix(Self.historyRows)),
            actions: Array(history.actions.prefix(Self.historyRows)),
            truncated: history.changes.count > Self.historyRows || history.actions.count > Self.historyRows)
    }

    /// The artist `key`'s document as the reprocessor left it at `moment`.
    public func document(key: String, at moment: Date) async throws -> DocumentAt {
        let documentID = OperatorInput.documentID(forKey: key)
        let history = try await auditLog.history(documentID: documentID)
        return DocumentAt(
            documentID: documentID, moment: moment, state: DocumentTimeline.document(at: moment, actions: history.actions))
    }

    // MARK: errors, actions, quarantined

    /// Failures grouped by fingerprint, over `statuses` (``defaultErrorStatuses`` when empty):
    /// the largest ``errorGroupRows`` groups.
    public func errorGroups(statuses: Set<ChangeStatus>) async throws -> [ErrorGroup] {
        try await auditLog.errorGroups(
            statuses: statuses.isEmpty ? Self.defaultErrorStatuses : statuses, limit: Self.errorGroupRows)
    }

    /// The changes of exactly one failure group: its group id, in the statuses it was counted in.
    /// Listing, previewing or acting on this filter covers the group's ``ErrorGroup/count`` changes
    /// (as they stood when the groups were read).
    public static func filter(for group: ErrorGroup) -> ChangeFilter {
        ChangeFilter(statuses: Set(group.statuses.keys), errorGroup: group.id)
    }

    /// `{"errors": [{"group", "fingerprint", "error", "count", "documents", "firstSeen", "lastSeen", "statuses"}]}`.
    public static func json(errorGroups: [ErrorGroup]) -> JSONValue {
        .object(["errors": .array(errorGroups.map(AuditJSON.errorGroup))])
    }

    /// A page of actions matching `filter`.
    /// `newestFirst` lists the highest id first (the console's default).
    public func actions(_ filter: ActionFilter, cursor: String?, limit: Int?, newestFirst: Bool = false) async throws
        -> Page<ActionRecord>
    {
        try await auditLog.listActions(
            filter, after: cursor, limit: try Self.pageSize(Self.actionsPage, limit), newestFirst: newestFirst)
    }

    /// How many actions match `filter`.
    public func actionCount(_ filter: ActionFilter) async throws -> Int {
        try await auditLog.countActions(filter)
    }

    /// `{"actions": [...], "next": cursor|null}`.
    public static func json(actions page: Page<ActionRecord>) -> JSONValue {
        .object(["actions": .array(page.rows.map(AuditJSON.action)), "next": page.next.map(JSONValue.string) ?? .null])
    }

    /// A page of quarantined messages, with their reasons and raw bodies.
    ///
    /// A page stops before its bodies pass ``quarantinedPageBytes``; its cursor then continues
    /// with the first message left out.
    public func quarantined(cursor: String?, limit: Int?) async throws -> Page<StoredMessage> {
        let page = try await auditLog.quarantinedMessages(after: cursor, limit: try Self.pageSize(Self.quarantinedPage, limit))
        var bytes = 0
        var fitting = 0
        for message in page.rows {
            bytes += message.body.utf8.count
            if fitting > 0 && bytes > Self.quarantinedPageBytes { break }
            fitting += 1
        }
        guard fitting < page.rows.count else { return page }
        return try await auditLog.quarantinedMessages(after: cursor, limit: fitting)
    }

    /// `{"messages": [...], "next": cursor|null}`.
    public static func json(quarantined page: Page<StoredMessage>) -> JSONValue {
        .object(["messages": .array(page.rows.map(AuditJSON.message)), "next": page.next.map(JSONValue.string) ?? .null])
    }
}
