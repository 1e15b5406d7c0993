import Foundation
import StreamModel

/// Where a change stands. Raw values are what the database stores and the CLI prints.
public enum ChangeStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting to be applied.
    case pending
    /// In the search index.
    case applied
    /// The last apply failed; retried automatically after `nextAttemptAt`.
    case failed
    /// Failed too often; waits for an operator.
    case parked
    /// Deliberately not applied by an operator.
    case skipped
    /// Its old image was restored in the search index.
    case rolledBack = "rolled_back"
    /// A newer change to the same document is already in the search index.
    case superseded
    /// Not an artist record: never applied (terminal).
    case filtered
    /// Its batch was trimmed from the stream before the records could be read.
    case expired
}

/// What an action records. Raw values are what the database stores and the CLI prints.
public enum ActionKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A change was stored from a DLQ message.
    case ingested
    /// A message body could not be understood and was stored raw.
    case quarantined
    /// A batch's records were gone from the stream.
    case expired
    /// A change is not an artist record.
    case filtered
    /// A change was written to the search index.
    case applied
    /// An apply failed.
    case failed
    /// A change was parked for an operator.
    case parked
    /// A newer change already won.
    case superseded
    /// An operator (or the resync request) asked for another try.
    case retried
    /// An operator skipped a change.
    case skipped
    /// A change was rolled back.
    case rolledBack = "rolled_back"
    /// A document was made to match the table's current item.
    case resynced
    /// A write was refused because the live document moved on (e.g. a refused rollback).
    case conflict
    /// A change arrived again in another message.
    case duplicate
    /// A reconcile run repaired a document that had drifted from the table (no change or message:
    /// the response names the run and the document).
    case reconciled
    /// A store was rebuilt by salvage from what could still be read of a damaged one (no change or
    /// message: the response lists per table the rows read and the id ranges that could not be).
    case salvaged
}

/// A change to store at ingest: one failed stream record, or a placeholder for an expired batch.
public struct NewChange: Sendable, Hashable {
    /// The stream's ARN (part of the change's identity).
    public var streamARN: String?
    /// The shard the record came from.
    public var shardID: String?
    /// The record's sequence number (part of the change's identity).
    public var sequenceNumber: SequenceNumber
    /// The record's event ID (an identity of its own when present).
    public var eventID: String?
    /// INSERT, MODIFY or REMOVE; nil only for an expired batch placeholder.
    public var eventName: EventName?
    /// The item's key attributes.
    public var keys: Item?
    /// The search document the change targets (nil when it is not an artist record).
    public var documentID: String?
    /// The item before the change.
    public var oldImage: Item?
    /// The item after the change.
    public var newImage: Item?
    /// When DynamoDB recorded the change.
    public var approximateCreationTime: Date?
    /// `.pending`, `.filtered` or `.expired`: ingest refuses any other status.
    public var status: ChangeStatus
    /// Why it is filtered or expired; stored as the ingest action's reason and as `lastError`.
    public var reason: String?
    /// For an expired batch: the DDBStreamBatchInfo object as received.
    public var batchInfo: JSONValue?

    /// Makes a change to ingest.
    public init(
        streamARN: String? = nil, shardID: String? = nil, sequenceNumber: SequenceNumber, eventID: String? = nil,
        eventName: EventName? = nil, keys: Item? = nil, documentID: String? = nil, oldImage: Item? = nil,
        newImage: Item? = nil, approximateCreationTime: Date? = nil, status: ChangeStatus = .pending,
        reason: String? = nil, batchInfo: JSONValue? = nil
    ) {
        self.streamARN = streamARN
        self.shardID = shardID
        self.sequenceNumber = sequenceNumber
        self.eventID = eventID
        self.eventName = eventName
        self.keys = keys
        self.documentID = documentID
        self.oldImage = oldImage
        self.newImage = newImage
        self.approximateCreationTime = approximateCreationTime
        self.status = status
        self.reason = reason
        self.batchInfo = batchInfo
    }
}

/// What a message carried: changes, or nothing usable.
public enum MessageDisposition: Sendable, Hashable {
    /// The changes the message carried (possibly none).
    case changes([NewChange])
    /// The body could not be understood; it is stored raw with this reason.
    case quarantined(reason: String)
    /// The body names a failed batch (format A): the batch is stored, its records are read later.
    case batch(NewBatch)
}

/// One SQS message to store.
public struct NewMessage: Sendable, Hashable {
    /// The SQS message ID (a message's identity).
    public var messageID: String
    /// The body exactly as received.
    public var body: String
    /// Which envelope format the body is.
    public var format: EnvelopeFormat
    /// The producer's correlation ID, if any.
    public var correlationID: String?
    /// The error text the producer attached, if any.
    public var errorText: String?
    /// When this program received it.
    public var receivedAt: Date
    /// SQS ApproximateReceiveCount.
    public var receiveCount: Int
    /// SQS SentTimestamp.
    public var sentAt: Date?
    /// What it carried.
    public var disposition: MessageDisposition

    /// Makes a message to ingest.
    public init(
        messageID: String, body: String, format: EnvelopeFormat, correlationID: String? = nil, errorText: String? = nil,
        receivedAt: Date, receiveCount: Int = 1, sentAt: Date? = nil, disposition: MessageDisposition
    ) {
        self.messageID = messageID
        self.body = body
        self.format = format
        self.correlationID = correlationID
        self.errorText = errorText
        self.receivedAt = receivedAt
        self.receiveCount = receiveCount
        self.sentAt = sentAt
        self.disposition = disposition
    }
}

/// What ingest did with one message.
public struct MessageIngestOutcome: Sendable, Hashable {
    /// The message.
    public var messageID: String
    /// The message ID was seen before: nothing was stored.
    public var duplicateMessage: Bool
    /// The ids of the changes stored, in the message's order.
    public var storedChangeIDs: [Int64]
    /// Changes already known (same stream ARN + sequence number, or same event ID).
    public var duplicateChanges: Int
    /// The batch the message named (format A), stored now or before: nil for other formats.
    public var batchID: Int64?
    /// The message named a batch another message had already named.
    public var duplicateBatch: Bool

    /// Makes an outcome.
    public init(
        messageID: String, duplicateMessage: Bool, storedChangeIDs: [Int64], duplicateChanges: Int, batchID: Int64? = nil,
        duplicateBatch: Bool = false
    ) {
        self.messageID = messageID
        self.duplicateMessage = duplicateMessage
        self.storedChangeIDs = storedChangeIDs
        self.duplicateChanges = duplicateChanges
        self.batchID = batchID
        self.duplicateBatch = duplicateBatch
    }
}

/// Where a failed batch (a format-A message) is in its life.
public enum BatchStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Records still to read from the stream (possibly after a transient error, with backoff).
    case pending
    /// Every record of the range is stored as a change.
    case read
    /// The stream no longer has the records: trimmed, shard or stream gone, or older than its retention.
    case expired
    /// An operator chose not to read or repair it, with a reason (``AuditLog/skipBatch(_:reason:actor:at:)``).
    case skipped
    /// An expired batch covered by a repairing reconcile run that started after it expired
    /// (`resolve-expired`): search was made to match the table for every artist.
    case resolved
}

/// A failed batch to store: the range a format-A message names.
public struct NewBatch: Sendable, Hashable {
    /// The stream.
    public var streamARN: String
    /// The shard.
    public var shardID: String
    /// First sequence number of the range.
    public var startSequenceNumber: SequenceNumber
    /// Last sequence number of the range.
    public var endSequenceNumber: SequenceNumber
    /// The `DDBStreamBatchInfo` object as received.
    public var batchInfo: JSONValue
    /// When the range's last record reached the stream (as the message says, else when it was sent):
    /// the stream keeps records 24 hours from then.
    public var lastRecordAt: Date

    /// Makes a batch to store.
    public init(
        streamARN: String, shardID: String, startSequenceNumber: SequenceNumber, endSequenceNumber: SequenceNumber,
        batchInfo: JSONValue, lastRecordAt: Date
    ) {
        self.streamARN = streamARN
        self.shardID = shardID
        self.startSequenceNumber = startSequenceNumber
        self.endSequenceNumber = endSequenceNumber
        self.batchInfo = batchInfo
        self.lastRecordAt = lastRecordAt
    }
}

/// A stored failed batch.
public struct BatchRecord: Sendable, Hashable {
    /// Row id.
    public var id: Int64
    /// The message that named it first.
    public var messageID: String
    /// The stream.
    public var streamARN: String
    /// The shard.
    public var shardID: String
    /// First sequence number of the range.
    public var startSequenceNumber: SequenceNumber
    /// Last sequence number of the range.
    public var endSequenceNumber: SequenceNumber
    /// The `DDBStreamBatchInfo` object as received.
    public var batchInfo: JSONValue
    /// When the range's last record reached the stream (see ``NewBatch/lastRecordAt``).
    public var lastRecordAt: Date
    /// Where it is in its life.
    public var status: BatchStatus
    /// Passes that failed with a transient error since the last progress.
    public var attempts: Int
    /// Not read again before this time (backoff); nil: due now.
    public var nextAttemptAt: Date?
    /// The last error, or why it expired.
    public var lastError: String?
    /// The last sequence number read (nil: nothing read yet); reading resumes after it.
    public var lastReadSequenceNumber: SequenceNumber?
    /// Records of the range read so far (stored now or found already stored).
    public var recordsRead: Int
    /// Since when it has waited for its records.
    public var waitingSince: Date
    /// When it was stored.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// Makes a record.
    public init(
        id: Int64, messageID: String, streamARN: String, shardID: String, startSequenceNumber: SequenceNumber,
        endSequenceNumber: SequenceNumber, batchInfo: JSONValue, lastRecordAt: Date, status: BatchStatus, attempts: Int,
        nextAttemptAt: Date?, lastError: String?, lastReadSequenceNumber: SequenceNumber?, recordsRead: Int,
        waitingSince: Date, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.messageID = messageID
        self.streamARN = streamARN
        self.shardID = shardID
        self.startSequenceNumber = startSequenceNumber
        self.endSequenceNumber = endSequenceNumber
        self.batchInfo = batchInfo
        self.lastRecordAt = lastRecordAt
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.lastReadSequenceNumber = lastReadSequenceNumber
        self.recordsRead = recordsRead
        self.waitingSince = waitingSince
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One page of a batch's records, to commit with the batch's progress.
public struct BatchPage: Sendable, Hashable {
    /// The records of the range on this page, as changes (pending or filtered).
    public var changes: [NewChange]
    /// The last sequence number this page read (past the range's end, possibly); nil for an empty page.
    public var lastReadSequenceNumber: SequenceNumber?
    /// Whether every record of the range is now read: the batch becomes ``BatchStatus/read``.
    public var complete: Bool

    /// Makes a page.
    public init(changes: [NewChange], lastReadSequenceNumber: SequenceNumber?, complete: Bool) {
        self.changes = changes
        self.lastReadSequenceNumber = lastReadSequenceNumber
        self.complete = complete
    }
}

/// What storing one page did.
public struct BatchPageOutcome: Sendable, Hashable {
    /// Changes stored for the first time.
    public var storedChangeIDs: [Int64]
    /// Changes already stored (forwarded by another message, or read before a crash).
    public var duplicateChanges: Int
    /// The batch after the page.
    public var batch: BatchRecord

    /// Makes an outcome.
    public init(storedChangeIDs: [Int64], duplicateChanges: Int, batch: BatchRecord) {
        self.storedChangeIDs = storedChangeIDs
        self.duplicateChanges = duplicateChanges
        self.batch = batch
    }
}

/// A holder's proof that it holds a run lease: writes made with it are refused once
/// another holder has taken the lease over (the epoch moved on) or it was released.
public struct LeaseFence: Sendable, Hashable, CustomStringConvertible {
    /// The lease, e.g. `run`.
    public var name: String
    /// The holder id (unique per process start).
    public var holder: String
    /// The lease's epoch when this holder took it; every take-over increments it.
    public var epoch: Int64

    /// Makes a fence.
    public init(name: String, holder: String, epoch: Int64) {
        self.name = name
        self.holder = holder
        self.epoch = epoch
    }

    /// `holder (epoch n)`.
    public var description: String { "\(holder) (epoch \(epoch))" }
}

/// The lease row as stored: who holds it, since when, its epoch.
public struct LeaseState: Sendable, Hashable {
    /// The lease.
    public var name: String
    /// The last holder.
    public var holder: String
    /// The epoch of the last take-over.
    public var epoch: Int64
    /// When the holder took it.
    public var acquiredAt: Date
    /// When the holder last renewed it.
    public var renewedAt: Date?
    /// Until when it counts as held without a renewal (its last renewal, or take-over, plus its time to live).
    public var expiresAt: Date
    /// When the holder gave it up; nil while held.
    public var releasedAt: Date?

    /// Makes a state.
    public init(
        name: String, holder: String, epoch: Int64, acquiredAt: Date, renewedAt: Date?, expiresAt: Date, releasedAt: Date?
    ) {
        self.name = name
        self.holder = holder
        self.epoch = epoch
        self.acquiredAt = acquiredAt
        self.renewedAt = renewedAt
        self.expiresAt = expiresAt
        self.releasedAt = releasedAt
    }

    /// Whether someone holds it at `now`: not released, renewed within its time to live.
    public func isHeld(at now: Date) -> Bool { releasedAt == nil && expiresAt > now }
}

/// A row of the changes table.
public struct ChangeRecord: Sendable, Hashable {
    /// The change's id.
    public var id: Int64
    /// The message it came in.
    public var messageID: String?
    /// The stream's ARN.
    public var streamARN: String?
    /// The shard.
    public var shardID: String?
    /// The record's sequence number.
    public var sequenceNumber: SequenceNumber
    /// The record's event ID.
    public var eventID: String?
    /// INSERT, MODIFY or REMOVE (nil for an expired batch placeholder).
    public var eventName: EventName?
    /// The item's key attributes.
    public var keys: Item?
    /// The search document it targets.
    public var documentID: String?
    /// The item before.
    public var oldImage: Item?
    /// The item after.
    public var newImage: Item?
    /// When DynamoDB recorded the change.
    public var approximateCreationTime: Date?
    /// Where it stands.
    public var status: ChangeStatus
    /// Apply attempts so far.
    public var attempts: Int
    /// When a failed change is due again.
    public var nextAttemptAt: Date?
    /// The last error (or the filter / expiry reason).
    public var lastError: String?
    /// For an expired batch: the DDBStreamBatchInfo.
    public var batchInfo: JSONValue?
    /// The correlation ID of its message.
    public var correlationID: String?
    /// When it was stored.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// Makes a record from its fields.
    public init(
        id: Int64, messageID: String?, streamARN: String?, shardID: String?, sequenceNumber: SequenceNumber, eventID: String?,
        eventName: EventName?, keys: Item?, documentID: String?, oldImage: Item?, newImage: Item?,
        approximateCreationTime: Date?, status: ChangeStatus, attempts: Int, nextAttemptAt: Date?, lastError: String?,
        batchInfo: JSONValue?, correlationID: String?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.messageID = messageID
        self.streamARN = streamARN
        self.shardID = shardID
        self.sequenceNumber = sequenceNumber
        self.eventID = eventID
        self.eventName = eventName
        self.keys = keys
        self.documentID = documentID
        self.oldImage = oldImage
        self.newImage = newImage
        self.approximateCreationTime = approximateCreationTime
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.batchInfo = batchInfo
        self.correlationID = correlationID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A row of the append-only actions table.
public struct ActionRecord: Sendable, Hashable {
    /// The action's id (consecutive: the chain order).
    public var id: Int64
    /// The change it concerns.
    public var changeID: Int64?
    /// The message it concerns.
    public var messageID: String?
    /// What happened.
    public var action: ActionKind
    /// Who did it: `system` or an operator's name.
    public var actor: String
    /// Why.
    public var reason: String?
    /// What came of it.
    public var outcome: String
    /// The search server's response, if any.
    public var response: String?
    /// When.
    public var at: Date
    /// Hex SHA-256 of the previous action's hash and this row (see `ActionChain`).
    public var hash: String

    /// Makes a record from its fields.
    public init(
        id: Int64, changeID: Int64?, messageID: String?, action: ActionKind, actor: String, reason: String?, outcome: String,
        response: String?, at: Date, hash: String
    ) {
        self.id = id
        self.changeID = changeID
        self.messageID = messageID
        self.action = action
        self.actor = actor
        self.reason = reason
        self.outcome = outcome
        self.response = response
        self.at = at
        self.hash = hash
    }
}

/// An action a caller asks to append.
public struct ActionEntry: Sendable, Hashable, Codable {
    /// What happened.
    public var action: ActionKind
    /// Who did it.
    public var actor: String
    /// Why.
    public var reason: String?
    /// What came of it.
    public var outcome: String
    /// The search server's response, if any.
    public var response: String?

    /// Makes an entry.
    public init(action: ActionKind, actor: String = "system", reason: String? = nil, outcome: String, response: String? = nil) {
        self.action = action
        self.actor = actor
        self.reason = reason
        self.outcome = outcome
        self.response = response
    }
}

/// Field updates that ride along a transition; nil leaves a field as it is.
public struct ChangeUpdate: Sendable, Hashable, Codable {
    /// New attempt count.
    public var attempts: Int?
    /// New due time: `.some(nil)` clears it.
    public var nextAttemptAt: Date??
    /// New last error: `.some(nil)` clears it.
    public var lastError: String??

    /// Makes an update.
    public init(attempts: Int? = nil, nextAttemptAt: Date?? = nil, lastError: String?? = nil) {
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}

extension ChangeUpdate {
    private enum CodingKeys: String, CodingKey { case attempts, nextAttemptAt, lastError }

    /// Decodes an update; a key present with `null` means "clear", an absent key "leave as is".
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        attempts = try container.decodeIfPresent(Int.self, forKey: .attempts)
        if container.contains(.nextAttemptAt) {
            nextAttemptAt = .some(
                try container.decodeNil(forKey: .nextAttemptAt) ? nil : container.decode(Date.self, forKey: .nextAttemptAt))
        }
        if container.contains(.lastError) {
            lastError = .some(
                try container.decodeNil(forKey: .lastError) ? nil : container.decode(String.self, forKey: .lastError))
        }
    }

    /// Encodes an update so that "clear" (`null`) and "leave as is" (absent) stay distinct.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(attempts, forKey: .attempts)
        if let nextAttemptAt { try container.encode(nextAttemptAt, forKey: .nextAttemptAt) }
        if let lastError { try container.encode(lastError, forKey: .lastError) }
    }
}

/// One move of ``AuditLog/transitions(_:at:)``: the arguments of ``AuditLog/transition(_:to:expecting:update:action:at:)``.
public struct TransitionRequest: Sendable, Hashable, Codable {
    /// The change.
    public var id: Int64
    /// Its new status.
    public var to: ChangeStatus
    /// The statuses the caller believes the change is in (nil: any).
    public var expecting: Set<ChangeStatus>?
    /// Attempts, due time and last error to set along the way.
    public var update: ChangeUpdate
    /// The action to record.
    public var action: ActionEntry

    /// Makes a request.
    /// - Parameters:
    ///   - id: The change.
    ///   - to: Its new status.
    ///   - expecting: The statuses the caller believes the change is in.
    ///   - update: Attempts, due time and last error to set along the way.
    ///   - action: The action to record.
    public init(
        _ id: Int64, to: ChangeStatus, expecting: Set<ChangeStatus>? = nil, update: ChangeUpdate = .init(), action: ActionEntry
    ) {
        self.id = id
        self.to = to
        self.expecting = expecting
        self.update = update
        self.action = action
    }
}

/// Which changes to list; every field defaults to "no constraint", and constraints combine with AND.
public struct ChangeFilter: Sendable, Hashable {
    /// Any of these statuses (empty: any status).
    public var statuses: Set<ChangeStatus>
    /// Exactly this document.
    public var documentID: String?
    /// Exactly this event name.
    public var eventName: EventName?
    /// Stored at or after this time.
    public var since: Date?
    /// Stored before this time.
    public var until: Date?
    /// A SQL LIKE pattern (`%` any text, `_` one character) that must occur somewhere in
    /// `lastError`; ASCII letters match case-insensitively. Changes without an error never match.
    public var errorPattern: String?
    /// Exactly this `lastError`, byte for byte, never a text that merely contains it.
    public var errorEquals: String?
    /// Exactly this failure group (``ErrorGroup/id``): every change whose error has its fingerprint.
    public var errorGroup: String?
    /// Only these ids.
    public var ids: [Int64]?

    /// Makes a filter.
    public init(
        statuses: Set<ChangeStatus> = [], documentID: String? = nil, eventName: EventName? = nil, since: Date? = nil,
        until: Date? = nil, errorPattern: String? = nil, errorEquals: String? = nil, errorGroup: String? = nil,
        ids: [Int64]? = nil
    ) {
        self.statuses = statuses
        self.documentID = documentID
        self.eventName = eventName
        self.since = since
        self.until = until
        self.errorPattern = errorPattern
        self.errorEquals = errorEquals
        self.errorGroup = errorGroup
        self.ids = ids
    }
}

/// One page of a keyset-paged listing.
public struct Page<Row: Sendable>: Sendable {
    /// The rows of this page.
    public var rows: [Row]
    /// The opaque cursor of the next page (pass it as `after`); nil on the last page.
    public var next: String?

    /// Makes a page.
    public init(rows: [Row], next: String?) {
        self.rows = rows
        self.next = next
    }
}

extension Page: Equatable where Row: Equatable {}
extension Page: Hashable where Row: Hashable {}

/// Which actions to list; constraints combine with AND.
public struct ActionFilter: Sendable, Hashable {
    /// Exactly this actor.
    public var actor: String?
    /// Any of these kinds (empty: any kind).
    public var actions: Set<ActionKind>
    /// At or after this time.
    public var since: Date?
    /// Before this time.
    public var until: Date?

    /// Makes a filter.
    public init(actor: String? = nil, actions: Set<ActionKind> = [], since: Date? = nil, until: Date? = nil) {
        self.actor = actor
        self.actions = actions
        self.since = since
        self.until = until
    }
}

/// Counts for `stats`.
public struct AuditStats: Sendable, Hashable {
    /// Changes per status; every status is present, zeros included.
    public var changes: [ChangeStatus: Int]
    /// Messages stored.
    public var messagesTotal: Int
    /// Messages stored as quarantined.
    public var messagesQuarantined: Int
    /// Creation time of the oldest change in pending or failed.
    public var oldestPendingCreatedAt: Date?
    /// When the last run finished (``AuditLog/recordRun(finishedAt:)``).
    public var lastRunAt: Date?
    /// Batches per status; every status is present, zeros included.
    public var batches: [BatchStatus: Int]
    /// Since when the longest-waiting pending batch has waited.
    public var oldestWaitingBatchSince: Date?
    /// The run lease row (nil before any run took it).
    public var runLease: LeaseState?
    /// Why replay is paused and since when (nil when the last pass got through).
    public var replayPause: ReplayPause?
    /// The newest reconcile run, finished or not (nil before any).
    public var lastReconcile: ReconcileRun?
    /// Streams that cannot be found or described: their batches wait for the configuration to be fixed.
    public var streamProblems: [StreamProblem]
    /// When the last record of the pending batch nearest its stream's retention reached the
    /// stream (nil when no batch is pending): the stream keeps it 24 hours from then.
    public var mostUrgentBatchLastRecordAt: Date?

    /// Makes stats.
    public init(
        changes: [ChangeStatus: Int], messagesTotal: Int, messagesQuarantined: Int, oldestPendingCreatedAt: Date?,
        lastRunAt: Date?, batches: [BatchStatus: Int] = [:], oldestWaitingBatchSince: Date? = nil,
        runLease: LeaseState? = nil, replayPause: ReplayPause? = nil, lastReconcile: ReconcileRun? = nil,
        streamProblems: [StreamProblem] = [], mostUrgentBatchLastRecordAt: Date? = nil
    ) {
        self.streamProblems = streamProblems
        self.mostUrgentBatchLastRecordAt = mostUrgentBatchLastRecordAt
        self.changes = changes
        self.messagesTotal = messagesTotal
        self.messagesQuarantined = messagesQuarantined
        self.oldestPendingCreatedAt = oldestPendingCreatedAt
        self.lastRunAt = lastRunAt
        self.batches = batches
        self.oldestWaitingBatchSince = oldestWaitingBatchSince
        self.runLease = runLease
        self.replayPause = replayPause
        self.lastReconcile = lastReconcile
    }
}

/// Replay paused because search as a whole is failing.
public struct ReplayPause: Sendable, Hashable {
    /// What failed, in one line.
    public var reason: String
    /// When the outage was first seen.
    public var since: Date
    /// The last pass that found it.
    public var checkedAt: Date

    /// Makes a pause.
    public init(reason: String, since: Date, checkedAt: Date) {
        self.reason = reason
        self.since = since
        self.checkedAt = checkedAt
    }
}

/// The result of ``AuditLog/verify()``.
public struct VerifyReport: Sendable, Hashable {
    /// How many actions were checked.
    public var actionsChecked: Int
    /// The first action whose link is broken (nil when the chain is intact).
    public var firstBrokenActionID: Int64?
    /// What is wrong with it, naming the action.
    public var brokenReason: String?
    /// How many messages, changes and batches were checked against what their actions recorded.
    public var rowsChecked: Int
    /// The rows that do not agree with the chain: edited, missing, without the actions that record
    /// them, or with another status than their last action left; the first few of each check, by id.
    public var rowProblems: [RowProblem]
    /// The first row that does not agree with the chain, e.g. `change 12` (nil when all do).
    public var firstBrokenRow: String? { rowProblems.first?.row }
    /// What is wrong with it, naming the row.
    public var brokenRowReason: String? { rowProblems.first?.reason }
    /// `PRAGMA integrity_check` lines; `["ok"]` when the file is sound.
    public var integrityCheck: [String]
    /// The last action of the unbroken part of the chain, with its hash.
    public var head: ChainHead
    /// The first action of the keyed part of the chain (nil when the chain is unkeyed).
    public var keyedFrom: Int64?
    /// Why an expected head is not in the chain (nil when it is, or none was given).
    public var headReason: String?
    /// Every stretch of action ids missing from the chain, in order (a salvaged store's gaps, or
    /// rows deleted from the middle or the end): the walk goes on after each gap, so every one is
    /// named; the action right after a gap cannot be checked (its predecessor's hash is gone).
    public var missingActions: [ClosedRange<Int64>] = []

    /// Makes a report.
    public init(
        actionsChecked: Int, firstBrokenActionID: Int64?, brokenReason: String?, rowsChecked: Int = 0,
        rowProblems: [RowProblem] = [], integrityCheck: [String],
        head: ChainHead = ChainHead(count: 0, hash: String(repeating: "0", count: 64)), keyedFrom: Int64? = nil,
        headReason: String? = nil
    ) {
        self.head = head
        self.keyedFrom = keyedFrom
        self.headReason = headReason
        self.actionsChecked = actionsChecked
        self.firstBrokenActionID = firstBrokenActionID
        self.brokenReason = brokenReason
        self.rowsChecked = rowsChecked
        self.rowProblems = rowProblems
        self.integrityCheck = integrityCheck
    }

    /// A row that does not agree with the chain.
    public struct RowProblem: Sendable, Hashable {
        /// The row, e.g. `change 12`, `message m-1`, `batch 3`, `change_images 7`.
        public var row: String
        /// What is wrong with it, naming the row.
        public var reason: String

        /// Makes a problem.
        public init(row: String, reason: String) {
            self.row = row
            self.reason = reason
        }
    }

    /// The chain is unbroken and holds the expected head (if one was given), every row agrees with
    /// it (see ``rowProblems``), and the database passed its integrity check.
    public var isIntact: Bool {
        firstBrokenActionID == nil && rowProblems.isEmpty && integrityCheck == ["ok"] && headReason == nil
    }

    /// Whether part of the chain is keyed (HMAC-SHA-256).
    public var isKeyed: Bool { keyedFrom != nil }
}

/// A stored message.
public struct StoredMessage: Sendable, Hashable {
    /// The SQS message ID.
    public var messageID: String
    /// The body exactly as received.
    public var body: String
    /// Its envelope format.
    public var format: EnvelopeFormat
    /// The producer's correlation ID.
    public var correlationID: String?
    /// The producer's error text.
    public var errorText: String?
    /// When it was received.
    public var receivedAt: Date
    /// SQS ApproximateReceiveCount.
    public var receiveCount: Int
    /// SQS SentTimestamp.
    public var sentAt: Date?
    /// Why it was quarantined (nil when it was not).
    public var quarantineReason: String?

    /// Makes a message record.
    public init(
        messageID: String, body: String, format: EnvelopeFormat, correlationID: String?, errorText: String?, receivedAt: Date,
        receiveCount: Int, sentAt: Date?, quarantineReason: String?
    ) {
        self.messageID = messageID
        self.body = body
        self.format = format
        self.correlationID = correlationID
        self.errorText = errorText
        self.receivedAt = receivedAt
        self.receiveCount = receiveCount
        self.sentAt = sentAt
        self.quarantineReason = quarantineReason
    }
}
