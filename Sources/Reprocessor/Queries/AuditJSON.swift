import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform

/// The JSON shapes of the audit log that scripts rely on (`--json` output and
/// the HTTP API): camelCase keys, images as plain JSON, times in ISO-8601.
public enum AuditJSON {
    /// An ISO-8601 UTC time with milliseconds.
    public static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    static func optional(_ date: Date?) -> JSONValue { date.map { .string(time($0)) } ?? .null }
    static func optional(_ item: Item?) -> JSONValue { item.map(SyncTransform.plainJSON) ?? .null }

    /// One change: `{"id", "status", "eventName", "sequenceNumber", "documentId", "keys", "oldImage",
    /// "newImage", "attempts", "lastError", "createdAt", …}`.
    public static func change(_ change: ChangeRecord) -> JSONValue {
        .object([
            "id": .number(String(change.id)),
            "status": .string(change.status.rawValue),
            "eventName": optional(change.eventName?.rawValue),
            "sequenceNumber": .string(change.sequenceNumber.digits),
            "documentId": optional(change.documentID),
            "keys": optional(change.keys),
            "oldImage": optional(change.oldImage),
            "newImage": optional(change.newImage),
            "attempts": .number(String(change.attempts)),
            "lastError": optional(change.lastError),
            "createdAt": .string(time(change.createdAt)),
            "updatedAt": .string(time(change.updatedAt)),
            "nextAttemptAt": optional(change.nextAttemptAt),
            "correlationId": optional(change.correlationID),
            "messageId": optional(change.messageID),
            "streamArn": optional(change.streamARN),
            "approximateCreationTime": optional(change.approximateCreationTime),
            "batchInfo": change.batchInfo ?? .null,
        ])
    }

    /// One action: `{"id", "changeId", "action", "actor", "reason", "outcome", "at"}`.
    public static func action(_ action: ActionRecord) -> JSONValue {
        .object([
            "id": .number(String(action.id)),
            "changeId": action.changeID.map { .number(String($0)) } ?? .null,
            "messageId": optional(action.messageID),
            "action": .string(action.action.rawValue),
            "actor": .string(action.actor),
            "reason": optional(action.reason),
            "outcome": .string(action.outcome),
            "at": .string(time(action.at)),
        ])
    }

    /// One stored message: `{"messageId", "format", "body", "correlationId", "errorText", "receivedAt",
    /// "receiveCount", "sentAt", "quarantineReason"}`.
    /// One failed batch: `{"id", "status", "messageId", "streamArn", "shardId", "startSequenceNumber",
    /// "endSequenceNumber", "batchInfo", "lastRecordAt", "attempts", "nextAttemptAt", "lastError",
    /// "lastReadSequenceNumber", "recordsRead", "waitingSince", "waitingSeconds", "createdAt", "updatedAt"}`;
    /// `waitingSeconds` is null once the batch no longer waits.
    public static func batch(_ batch: BatchRecord, now: Date = Date()) -> JSONValue {
        .object([
            "id": .number(String(batch.id)),
            "status": .string(batch.status.rawValue),
            "messageId": .string(batch.messageID),
            "streamArn": .string(batch.streamARN),
            "shardId": .string(batch.shardID),
            "startSequenceNumber": .string(batch.startSequenceNumber.digits),
            "endSequenceNumber": .string(batch.endSequenceNumber.digits),
            "batchInfo": batch.batchInfo,
            "lastRecordAt": .string(time(batch.lastRecordAt)),
            "attempts": .number(String(batch.attempts)),
            "nextAttemptAt": optional(batch.nextAttemptAt),
            "lastError": optional(batch.lastError),
            "lastReadSequenceNumber": optional(batch.lastReadSequenceNumber?.digits),
            "recordsRead": .number(String(batch.recordsRead)),
            "waitingSince": .string(time(batch.waitingSince)),
            "waitingSeconds": batch.status == .pending
                ? .number(String(max(0, Int(now.timeIntervalSince(batch.waitingSince))))) : .null,
            "createdAt": .string(time(batch.createdAt)),
            "updatedAt": .string(time(batch.updatedAt)),
        ])
    }

    /// `{"batches": [...], "next": cursor|null}`.
    public static func batches(_ page: Page<BatchRecord>) -> JSONValue {
        .object(["batches": .array(page.rows.map { batch($0) }), "next": page.next.map(JSONValue.string) ?? .null])
    }

    public static func message(_ message: StoredMessage) -> JSONValue {
        .object([
            "messageId": .string(message.messageID),
            "format": .string(message.format.rawValue),
            "body": .string(message.body),
            "correlationId": optional(message.correlationID),
            "errorText": optional(message.errorText),
            "receivedAt": .string(time(message.receivedAt)),
            "receiveCount": .number(String(message.receiveCount)),
            "sentAt": optional(message.sentAt),
            "quarantineReason": optional(message.quarantineReason),
        ])
    }

    /// `{"changes": [...], "next": cursor|null}`.
    public static func list(_ page: Page<ChangeRecord>) -> JSONValue {
        .object(["changes": .array(page.rows.map(change)), "next": optional(page.next)])
    }

    /// One change plus its field diff and `"actions"`.
    public static func show(_ record: ChangeRecord, actions: [ActionRecord]) -> JSONValue {
        guard case .object(var fields) = change(record) else { return change(record) }
        fields["changedFields"] = .array(
            SyncTransform.changedFields(old: record.oldImage, new: record.newImage).map(JSONValue.string))
        fields["actions"] = .array(actions.map(action))
        return .object(fields)
    }

    /// `{"documentId", "changes": [...], "actions": [...], "truncated": bool}`: one artist's history.
    public static func history(documentID: String, changes: [ChangeRecord], actions: [ActionRecord], truncated: Bool)
        -> JSONValue
    {
        .object([
            "documentId": .string(documentID),
            "changes": .array(changes.map(change)),
            "actions": .array(actions.map(action)),
            "truncated": .bool(truncated),
        ])
    }

    /// Freshness of the changes applied last: `{"changes": n, "p50Seconds", "p99Seconds", "maxSeconds"}`
    /// (sent → applied), or null when none carries a sending time.
    /// - Parameter lags: ``AuditLog/recentAppliedLags(limit:)``.
    public static func lagSummary(_ lags: [AppliedLag]) -> JSONValue {
        guard !lags.isEmpty else { return .null }
        let sorted = lags.map(\.seconds).sorted()
        func percentile(_ p: Double) -> JSONValue {
            let index = min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)
            return .number(String(format: "%.3f", sorted[max(0, index)]))
        }
        return .object([
            "changes": .number(String(sorted.count)), "p50Seconds": percentile(0.5), "p99Seconds": percentile(0.99),
            "maxSeconds": percentile(1),
        ])
    }

    /// `{"changes": {status: count, …}, "messages": {"total", "quarantined"}, "oldestPendingAgeSeconds", "lastRunAt"}`.
    /// With `recentLags`, also `"recentChangeLag"` (``lagSummary(_:)``).
    public static func stats(_ stats: AuditStats, recentLags: [AppliedLag]? = nil, now: Date = Date()) -> JSONValue {
        var counts: [String: JSONValue] = [:]
        for status in ChangeStatus.allCases { counts[status.rawValue] = .number(String(stats.changes[status] ?? 0)) }
        var fields: [String: JSONValue] = [
            "changes": .object(counts),
            "messages": .object([
                "total": .number(String(stats.messagesTotal)),
                "quarantined": .number(String(stats.messagesQuarantined)),
            ]),
            "oldestPendingAgeSeconds": stats.oldestPendingCreatedAt.map {
                .number(String(max(0, Int(now.timeIntervalSince($0)))))
            } ?? .null,
            "lastRunAt": optional(stats.lastRunAt),
            "batches": .object(
                Dictionary(
                    uniqueKeysWithValues: BatchStatus.allCases.map {
                        ($0.rawValue, JSONValue.number(String(stats.batches[$0] ?? 0)))
                    })),
            "oldestWaitingBatchAgeSeconds": stats.oldestWaitingBatchSince.map {
                .number(String(max(0, Int(now.timeIntervalSince($0)))))
            } ?? .null,
            "runLease": stats.runLease.map { lease in
                .object([
                    "holder": .string(lease.holder),
                    "epoch": .number(String(lease.epoch)),
                    "since": .string(time(lease.acquiredAt)),
                    "renewedAt": optional(lease.renewedAt),
                    "held": .bool(lease.isHeld(at: now)),
                ])
            } ?? .null,
            "lastReconcile": stats.lastReconcile.map(reconcileRun) ?? .null,
            "mostUrgentBatchRetentionLeftSeconds": stats.mostUrgentBatchLastRecordAt.map {
                .number(String(Int(DLQIngestor.retentionLeft(lastRecordAt: $0, now: now))))
            } ?? .null,
            "streamsUnavailable": .array(
                stats.streamProblems.map { problem in
                    .object([
                        "streamArn": .string(problem.streamARN), "reason": .string(problem.reason),
                        "since": .string(time(problem.since)), "checkedAt": .string(time(problem.checkedAt)),
                    ])
                }),
            "replayPaused": stats.replayPause.map { pause in
                .object([
                    "reason": .string(pause.reason), "since": .string(time(pause.since)),
                    "checkedAt": .string(time(pause.checkedAt)),
                ])
            } ?? .null,
        ]
        if let recentLags { fields["recentChangeLag"] = lagSummary(recentLags) }
        return .object(fields)
    }

    /// A reconcile run: `{"run", "mode", "status", "actor", "reason", "startedAt", "finishedAt", "lastError",
    /// "scanned", "indexed", "missing", "stale", "orphaned", "differs", "repaired", "conflicts", "failed",
    /// "samples": {kind: [ids]}}` (every kind present, zeros and empty lists included).
    public static func reconcileRun(_ run: ReconcileRun) -> JSONValue {
        var members: [String: JSONValue] = [
            "run": .number(String(run.id)), "mode": .string(run.mode.rawValue), "status": .string(run.status.rawValue),
            "actor": .string(run.actor), "reason": optional(run.reason), "startedAt": .string(time(run.startedAt)),
            "finishedAt": optional(run.finishedAt), "lastError": optional(run.lastError),
            "scanned": .number(String(run.scanned)), "indexed": .number(String(run.indexed)),
            "repaired": .number(String(run.repaired)), "conflicts": .number(String(run.conflicts)),
            "failed": .number(String(run.failed)),
        ]
        var samples: [String: JSONValue] = [:]
        for kind in DriftKind.allCases {
            members[kind.rawValue] = .number(String(run.found[kind.rawValue] ?? 0))
            samples[kind.rawValue] = .array((run.samples[kind.rawValue] ?? []).map(JSONValue.string))
        }
        members["samples"] = .object(samples)
        return .object(members)
    }

    /// A repair a dry run would make, one line of `reconcile --repair --dry-run --json`:
    /// `{"repair": {"documentId", "kind", "operation": "index"|"delete", "condition": {"ifSeqNo",
    /// "ifPrimaryTerm"}|{"createOnly": true}|null, "document": {what would be written}|null}}`.
    public static func plannedRepair(_ finding: ReconcileFinding) -> JSONValue {
        var members: [String: JSONValue] = [
            "documentId": .string(finding.documentID), "kind": optional(finding.kind?.rawValue),
        ]
        let condition: WriteCondition?
        switch finding.write?.operation {
        case .index(_, let document, let written)?:
            (members["operation"], members["document"], condition) = (.string("index"), document, written)
        case .delete(_, let written)?:
            (members["operation"], members["document"], condition) = (.string("delete"), .null, written)
        case nil:
            (members["operation"], members["document"], condition) = (.null, .null, nil)
        }
        switch condition {
        case .ifSeqNo(let seqNo, let primaryTerm)?:
            members["condition"] = .object([
                "ifSeqNo": .number(String(seqNo)), "ifPrimaryTerm": .number(String(primaryTerm)),
            ])
        case .createOnly?: members["condition"] = .object(["createOnly": .bool(true)])
        case nil: members["condition"] = .null
        }
        return .object(["repair": .object(members)])
    }

    /// `resolve-expired`: `{"reconcile": {the run, as reconcile --json}, "resolvedBatches": [ids]}`.
    public static func resolveExpired(_ report: ReconcileReport, resolvedBatches: [Int64]) -> JSONValue {
        .object([
            "reconcile": report.json, "resolvedBatches": .array(resolvedBatches.map { .number(String($0)) }),
        ])
    }

    /// A replay pass: `{"writes", "applied", "superseded", "failed", "parked", "deferred", "conflict",
    /// "unavailable", "recovered", "pausedReason"}`.
    public static func replaySummary(_ summary: ReplaySummary) -> JSONValue {
        .object([
            "writes": .number(String(summary.writes)),
            "applied": .number(String(summary.applied)),
            "superseded": .number(String(summary.superseded)),
            "failed": .number(String(summary.failed)),
            "parked": .number(String(summary.parked)),
            "deferred": .number(String(summary.deferred)),
            "conflict": .number(String(summary.conflict)),
            "unavailable": .number(String(summary.unavailable)),
            "recovered": .number(String(summary.recovered)),
            "pausedReason": summary.pausedReason.map(JSONValue.string) ?? .null,
        ])
    }

    /// `{"results": [{"id", "outcome", "status", "message"}]}`.
    public static func results(_ results: [OperationResult]) -> JSONValue {
        .object(["results": .array(results.map(result))])
    }

    /// Operator results, and what a filter without statuses left out (when it left any):
    /// `{"results": [...], "leftOut": {"count": n, "statuses": {"skipped": n, ...}, "message": "..."}}`.
    public static func results(_ results: [OperationResult], leftOut: LeftOutChanges, command: OperatorActions.Command)
        -> JSONValue
    {
        guard let message = leftOut.summary(for: command) else { return Self.results(results) }
        return .object([
            "results": .array(results.map(result)),
            "leftOut": .object([
                "count": .number(String(leftOut.count)),
                "statuses": .object(
                    leftOut.byStatus.reduce(into: [String: JSONValue]()) { $0[$1.key.rawValue] = .number(String($1.value)) }),
                "message": .string(message),
            ]),
        ])
    }

    /// One operator result.
    public static func result(_ result: OperationResult) -> JSONValue {
        .object([
            "id": .number(String(result.id)),
            "outcome": .string(result.outcome.rawValue),
            "status": result.status.map { .string($0.rawValue) } ?? .null,
            "message": .string(result.message),
        ])
    }

    /// One error group: `{"group", "fingerprint", "error", "count", "documents", "firstSeen", "lastSeen",
    /// "statuses"}` (`error` is one full example text of the group).
    public static func errorGroup(_ group: ErrorGroup) -> JSONValue {
        var statuses: [String: JSONValue] = [:]
        for (status, count) in group.statuses { statuses[status.rawValue] = .number(String(count)) }
        return .object([
            "group": .string(group.id),
            "fingerprint": .string(group.fingerprint),
            "error": .string(group.error),
            "count": .number(String(group.count)),
            "documents": .number(String(group.documents)),
            "firstSeen": .string(time(group.firstSeen)),
            "lastSeen": .string(time(group.lastSeen)),
            "statuses": .object(statuses),
        ])
    }
}

/// How a document stood at a moment, rebuilt from the audit trail.
public enum DocumentTimeline {
    /// The document as the reprocessor last wrote it at or before `moment`.
    ///
    /// Every write records what it wrote (`{"written": document|null}` in the
    /// action's response); the last such action at or before `moment` gives the state.
    /// - Parameters:
    ///   - actions: The document's actions, in order.
    ///   - moment: The time asked about.
    /// - Returns: `nil` when nothing was written by then; `.some(.null)` when the document was deleted.
    public static func document(at moment: Date, actions: [ActionRecord]) -> (action: ActionRecord, document: JSONValue)? {
        var last: (ActionRecord, JSONValue)?
        for action in actions where action.at <= moment {
            guard let response = action.response, let parsed = try? JSONValue(parsing: response),
                let written = parsed["written"]
            else { continue }
            last = (action, written)
        }
        return last
    }
}
