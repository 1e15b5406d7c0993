import AuditLog
import Foundation
import SQLite
import StreamModel

/// The audit step's baseline: the rows the audit log stores for a group of messages — each
/// message, and each change with its keys and images as the same DynamoDB JSON text — inserted
/// into bare tables that have nothing but their primary key: no index, no constraint, no hash
/// chain, no fingerprint. Through the `SQLite` module's `Connection`, as the audit log writes:
/// WAL, `synchronous = FULL`, one `BEGIN IMMEDIATE` transaction per group. What is left of the
/// audit log's time beyond this is the cost of its indexes and its audit trail.
struct RawAuditInsert {
    private let connection: Connection

    /// Creates the bare tables in a new database at `path`.
    /// - Throws: ``SQLiteError`` when the file cannot be created.
    init(path: String) throws {
        connection = try Connection(path: path)
        // The audit log's connection settings (AuditLog sets this one itself).
        try connection.execute("PRAGMA temp_store = MEMORY")
        try connection.execute(
            """
            CREATE TABLE raw_messages (
                id INTEGER PRIMARY KEY, message_id TEXT, body TEXT, format TEXT, correlation_id TEXT, error_text TEXT,
                received_at INTEGER, receive_count INTEGER, sent_at INTEGER
            ) STRICT;
            CREATE TABLE raw_changes (
                id INTEGER PRIMARY KEY, message_id TEXT, stream_arn TEXT, shard_id TEXT, sequence_key TEXT, sequence_number TEXT,
                event_id TEXT, event_name TEXT, keys_json TEXT, document_id TEXT, old_image_json TEXT, new_image_json TEXT,
                approximate_creation_at INTEGER, status TEXT, last_error TEXT, batch_info_json TEXT, created_at INTEGER,
                updated_at INTEGER
            ) STRICT;
            """)
    }

    /// Inserts `messages` and their changes in one transaction.
    /// - Returns: How many changes were inserted.
    /// - Throws: ``SQLiteError`` when SQLite fails.
    func insert(_ messages: [NewMessage], at date: Date) throws -> Int {
        let now = Self.milliseconds(date)
        return try connection.transaction(.immediate) {
            var inserted = 0
            for message in messages {
                try connection.run(
                    """
                    INSERT INTO raw_messages (message_id, body, format, correlation_id, error_text, received_at, receive_count, sent_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        message.messageID, message.body, message.format.rawValue, message.correlationID, message.errorText,
                        Self.milliseconds(message.receivedAt), message.receiveCount, message.sentAt.map(Self.milliseconds),
                    ])
                guard case .changes(let changes) = message.disposition else { continue }
                for change in changes {
                    try connection.run(
                        """
                        INSERT INTO raw_changes (message_id, stream_arn, shard_id, sequence_key, sequence_number, event_id,
                                                 event_name, keys_json, document_id, old_image_json, new_image_json,
                                                 approximate_creation_at, status, last_error, batch_info_json, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        [
                            message.messageID, change.streamARN, change.shardID, change.sequenceNumber.sortKey,
                            change.sequenceNumber.digits, change.eventID, change.eventName?.rawValue,
                            change.keys?.dynamoJSON.serialized, change.documentID, change.oldImage?.dynamoJSON.serialized,
                            change.newImage?.dynamoJSON.serialized, change.approximateCreationTime.map(Self.milliseconds),
                            change.status.rawValue, change.reason, change.batchInfo?.serialized, now, now,
                        ])
                    inserted += 1
                }
            }
            return inserted
        }
    }

    /// Milliseconds since 1970, as the audit log stores times.
    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}
