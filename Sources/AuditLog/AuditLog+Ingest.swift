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
            var rows = IngestRows()
            let outcomes = try Self.store(messages, now: now, into: &rows, in: db)
            try rows.write(at: now, in: db)
            return outcomes
        }
    }

    /// Stores messages inside the caller's transaction: the messages, then the changes of all of
    /// them many rows to a statement (in message order, so ids follow it), then each message's
    /// batch; the images and the actions, in message order, go to `rows`.
    private static func store(_ messages: [NewMessage], now: Int64, into rows: inout IngestRows, in db: AuditDatabase)
        throws -> [MessageIngestOutcome]
    {
        // RowFingerprint.messageColumns, in order: what each message's row holds.
        let columns: [[SQLValue]] = messages.map { message in
            var quarantineReason: String?
            if case .quarantined(let reason) = message.disposition { quarantineReason = reason }
            return [
                .text(message.messageID), .text(message.body), .text(message.format.rawValue), message.correlationID.sqlValue,
                message.errorText.sqlValue, .integer(message.receivedAt.databaseMilliseconds),
                .integer(Int64(message.receiveCount)), (message.sentAt?.databaseMilliseconds).sqlValue, quarantineReason.sqlValue,
            ]
        }
        let isNew: [Bool]
        if db.isPostgres {
            // One statement for them all (a round trip each would be most of an ingest's time); a
            // message ID twice in one call is new the first time only, as one row a statement has it.
            let inserted = Set(
                try db.insertRows(
                    into: "messages",
                    columns: RowFingerprint.messageColumns.split(separator: ", ").map(String.init),
                    values: columns.flatMap { $0 }, suffix: "ON CONFLICT (message_id) DO NOTHING RETURNING message_id"
                ) { $0.column(0) as String })
            var seen: Set<String> = []
            isNew = messages.map { inserted.contains($0.messageID) && seen.insert($0.messageID).inserted }
        } else {
            // One row a statement: a statement that may write several rows (a multi-row or RETURNING
            // insert) makes SQLite look for child rows of each new message in `changes`, by a column
            // no index serves (see migration 0009), to settle deferred foreign keys.
            isNew = try columns.map { columns in try db.run(insertMessage, columns) == 1 }
        }

        var changes: [(change: NewChange, messageID: String)] = []
        for (message, isNew) in zip(messages, isNew) where isNew {
            guard case .changes(let messageChanges) = message.disposition else { continue }
            changes += messageChanges.map { ($0, message.messageID) }
        }
        var insertedChanges = try insert(changes, now: now, into: &rows, in: db)[...]

        var outcomes: [MessageIngestOutcome] = []
        for (index, message) in messages.enumerated() {
            guard isNew[index] else {
                outcomes.append(
                    MessageIngestOutcome(
                        messageID: message.messageID, duplicateMessage: true, storedChangeIDs: [], duplicateChanges: 0))
                continue
            }
            // The message's first action records its fingerprint (see RowFingerprint), computed from
            // the values written, which the row holds as they are.
            let messageFingerprint = RowFingerprint.fingerprint(columns[index])
            switch message.disposition {
            case .quarantined(let reason):
                rows.append(
                    changeID: nil, messageID: message.messageID,
                    ActionEntry(
                        action: .quarantined, reason: reason, outcome: "quarantined",
                        response: RowFingerprint.response(message: messageFingerprint, change: nil)))
                outcomes.append(
                    MessageIngestOutcome(
                        messageID: message.messageID, duplicateMessage: false, storedChangeIDs: [], duplicateChanges: 0))
            case .changes(let messageChanges):
                let results = insertedChanges.prefix(messageChanges.count)
                insertedChanges = insertedChanges.dropFirst(messageChanges.count)
                let (stored, duplicates) = try record(
                    messageChanges, results, messageID: message.messageID, messageFingerprint: messageFingerprint,
                    into: &rows, in: db)
                outcomes.append(
                    MessageIngestOutcome(
                        messageID: message.messageID, duplicateMessage: false, storedChangeIDs: stored,
                        duplicateChanges: duplicates))
            case .batch(let batch):
                outcomes.append(
                    try store(
                        batch, messageID: message.messageID, messageFingerprint: messageFingerprint, now: now,
                        into: &rows, in: db))
            }
        }
        return outcomes
    }

    /// A message's row, its columns in RowFingerprint.messageColumns' order.
    private static let insertMessage = """
        INSERT INTO messages (\(RowFingerprint.messageColumns))
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING
        """

    /// Stores the batch a new message names (or notes that another message named it).
    static func store(
        _ batch: NewBatch, messageID: String, messageFingerprint: String, now: Int64, into rows: inout IngestRows,
        in db: AuditDatabase
    ) throws -> MessageIngestOutcome {
        let response = RowFingerprint.response(message: messageFingerprint, change: nil)
        if let id = try insert(batch, messageID: messageID, now: now, in: db) {
            rows.append(
                changeID: nil, messageID: messageID,
                ActionEntry(
                    action: .ingested, reason: "records to be read from the stream",
                    outcome: "batch \(id) \(BatchStatus.pending.rawValue)", response: response))
            return MessageIngestOutcome(
                messageID: messageID, duplicateMessage: false, storedChangeIDs: [], duplicateChanges: 0, batchID: id)
        }
        let existing = try db.queryOne(
            "SELECT id FROM batches WHERE stream_arn = ? AND shard_id = ? AND start_key = ? AND end_key = ?",
            [batch.streamARN, batch.shardID, batch.startSequenceNumber.sortKey, batch.endSequenceNumber.sortKey]
        ) { $0.column(0) as Int64 }
        rows.append(
            changeID: nil, messageID: messageID,
            ActionEntry(
                action: .duplicate, outcome: existing.map { "already stored as batch \($0)" } ?? "already stored",
                response: response))
        return MessageIngestOutcome(
            messageID: messageID, duplicateMessage: false, storedChangeIDs: [], duplicateChanges: 0, batchID: existing,
            duplicateBatch: true)
    }

    /// Stores changes of one message inside the caller's transaction; their images and first
    /// actions go to `rows`, which the caller writes before it commits. The first action of all
    /// also records the message's fingerprint when one is given.
    /// - Returns: The ids of the changes stored, and how many were already stored.
    static func storeChanges(
        _ changes: [NewChange], messageID: String, messageFingerprint: String?, now: Int64, into rows: inout IngestRows,
        in db: AuditDatabase
    ) throws -> (stored: [Int64], duplicates: Int) {
        let inserted = try insert(changes.map { ($0, messageID) }, now: now, into: &rows, in: db)
        return try record(
            changes, inserted[...], messageID: messageID, messageFingerprint: messageFingerprint, into: &rows, in: db)
    }

    /// Notes the first action of each of a message's changes, given what their insert did: the
    /// first action of all also records the message's fingerprint when one is given.
    /// - Returns: The ids of the changes stored, and how many were already stored.
    private static func record(
        _ changes: [NewChange], _ inserted: ArraySlice<(id: Int64, fingerprint: String)?>, messageID: String,
        messageFingerprint: String?, into rows: inout IngestRows, in db: AuditDatabase
    ) throws -> (stored: [Int64], duplicates: Int) {
        var messageFingerprint = messageFingerprint
        var stored: [Int64] = []
        var duplicates = 0
        for (change, inserted) in zip(changes, inserted) {
            if let (id, changeFingerprint) = inserted {
                stored.append(id)
                let kind: ActionKind =
                    switch change.status {
                    case .filtered: .filtered
                    case .expired: .expired
                    default: .ingested
                    }
                let response = RowFingerprint.response(message: messageFingerprint, change: changeFingerprint)
                messageFingerprint = nil
                rows.append(
                    changeID: id, messageID: messageID,
                    ActionEntry(action: kind, reason: change.reason, outcome: change.status.rawValue, response: response))
            } else {
                duplicates += 1
                let existing = try existingChangeID(for: change, in: db)
                rows.append(
                    changeID: existing, messageID: messageID,
                    ActionEntry(
                        action: .duplicate, outcome: existing.map { "already stored as change \($0)" } ?? "already stored",
                        response: messageFingerprint.map { RowFingerprint.response(message: $0, change: nil) }))
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

    /// Inserts changes, many rows to a statement; the images of those stored go to `rows`.
    /// - Returns: Per change, in order, its id and fingerprint (see ``RowFingerprint``),
    ///   computed from the values written, which the row holds as they are (STRICT columns in
    ///   SQLite, TEXT and BIGINT in PostgreSQL) and verify reads back; nil when a change with
    ///   the same identity or event ID was stored before it, by an earlier call or earlier in this one.
    private static func insert(
        _ changes: [(change: NewChange, messageID: String)], now: Int64, into rows: inout IngestRows, in db: AuditDatabase
    ) throws -> [(id: Int64, fingerprint: String)?] {
        // The write-once columns in RowFingerprint.changeColumns' order, less the id (not known yet).
        var written: [[SQLValue]] = []
        written.reserveCapacity(changes.count)
        var values: [SQLValue] = []
        values.reserveCapacity(changes.count * changeInsertColumns.count)
        var fingerprints: [String: (fingerprint: SQLValue, group: SQLValue)] = [:]
        for (change, messageID) in changes {
            let columns: [SQLValue] = [
                .text(messageID), change.streamARN.sqlValue, change.shardID.sqlValue,
                .text(change.sequenceNumber.sortKey), .text(change.sequenceNumber.digits), change.eventID.sqlValue,
                (change.eventName?.rawValue).sqlValue, Rows.text(of: change.keys).sqlValue, change.documentID.sqlValue,
                Rows.text(of: change.oldImage).sqlValue, Rows.text(of: change.newImage).sqlValue,
                (change.approximateCreationTime?.databaseMilliseconds).sqlValue, (change.batchInfo?.serialized).sqlValue,
                .integer(now),
            ]
            written.append(columns)
            // changeInsertColumns' order: the images go to change_images.
            values.append(contentsOf: columns[0..<9])
            values.append(contentsOf: columns[11..<13])
            // A call's changes often share a reason (a filtered batch): each text is fingerprinted once.
            let group: (fingerprint: SQLValue, group: SQLValue)
            if let reason = change.reason, let known = fingerprints[reason] {
                group = known
            } else {
                group = errorGroupColumns(change.reason)
                if let reason = change.reason { fingerprints[reason] = group }
            }
            values.append(contentsOf: [
                .text(change.status.rawValue), change.reason.sqlValue, group.fingerprint, group.group, .integer(now),
                .integer(now),
            ])
        }
        var stored: [InsertedChange: Int64] = [:]
        for (id, identity) in try db.insertRows(
            into: "changes", columns: changeInsertColumns, values: values,
            suffix: "ON CONFLICT DO NOTHING RETURNING id, stream_arn, sequence_number, event_id",
            row: { row in
                (
                    row.column(0) as Int64,
                    InsertedChange(streamARN: row.column(1), sequenceNumber: row.column(2), eventID: row.column(3))
                )
            })
        {
            stored[identity] = id
        }
        return zip(changes, written).map { pair, columns in
            let change = pair.change
            let identity = InsertedChange(
                streamARN: change.streamARN, sequenceNumber: change.sequenceNumber.digits, eventID: change.eventID)
            // Only the first of two identical changes in one call was stored.
            guard let id = stored.removeValue(forKey: identity) else { return nil }
            let (oldImage, newImage) = (columns[9], columns[10])
            if oldImage != .null || newImage != .null {
                rows.images.append(contentsOf: [.integer(id), oldImage, newImage])
            }
            return (id, RowFingerprint.fingerprint([.integer(id)] + columns))
        }
    }

    /// The columns of `changes` an ingest writes (the others keep their defaults).
    private static let changeInsertColumns = [
        "message_id", "stream_arn", "shard_id", "sequence_key", "sequence_number", "event_id", "event_name", "keys_json",
        "document_id", "approximate_creation_at", "batch_info_json", "status", "last_error", "error_fingerprint", "error_group",
        "created_at", "updated_at",
    ]

    /// The stored change a duplicate collided with.
    private static func existingChangeID(for change: NewChange, in db: AuditDatabase) throws -> Int64? {
        if let id = try db.queryOne(
            "SELECT id FROM changes WHERE ifnull(stream_arn, '') = ? AND sequence_number = ?",
            [change.streamARN ?? "", change.sequenceNumber.digits], row: { $0.column(0) as Int64 })
        {
            return id
        }
        guard let eventID = change.eventID else { return nil }
        return try db.queryOne("SELECT id FROM changes WHERE event_id = ?", [eventID]) { $0.column(0) as Int64 }
    }

    /// Appends one action to the chain, inside the caller's write transaction (see
    /// ``appendActions(_:at:in:)``).
    @discardableResult
    static func appendAction(changeID: Int64?, messageID: String?, _ entry: ActionEntry, at: Int64, in db: AuditDatabase) throws
        -> ActionRecord
    {
        try appendActions([PendingAction(changeID: changeID, messageID: messageID, entry: entry)], at: at, in: db)[0]
    }

    /// Appends actions to the chain, in order, inside the caller's write transaction, many rows
    /// to a statement.
    ///
    /// Each new action's id is one more than the highest id ever used (AUTOINCREMENT's
    /// counter), and its hash chains to the action before it (see ``ActionChain``): keyed
    /// with the key the connection holds when the chain is keyed. The chain's end is read
    /// from the store at the transaction's first append, then carried in ``AuditDatabase/chainTail``.
    /// - Throws: ``AuditLogError`` `.keyRequired` when the chain is keyed and the connection
    ///   holds no key, `.invalidKey` when it holds another key, `.corrupt` when the chain's
    ///   anchor or last hash is gone; or a database error.
    @discardableResult
    static func appendActions(_ actions: [PendingAction], at: Int64, in db: AuditDatabase) throws -> [ActionRecord] {
        guard !actions.isEmpty else { return [] }
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
        var previous: [UInt8]
        if tail.lastID == 0 {
            previous = ActionChain.genesis
        } else {
            guard let bytes = tail.lastHash else {
                throw AuditLogError(
                    code: .corrupt,
                    description: "the action chain is broken at action \(tail.lastID) (missing or bad hash); run verify")
            }
            previous = bytes
        }
        var id = tail.lastID
        var hash = ""
        var rows: [SQLValue] = []
        rows.reserveCapacity(actions.count * 10)
        var records: [ActionRecord] = []
        records.reserveCapacity(actions.count)
        for action in actions {
            id += 1
            let entry = action.entry
            let columns: [SQLValue] = [
                .integer(id), action.changeID.sqlValue, action.messageID.sqlValue, .text(entry.action.rawValue),
                .text(entry.actor), entry.reason.sqlValue, .text(entry.outcome), entry.response.sqlValue, .integer(at),
            ]
            previous = ActionChain.digest(previous: previous, columns: columns, key: key)
            hash = ActionChain.hex(previous)
            rows.append(contentsOf: columns)
            rows.append(.text(hash))
            records.append(
                ActionRecord(
                    id: id, changeID: action.changeID, messageID: action.messageID, action: entry.action,
                    actor: entry.actor, reason: entry.reason, outcome: entry.outcome, response: entry.response,
                    at: Date(databaseMilliseconds: at), hash: hash))
        }
        try db.insertRows(into: "actions", columns: actionColumns, values: rows)
        db.chainTail = ChainTail(anchor: tail.anchor, lastID: id, lastHash: previous)
        return records
    }

    private static let actionColumns = [
        "id", "change_id", "message_id", "action", "actor", "reason", "outcome", "response", "at", "hash",
    ]
}

/// What identifies a change the store returned from an insert.
private struct InsertedChange: Hashable {
    var streamARN: String?
    var sequenceNumber: String
    var eventID: String?

    /// The sequence number alone tells the changes of one insert apart (the stream ARN, long and
    /// nearly always the same, is left to `==`).
    func hash(into hasher: inout Hasher) {
        hasher.combine(sequenceNumber)
    }
}

/// An action to append to the chain, before it has an id and a hash.
struct PendingAction {
    /// The change it is about (nil for a message's or a batch's own action).
    var changeID: Int64?
    /// The message it is about.
    var messageID: String?
    /// What happened.
    var entry: ActionEntry
}

/// What an ingest writes after its changes, many rows to a statement: each stored change's
/// images, then the actions in the order they were noted, so that the chain holds them as if
/// each had been appended on its own. Written by ``write(at:in:)`` inside the same transaction.
struct IngestRows {
    /// `change_id, old_image_json, new_image_json` of each change with images, one after another.
    var images: [SQLValue] = []
    /// The actions, in order.
    var actions: [PendingAction] = []

    /// Notes an action.
    mutating func append(changeID: Int64?, messageID: String?, _ entry: ActionEntry) {
        actions.append(PendingAction(changeID: changeID, messageID: messageID, entry: entry))
    }

    /// Writes the images, then appends the actions to the chain.
    func write(at now: Int64, in db: AuditDatabase) throws {
        try db.insertRows(into: "change_images", columns: ["change_id", "old_image_json", "new_image_json"], values: images)
        try AuditLog.appendActions(actions, at: now, in: db)
    }
}
