import Foundation
import SQLite
import StreamModel

extension AuditLog {
    /// Stores a group of messages and the changes they carried, in one transaction: either
    /// all of the group is stored, or (on error) none of it.
    ///
    /// Idempotent: a message ID seen before stores nothing (`duplicateMessage`); a change whose
    /// stream ARN + sequence number, or event ID, is already stored is not stored again
    /// (`duplicateChanges`) and gets a `duplicate` action naming the new message.
    /// Actions appended: per stored change `ingested` (status pending), `filtered` or `expired`,
    /// with the change's reason; per quarantined message `quarantined`; per message naming a
    /// batch `ingested` (the batch is stored pending, its records are read later with
    /// ``storeBatchPage(_:_:at:fence:)``) or `duplicate` when another message named the same range.
    /// - Parameters:
    ///   - messages: The messages, in the order to store them.
    ///   - at: The time recorded as the changes' creation time and the actions' time.
    ///   - fence: When given, the group is stored only if this fence still holds its lease
    ///     (checked inside the transaction).
    /// - Returns: One outcome per message, in order.
    /// - Throws: ``AuditLogError``: `.illegalTransition` for a change whose status is not
    ///   pending, filtered or expired; `.leaseLost` when `fence` no longer holds its lease;
    ///   `.storage` when the database fails.
    public func ingest(_ messages: [NewMessage], at: Date, fence: LeaseFence? = nil) throws(AuditLogError)
        -> [MessageIngestOutcome]
    {
        for message in messages {
            guard case .changes(let changes) = message.disposition else { continue }
            for change in changes where ![.pending, .filtered, .expired].contains(change.status) {
                throw AuditLogError(
                    code: .illegalTransition,
                    description:
                        "message \(message.messageID): a change is ingested as pending, filtered or expired, not \(change.status.rawValue)"
                )
            }
        }
        let now = at.databaseMilliseconds
        return try write { db in
            try Self.check(fence, in: db)
            return try messages.map { message in try Self.store(message, now: now, in: db) }
        }
    }

    private static func store(_ message: NewMessage, now: Int64, in db: AuditDatabase) throws -> MessageIngestOutcome {
        var quarantineReason: String?
        if case .quarantined(let reason) = message.disposition { quarantineReason = reason }
        let inserted = try db.run(
            """
            INSERT INTO messages (message_id, body, format, correlation_id, error_text, received_at, receive_count, sent_at, quarantine_reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING
            """,
            [
                message.messageID, message.body, message.format.rawValue, message.correlationID, message.errorText,
                message.receivedAt.databaseMilliseconds, message.receiveCount, message.sentAt?.databaseMilliseconds,
                quarantineReason,
            ])
        guard inserted == 1 else {
            return MessageIngestOutcome(
                messageID: message.messageID, duplicateMessage: true, storedChangeIDs: [], duplicateChanges: 0)
        }
        // The message's first action records its fingerprint (see RowFingerprint).
        let messageFingerprint = try RowFingerprint.message(message.messageID, in: db)
        switch message.disposition {
        case .quarantined(let reason):
            try appendAction(
                changeID: nil, messageID: message.messageID,
                ActionEntry(
                    action: .quarantined, reason: reason, outcome: "quarantined",
                    response: RowFingerprint.response(message: messageFingerprint, change: nil)),
                at: now, in: db)
            return MessageIngestOutcome(
                messageID: message.messageID, duplicateMessage: false, storedChangeIDs: [], duplicateChanges: 0)
        case .changes(let changes):
            let (stored, duplicates) = try storeChanges(
                changes, messageID: message.messageID, messageFingerprint: messageFingerprint, now: now, in: db)
            return MessageIngestOutcome(
                messageID: message.messageID, duplicateMessage: false, storedChangeIDs: stored, duplicateChanges: duplicates)
        case .batch(let batch):
            let response = RowFingerprint.response(message: messageFingerprint, change: nil)
            if let id = try insert(batch, messageID: message.messageID, now: now, in: db) {
                try appendAction(
                    changeID: nil, messageID: message.messageID,
                    ActionEntry(
                        action: .ingested, reason: "records to be read from the stream",
                        outcome: "batch \(id) \(BatchStatus.pending.rawValue)", response: response),
                    at: now, in: db)
                return MessageIngestOutcome(
                    messageID: message.messageID, duplicateMessage: false, storedChangeIDs: [], duplicateChanges: 0,
                    batchID: id)
            }
            let existing = try db.queryOne(
                "SELECT id FROM batches WHERE stream_arn = ? AND shard_id = ? AND start_key = ? AND end_key = ?",
                [batch.streamARN, batch.shardID, batch.startSequenceNumber.sortKey, batch.endSequenceNumber.sortKey]
            ) { $0.column(0) as Int64 }
            try appendAction(
                changeID: nil, messageID: message.messageID,
                ActionEntry(
                    action: .duplicate, outcome: existing.map { "already stored as batch \($0)" } ?? "already stored",
                    response: response),
                at: now, in: db)
            return MessageIngestOutcome(
                messageID: message.messageID, duplicateMessage: false, storedChangeIDs: [], duplicateChanges: 0,
                batchID: existing, duplicateBatch: true)
        }
    }

    /// Stores changes of one message inside the caller's transaction, each with its first
    /// action; the first action of all also records the message's fingerprint when one is given.
    /// - Returns: The ids of the changes stored, and how many were already stored.
    static func storeChanges(
        _ changes: [NewChange], messageID: String, messageFingerprint: String?, now: Int64, in db: AuditDatabase
    ) throws -> (stored: [Int64], duplicates: Int) {
        var messageFingerprint = messageFingerprint
        var stored: [Int64] = []
        var duplicates = 0
        for change in changes {
            if let (id, changeFingerprint) = try insert(change, messageID: messageID, now: now, in: db) {
                stored.append(id)
                let kind: ActionKind =
                    switch change.status {
                    case .filtered: .filtered
                    case .expired: .expired
                    default: .ingested
                    }
                let response = RowFingerprint.response(message: messageFingerprint, change: changeFingerprint)
                messageFingerprint = nil
                try appendAction(
                    changeID: id, messageID: messageID,
                    ActionEntry(action: kind, reason: change.reason, outcome: change.status.rawValue, response: response),
                    at: now, in: db)
            } else {
                duplicates += 1
                let existing = try existingChangeID(for: change, in: db)
                try appendAction(
                    changeID: existing, messageID: messageID,
                    ActionEntry(
                        action: .duplicate, outcome: existing.map { "already stored as change \($0)" } ?? "already stored",
                        response: messageFingerprint.map { RowFingerprint.response(message: $0, change: nil) }),
                    at: now, in: db)
                messageFingerprint = nil
            }
        }
        return (stored, duplicates)
    }

    /// Inserts a batch, pending; nil when a batch with the same range exists.
    private static func insert(_ batch: NewBatch, messageID: String, now: Int64, in db: AuditDatabase) throws -> Int64? {
        try db.queryOne(
            """
            INSERT INTO batches (message_id, stream_arn, shard_id, start_key, start_sequence, end_key, end_sequence,
                                 batch_info_json, last_record_at, status, waiting_since, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
            ON CONFLICT DO NOTHING RETURNING id
            """,
            [
                messageID, batch.streamARN, batch.shardID, batch.startSequenceNumber.sortKey,
                batch.startSequenceNumber.digits, batch.endSequenceNumber.sortKey, batch.endSequenceNumber.digits,
                batch.batchInfo.serialized, batch.lastRecordAt.databaseMilliseconds, now, now, now,
            ]
        ) { $0.column(0) as Int64 }
    }

    /// Inserts a change, and its images when it has any.
    /// - Returns: The change's id and fingerprint (see ``RowFingerprint``), computed from the values
    ///   written, which the row holds as they are (STRICT columns in SQLite, TEXT and BIGINT in
    ///   PostgreSQL) and verify reads back; nil when a change with the same identity exists.
    private static func insert(_ change: NewChange, messageID: String, now: Int64, in db: AuditDatabase) throws
        -> (id: Int64, fingerprint: String)?
    {
        let keys = Rows.text(of: change.keys)
        let oldImage = Rows.text(of: change.oldImage)
        let newImage = Rows.text(of: change.newImage)
        let approximateCreation = change.approximateCreationTime?.databaseMilliseconds
        let batchInfo = change.batchInfo?.serialized
        let inserted = try db.queryOne(
            """
            INSERT INTO changes (message_id, stream_arn, shard_id, sequence_key, sequence_number, event_id, event_name, keys_json,
                                 document_id, approximate_creation_at, status, attempts, next_attempt_at, last_error,
                                 batch_info_json, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING RETURNING id
            """,
            [
                messageID, change.streamARN, change.shardID, change.sequenceNumber.sortKey, change.sequenceNumber.digits,
                change.eventID, change.eventName?.rawValue, keys, change.documentID, approximateCreation,
                change.status.rawValue, change.reason, batchInfo, now, now,
            ]
        ) { $0.column(0) as Int64 }
        guard let id = inserted else { return nil }
        if oldImage != nil || newImage != nil {
            try db.run(
                "INSERT INTO change_images (change_id, old_image_json, new_image_json) VALUES (?, ?, ?)",
                [id, oldImage, newImage])
        }
        // The write-once columns in RowFingerprint.changeColumns' order, as written.
        let fingerprint = RowFingerprint.fingerprint([
            .integer(id), .text(messageID), change.streamARN.sqlValue, change.shardID.sqlValue,
            .text(change.sequenceNumber.sortKey), .text(change.sequenceNumber.digits), change.eventID.sqlValue,
            (change.eventName?.rawValue).sqlValue, keys.sqlValue, change.documentID.sqlValue, oldImage.sqlValue,
            newImage.sqlValue, approximateCreation.sqlValue, batchInfo.sqlValue, .integer(now),
        ])
        return (id, fingerprint)
    }

    /// The stored change a duplicate collided with.
    private static func existingChangeID(for change: NewChange, in db: AuditDatabase) throws -> Int64? {
        if let id = try db.queryOne(
            "SELECT id FROM changes WHERE ifnull(stream_arn, '') = ? AND sequence_key = ?",
            [change.streamARN ?? "", change.sequenceNumber.sortKey], row: { $0.column(0) as Int64 })
        {
            return id
        }
        guard let eventID = change.eventID else { return nil }
        return try db.queryOne("SELECT id FROM changes WHERE event_id = ?", [eventID]) { $0.column(0) as Int64 }
    }

    /// Appends one action to the chain, inside the caller's write transaction.
    ///
    /// The new action's id is one more than the highest id ever used (AUTOINCREMENT's
    /// counter), and its hash chains to the action before it (see ``ActionChain``): keyed
    /// with the key the connection holds when the chain is keyed. The chain's end is read
    /// from the store at the transaction's first append, then carried in ``AuditDatabase/chainTail``.
    /// - Throws: ``AuditLogError`` `.keyRequired` when the chain is keyed and the connection
    ///   holds no key, `.invalidKey` when it holds another key, `.corrupt` when the chain's
    ///   anchor or last hash is gone; or a database error.
    @discardableResult
    static func appendAction(changeID: Int64?, messageID: String?, _ entry: ActionEntry, at: Int64, in db: AuditDatabase) throws
        -> ActionRecord
    {
        let key = db.chainKey
        let tail = try db.chainTail ?? ChainTail.read(in: db)
        switch (tail.anchor, key) {
        case (nil, nil):
            break
        case (let anchor?, nil):
            throw ChainAnchor.keyRequired(anchor)
        case (nil, .some):
            throw AuditLogError(
                code: .corrupt, description: "the audit chain's key anchor is missing (it was recorded at open); run verify")
        case (let anchor?, let key?):
            guard anchor.keyID == key.keyID else { throw ChainAnchor.wrongKey(anchor, key) }
        }
        let previous: [UInt8]
        if tail.lastID == 0 {
            previous = ActionChain.genesis
        } else {
            guard let previousHash = tail.lastHash, let bytes = ActionChain.bytes(ofHex: previousHash) else {
                throw AuditLogError(
                    code: .corrupt,
                    description: "the action chain is broken at action \(tail.lastID) (missing or bad hash); run verify")
            }
            previous = bytes
        }
        let id = tail.lastID + 1
        let columns: [SQLValue] = [
            .integer(id), changeID.sqlValue, messageID.sqlValue, .text(entry.action.rawValue), .text(entry.actor),
            entry.reason.sqlValue, .text(entry.outcome), entry.response.sqlValue, .integer(at),
        ]
        let hash = ActionChain.hash(previous: previous, columns: columns, key: key)
        try db.run(
            "INSERT INTO actions (id, change_id, message_id, action, actor, reason, outcome, response, at, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            columns + [SQLValue.text(hash)])
        db.chainTail = ChainTail(anchor: tail.anchor, lastID: id, lastHash: hash)
        return ActionRecord(
            id: id, changeID: changeID, messageID: messageID, action: entry.action, actor: entry.actor,
            reason: entry.reason, outcome: entry.outcome, response: entry.response,
            at: Date(databaseMilliseconds: at), hash: hash)
    }
}
