import SQLite
import StreamModel

/// Fingerprints of the rows an action chain cannot hold itself: a message and a change
/// as they were ingested.
///
/// The first action of every message and of every change records the SHA-256 of the
/// row's write-once columns (same canonical encoding as ``ActionChain``) in its
/// `response`: `{"messageFingerprint": "<hex>"}` and/or `{"changeFingerprint": "<hex>"}`.
/// Since that action is in the hash chain, `verify` can tell when a message body, an
/// image or a key was edited afterwards; and since every state change appends an action,
/// it can tell when a change's status no longer matches its last action.
enum RowFingerprint {
    /// The write-once columns of a message.
    static let messageColumns =
        "message_id, body, format, correlation_id, error_text, received_at, receive_count, sent_at, quarantine_reason"
    /// The write-once columns of a change (status, attempts, times and errors change; these never
    /// do), read from `changes` joined with its images (NULL when it has none, as before they had
    /// a table of their own), in the order the fingerprints of every existing chain hash them.
    static let changeColumns = """
        changes.id, changes.message_id, changes.stream_arn, changes.shard_id, changes.sequence_key, changes.sequence_number, \
        changes.event_id, changes.event_name, changes.keys_json, changes.document_id, change_images.old_image_json, \
        change_images.new_image_json, changes.approximate_creation_at, changes.batch_info_json, changes.created_at
        """
    private static let messageColumnCount = messageColumns.split(separator: ",").count
    private static let changeColumnCount = changeColumns.split(separator: ",").count
    static let messageKey = "messageFingerprint"
    static let changeKey = "changeFingerprint"

    /// The status each kind of action leaves a change in; kinds that change no state are absent.
    static let statusAfter: [ActionKind: ChangeStatus] = [
        .ingested: .pending, .filtered: .filtered, .expired: .expired, .applied: .applied, .failed: .failed,
        .parked: .parked, .superseded: .superseded, .retried: .pending, .skipped: .skipped,
        .rolledBack: .rolledBack, .resynced: .applied,
    ]

    static func fingerprint(_ columns: [SQLValue]) -> String {
        ActionChain.hash(previous: ActionChain.genesis, columns: columns)
    }

    /// The stored message's fingerprint (nil when there is no such message).
    static func message(_ id: String, in db: AuditDatabase) throws -> String? {
        try db.queryOne("SELECT \(messageColumns) FROM messages WHERE message_id = ?", [id]) { row in
            fingerprint((0..<messageColumnCount).map { row.value(at: $0) })
        }
    }

    /// The stored change's fingerprint (nil when there is no such change).
    static func change(_ id: Int64, in db: AuditDatabase) throws -> String? {
        try db.queryOne(
            "SELECT \(changeColumns) FROM \(Rows.changesWithImages("changes")) WHERE changes.id = ?", [id]
        ) { row in
            fingerprint((0..<changeColumnCount).map { row.value(at: $0) })
        }
    }

    /// The `response` text recording fingerprints.
    /// The fingerprints are lowercase hex, which JSON needs no escape for, so the text is
    /// written directly, as ``JSONValue/serialized`` writes it: compact, keys sorted.
    static func response(message: String?, change: String?) -> String {
        var members: [String] = []
        if let change { members.append("\"\(changeKey)\":\"\(change)\"") }
        if let message { members.append("\"\(messageKey)\":\"\(message)\"") }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// A fingerprint recorded in an action's response.
    static func recorded(_ key: String, in response: String?) -> String? {
        guard let response, let object = try? JSONValue(parsing: response) else { return nil }
        return object[key]?.stringValue
    }
}
