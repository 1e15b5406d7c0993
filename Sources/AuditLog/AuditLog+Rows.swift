import Foundation
import SQLite
import StreamModel

/// Column lists and row readers shared by the queries.
enum Rows {
    /// The columns of a ``ChangeRecord``, in ``change(from:)``'s order, read from
    /// ``changesWithImages(_:)`` (the message's correlation ID by primary key).
    static let changeColumns = changeColumns(oldImage: "change_images.old_image_json")

    /// `changes` (the table, with its index hint: `changes INDEXED BY changes_due`) joined with
    /// each change's images, which ``changeColumns`` read. A change without images has no
    /// `change_images` row: its images read NULL.
    static func changesWithImages(_ changes: String) -> String {
        "\(changes) LEFT JOIN change_images ON change_images.change_id = changes.id"
    }

    /// ``changeColumns`` for the due changes in `changes_due`'s order: no old image, and the new
    /// image only of each document's newest due change (the only one a replay writes; `?1` is the
    /// time a failed change must be due by), so a page of due changes does not read and decode
    /// images it would drop.
    static let dueChangeColumns = changeColumns(
        oldImage: "NULL",
        newImage: """
            CASE WHEN changes.document_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM changes AS later INDEXED BY changes_due
                WHERE ifnull(later.document_id, '') = ifnull(changes.document_id, '')
                  AND later.status IN ('pending', 'failed') AND (later.status = 'pending' OR ifnull(later.next_attempt_at, 0) <= ?1)
                  AND (length(later.sequence_number), later.sequence_number, later.id)
                    > (length(changes.sequence_number), changes.sequence_number, changes.id)
            ) THEN NULL ELSE change_images.new_image_json END
            """)

    /// The columns of a ``ChangeRecord``, in ``change(from:)``'s order, with the images read by
    /// the given expressions.
    static func changeColumns(oldImage: String, newImage: String = "change_images.new_image_json") -> String {
        """
        changes.id, changes.message_id, changes.stream_arn, changes.shard_id, changes.sequence_number, changes.event_id, \
        changes.event_name, changes.keys_json, changes.document_id, \(oldImage), \(newImage), \
        changes.approximate_creation_at, changes.status, changes.attempts, changes.next_attempt_at, changes.last_error, \
        changes.batch_info_json, \
        (SELECT messages.correlation_id FROM messages WHERE messages.message_id = changes.message_id), \
        changes.created_at, changes.updated_at
        """
    }

    /// The columns of an ``ActionRecord``, in ``action(from:)``'s order.
    static let actionColumns = "id, change_id, message_id, action, actor, reason, outcome, response, at, hash"

    /// The columns of a ``StoredMessage``, in ``message(from:)``'s order.
    static let messageColumns =
        "message_id, body, format, correlation_id, error_text, received_at, receive_count, sent_at, quarantine_reason"

    static func change(from row: any SQLRow) throws(AuditLogError) -> ChangeRecord {
        let id: Int64 = row.column(0)
        func what(_ column: String) -> String { "change \(id): \(column)" }
        guard let sequenceNumber = SequenceNumber(row.column(4) as String) else {
            throw .corruptRow(what("sequence_number is not a sequence number"))
        }
        guard let status = ChangeStatus(rawValue: row.column(12)) else { throw .corruptRow(what("unknown status")) }
        let eventNameText: String? = row.column(6)
        let eventName = try eventNameText.map { (text) throws(AuditLogError) -> EventName in
            guard let name = EventName(rawValue: text) else { throw .corruptRow(what("unknown event name")) }
            return name
        }
        return ChangeRecord(
            id: id,
            messageID: row.column(1),
            streamARN: row.column(2),
            shardID: row.column(3),
            sequenceNumber: sequenceNumber,
            eventID: row.column(5),
            eventName: eventName,
            keys: try item(row.column(7), what("keys_json")),
            documentID: row.column(8),
            oldImage: try item(row.column(9), what("old_image_json")),
            newImage: try item(row.column(10), what("new_image_json")),
            approximateCreationTime: (row.column(11) as Int64?).map(Date.init(databaseMilliseconds:)),
            status: status,
            attempts: row.column(13),
            nextAttemptAt: (row.column(14) as Int64?).map(Date.init(databaseMilliseconds:)),
            lastError: row.column(15),
            batchInfo: try json(row.column(16), what("batch_info_json")),
            correlationID: row.column(17),
            createdAt: Date(databaseMilliseconds: row.column(18)),
            updatedAt: Date(databaseMilliseconds: row.column(19))
        )
    }

    /// The columns of a ``BatchRecord``, in ``batch(from:)``'s order.
    static let batchColumns = """
        id, message_id, stream_arn, shard_id, start_sequence, end_sequence, batch_info_json, last_record_at, status, \
        attempts, next_attempt_at, last_error, last_read_sequence, records_read, waiting_since, created_at, updated_at
        """

    static func batch(from row: any SQLRow) throws(AuditLogError) -> BatchRecord {
        let id: Int64 = row.column(0)
        func what(_ column: String) -> String { "batch \(id): \(column)" }
        guard let start = SequenceNumber(row.column(4) as String), let end = SequenceNumber(row.column(5) as String) else {
            throw .corruptRow(what("a range bound is not a sequence number"))
        }
        guard let status = BatchStatus(rawValue: row.column(8)) else { throw .corruptRow(what("unknown status")) }
        let lastReadText: String? = row.column(12)
        let lastRead = try lastReadText.map { (text) throws(AuditLogError) -> SequenceNumber in
            guard let sequence = SequenceNumber(text) else { throw .corruptRow(what("last_read_sequence")) }
            return sequence
        }
        guard let info = try json(row.column(6), what("batch_info_json")) else {
            throw .corruptRow(what("batch_info_json is missing"))
        }
        return BatchRecord(
            id: id, messageID: row.column(1), streamARN: row.column(2), shardID: row.column(3), startSequenceNumber: start,
            endSequenceNumber: end, batchInfo: info, lastRecordAt: Date(databaseMilliseconds: row.column(7)),
            status: status, attempts: row.column(9),
            nextAttemptAt: (row.column(10) as Int64?).map(Date.init(databaseMilliseconds:)), lastError: row.column(11),
            lastReadSequenceNumber: lastRead, recordsRead: row.column(13),
            waitingSince: Date(databaseMilliseconds: row.column(14)), createdAt: Date(databaseMilliseconds: row.column(15)),
            updatedAt: Date(databaseMilliseconds: row.column(16)))
    }

    static func action(from row: any SQLRow) throws(AuditLogError) -> ActionRecord {
        let id: Int64 = row.column(0)
        guard let kind = ActionKind(rawValue: row.column(3)) else { throw .corruptRow("action \(id): unknown action kind") }
        return ActionRecord(
            id: id,
            changeID: row.column(1),
            messageID: row.column(2),
            action: kind,
            actor: row.column(4),
            reason: row.column(5),
            outcome: row.column(6),
            response: row.column(7),
            at: Date(databaseMilliseconds: row.column(8)),
            hash: row.column(9)
        )
    }

    static func message(from row: any SQLRow) throws(AuditLogError) -> StoredMessage {
        let id: String = row.column(0)
        guard let format = EnvelopeFormat(rawValue: row.column(2)) else { throw .corruptRow("message \(id): unknown format") }
        return StoredMessage(
            messageID: id,
            body: row.column(1),
            format: format,
            correlationID: row.column(3),
            errorText: row.column(4),
            receivedAt: Date(databaseMilliseconds: row.column(5)),
            receiveCount: row.column(6),
            sentAt: (row.column(7) as Int64?).map(Date.init(databaseMilliseconds:)),
            quarantineReason: row.column(8)
        )
    }

    /// The stored text of an item: compact DynamoDB JSON with sorted keys.
    static func text(of item: Item?) -> String? {
        item.map { $0.dynamoJSON.serialized }
    }

    static func json(_ text: String?, _ what: @autoclosure () -> String) throws(AuditLogError) -> JSONValue? {
        guard let text else { return nil }
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw .corruptRow("\(what()) is not JSON (\(error.description))")
        }
    }

    private static func item(_ text: String?, _ what: @autoclosure () -> String) throws(AuditLogError) -> Item? {
        guard let value = try json(text, what()) else { return nil }
        do {
            return try Item(dynamoJSON: value)
        } catch {
            throw .corruptRow("\(what()) is not a DynamoDB item (\(error.description))")
        }
    }
}

/// An opaque keyset cursor: the listing it belongs to and the key of the last row returned.
struct PageCursor: Equatable {
    var listing: String
    var fields: [String]

    /// Base64url of the fields, separated by U+001F.
    var encoded: String {
        let text = ([listing] + fields).joined(separator: "\u{1F}")
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init(listing: String, fields: [String]) {
        self.listing = listing
        self.fields = fields
    }

    /// Decodes `text`, which must come from the listing `listing` and carry `fieldCount` fields.
    /// - Throws: ``AuditLogError/Code/invalidCursor``.
    init(decoding text: String, listing: String, fieldCount: Int) throws(AuditLogError) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else {
            throw AuditLogError(code: .invalidCursor, description: "cursor \(text.prefix(40)) is not a cursor of this audit log")
        }
        let parts = decoded.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == listing, parts.count == fieldCount + 1 else {
            throw AuditLogError(
                code: .invalidCursor, description: "cursor \(text.prefix(40)) does not belong to the \(listing) listing")
        }
        self.listing = listing
        self.fields = Array(parts.dropFirst())
    }
}
