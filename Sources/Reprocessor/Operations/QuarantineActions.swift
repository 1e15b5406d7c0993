import AWSClients
import AuditLog
import Foundation
import StreamModel
import SyncTransform

/// What an operator does with a quarantined message (a body nobody could read, kept raw): delete
/// it from the quarantine with a reason, or re-ingest it once the cause is fixed, its kept body
/// read again by the ingest path (``DLQIngestor/prepare(_:receivedAt:transform:)``) and what it
/// carries stored as an ingest stores it. Both can be previewed (dry run); both are recorded on
/// the message as an action (`deleted`, `reingested`) with the actor and the reason.
///
/// The command line (`quarantined --delete` / `--reingest`), `/v1/quarantined/{id}/…` and the
/// console all call this.
public struct QuarantineActions: Sendable {
    let auditLog: AuditLog
    let transform: SyncTransform

    /// - Parameters:
    ///   - auditLog: The audit log.
    ///   - transform: Decides which records a re-ingested body carries are artists (the settings' index).
    public init(auditLog: AuditLog, transform: SyncTransform) {
        self.auditLog = auditLog
        self.transform = transform
    }

    /// Checks the rule of a request for every front end: a delete needs a reason, dry run or not.
    /// - Throws: ``RequestError`` naming the field.
    public static func validate(_ command: Command, reason: String?) throws(RequestError) {
        try RequestError.checkReason(
            reason, required: command.requiresReason ? "to \(command.rawValue): it is recorded with the action" : nil)
    }

    /// The two commands.
    public enum Command: String, Sendable, CaseIterable {
        /// Take the message out of the quarantine (it stays in the audit log). Needs a reason.
        case delete
        /// Read the kept body again and store what it carries.
        case reingest

        /// Whether the command needs a reason, dry run or not.
        public var requiresReason: Bool { self == .delete }
    }

    /// What became, or would become, of the message.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Dry run: the message would be deleted from the quarantine.
        case wouldDelete = "would_delete"
        /// Dry run: the body now reads, and what it carries would be stored.
        case wouldReingest = "would_reingest"
        /// Deleted from the quarantine.
        case deleted
        /// Re-ingested: what the body carries is stored.
        case reingested
        /// Nothing done: the body still cannot be read (the message stays quarantined).
        case refused
        /// Nothing done: the message is not quarantined, or an operator already resolved it.
        case conflict
    }

    /// One command's result.
    public struct Result: Sendable, Hashable {
        /// The message.
        public var messageID: String
        /// The command.
        public var command: Command
        /// What became of it.
        public var outcome: Outcome
        /// One line saying so.
        public var message: String
        /// The changes stored (or, in a dry run, that would be: how many), for a re-ingest.
        public var changes: Int
        /// The ids of the changes stored by a re-ingest.
        public var changeIDs: [Int64]
        /// The batch a re-ingest stored.
        public var batchID: Int64?
        /// The action recorded (nil for a dry run and for a refusal or conflict).
        public var actionID: Int64?

        /// Whether nothing was (or would be) done.
        public var isFailure: Bool { outcome == .refused || outcome == .conflict }

        /// `{"messageId", "command", "outcome", "message", "changes", "changeIds", "batchId", "actionId"}`.
        public var json: JSONValue {
            .object([
                "messageId": .string(messageID), "command": .string(command.rawValue), "outcome": .string(outcome.rawValue),
                "message": .string(message), "changes": .number(String(changes)),
                "changeIds": .array(changeIDs.map { .number(String($0)) }),
                "batchId": batchID.map { .number(String($0)) } ?? .null,
                "actionId": actionID.map { .number(String($0)) } ?? .null,
            ])
        }
    }

    /// Runs `command` on the quarantined message `messageID`.
    /// - Parameters:
    ///   - command: Delete or re-ingest.
    ///   - messageID: The message.
    ///   - actor: Who (recorded).
    ///   - reason: Why (recorded; required to delete).
    ///   - dryRun: Say what would happen; change nothing.
    /// - Returns: What became (or would become) of it; a refusal or a conflict is a result, not an error.
    /// - Throws: ``RequestError`` for a delete without a reason (``validate(_:reason:)``);
    ///   ``ReprocessorError`` `.notFound` for an unknown message; audit-log errors.
    public func perform(_ command: Command, messageID: String, actor: String, reason: String?, dryRun: Bool) async throws
        -> Result
    {
        try Self.validate(command, reason: reason)
        let reason = reason.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
        guard let stored = try await auditLog.message(id: messageID) else {
            throw ReprocessorError(.notFound, "no message with id \(messageID)")
        }
        var result = Result(
            messageID: messageID, command: command, outcome: .conflict, message: "", changes: 0, changeIDs: [], batchID: nil,
            actionID: nil)
        guard stored.quarantineReason != nil else {
            result.message = "message \(messageID) is not quarantined: it was read when it came"
            return result
        }
        if let earlier = try await auditLog.quarantineResolution(messageID: messageID) {
            result.message =
                "message \(messageID) is no longer quarantined: \(earlier.actor) \(earlier.action.rawValue) it (action \(earlier.id))"
            return result
        }
        let resolution: AuditLog.QuarantineResolution
        switch command {
        case .delete:
            resolution = .delete
            result.outcome = .wouldDelete
            result.message = "would be deleted from the quarantine (kept in the audit log)"
        case .reingest:
            let reading = read(stored)
            resolution = .reingest(reading.disposition)
            switch reading.disposition {
            case .quarantined(let why):
                result.outcome = .refused
                result.message = "the body still cannot be read: \(why)"
                return result
            case .changes(let changes):
                result.outcome = .wouldReingest
                result.changes = changes.count
                let artists = changes.filter { $0.status == .pending }.count
                result.message =
                    "would store \(Self.counted(changes.count, "change")) (\(Self.counted(artists, "artist record")), "
                    + "the rest filtered)"
            case .batch(let batch):
                result.outcome = .wouldReingest
                result.message =
                    "would store a batch of shard \(batch.shardID), sequence \(batch.startSequenceNumber.digits)…"
                    + "\(batch.endSequenceNumber.digits), to be read from its stream"
            }
        }
        guard !dryRun else { return result }
        let done: (action: ActionRecord, stored: MessageIngestOutcome?)
        do {
            done = try await auditLog.resolveQuarantined(
                messageID: messageID, resolution, actor: actor, reason: reason, at: Date())
        } catch {
            // Another operator resolved it between the check and the write.
            guard error.code == .illegalTransition else { throw error }
            result.outcome = .conflict
            result.message = error.description
            return result
        }
        result.outcome = command == .delete ? .deleted : .reingested
        result.message = done.action.outcome
        result.actionID = done.action.id
        result.changeIDs = done.stored?.storedChangeIDs ?? []
        result.changes = result.changeIDs.count
        result.batchID = done.stored?.batchID
        return result
    }

    /// The stored message read again by the ingest path, as it would read it arriving now.
    func read(_ stored: StoredMessage) -> NewMessage {
        let message = SQSMessage(
            messageID: stored.messageID, receiptHandle: "", body: stored.body,
            messageAttributes: stored.correlationID.map { ["correlationId": $0] } ?? [:], receiveCount: stored.receiveCount,
            sentAt: stored.sentAt)
        return DLQIngestor.prepare(message, receivedAt: Date(), transform: transform)
    }

    /// Whether `text` has the form of a message id the front ends take: 1 to 200 letters, digits,
    /// `-`, `_` and `.` (not first), as SQS message ids are (`docs/openapi.yaml`'s `MessageID`).
    public static func isMessageID(_ text: String) -> Bool {
        let allowed = { (byte: UInt8) in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        return (1...200).contains(text.utf8.count) && text.utf8.first != UInt8(ascii: ".") && text.utf8.allSatisfy(allowed)
    }

    static func counted(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }
}
