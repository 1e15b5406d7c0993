import AWSClients
import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel
import SyncTransform

/// Reads the table's current item with a consistent `GetItem`.
public struct TableReader: Sendable {
    let client: DynamoDBClient
    /// The table.
    public let tableName: String

    /// Creates a reader.
    /// - Parameters:
    ///   - client: The DynamoDB client.
    ///   - tableName: The table.
    public init(client: DynamoDBClient, tableName: String) {
        self.client = client
        self.tableName = tableName
    }

    /// The item with `keys` as it is now, or `nil` when it is gone.
    /// - Throws: `AWSError`.
    public func currentItem(keys: Item) async throws -> Item? {
        try await client.getItem(tableName: tableName, key: keys, consistentRead: true)
    }
}

/// What happened to one change when it was applied (or refused).
public enum ApplyOutcome: String, Sendable, Hashable, Codable {
    /// In search now (written, or already there).
    case applied
    /// A newer state was already in search or the table; nothing written.
    case superseded
    /// The write failed; it will be tried again after a backoff.
    case failed
    /// The write failed `maxAttempts` times; an operator must act.
    case parked
    /// Not tried: an earlier change of the same document has not been applied yet.
    case deferred
}

/// The result of applying one change.
public struct ApplyResult: Sendable, Hashable {
    /// The change.
    public var changeID: Int64
    /// What happened.
    public var outcome: ApplyOutcome
    /// The change's status afterwards.
    public var status: ChangeStatus
    /// One line saying why.
    public var message: String
}

/// What a replay pass did.
public struct ReplaySummary: Sendable, Hashable, Codable {
    /// Changes now in search.
    public var applied = 0
    /// Changes overtaken by newer state.
    public var superseded = 0
    /// Changes that failed and will be retried.
    public var failed = 0
    /// Changes parked for an operator.
    public var parked = 0
    /// Changes held back behind an earlier unapplied change of the same document.
    public var deferred = 0

    /// An empty summary.
    public init() {}

    mutating func count(_ outcome: ApplyOutcome) {
        switch outcome {
        case .applied: applied += 1
        case .superseded: superseded += 1
        case .failed: failed += 1
        case .parked: parked += 1
        case .deferred: deferred += 1
        }
    }
}

/// Replays changes into OpenSearch without ever going back in time (DESIGN §5).
///
/// Changes to one document are applied strictly in sequence order; different
/// documents go together through one `_mget` and one `_bulk`, each write
/// conditional on the `_seq_no`/`_primary_term` just read. A 409 means
/// someone wrote in between: the document is read again and the change decided
/// again, a bounded number of times.
public struct ChangeReplayer: Sendable {
    let auditLog: AuditLog
    let openSearch: OpenSearchClient
    let table: TableReader
    let transform: SyncTransform
    let maxAttempts: Int
    let backoff: RetryPolicy
    let logger: Logger
    /// Re-reads after a 409 before the change is failed.
    let conflictRounds = 3
    /// Due changes read from the audit log at a time.
    let pageSize = 1000
    /// Documents per `_mget` + `_bulk` round.
    let batchDocuments = 500

    /// Applies every due change (pending, or failed and past its backoff).
    /// - Parameters:
    ///   - progress: Called with the running totals after each batch.
    ///   - shouldStop: Consulted before each batch; once it returns true the pass ends after the
    ///     batch in flight, and the changes not reached stay due for the next pass.
    /// - Returns: What was done.
    /// - Throws: Audit-log errors; OpenSearch and AWS failures are recorded on the changes instead.
    public func replayDue(
        progress: (@Sendable (ReplaySummary) -> Void)? = nil, shouldStop: (@Sendable () -> Bool)? = nil
    ) async throws -> ReplaySummary {
        var summary = ReplaySummary()
        var cursor: String?
        repeat {
            if shouldStop?() == true { return summary }
            let page = try await auditLog.dueChanges(now: Date(), after: cursor, limit: pageSize)
            cursor = page.next
            var groups: [[ChangeRecord]] = []
            for change in page.rows {
                if let last = groups.last?.last, last.documentID == change.documentID {
                    groups[groups.count - 1].append(change)
                } else {
                    groups.append([change])
                }
            }
            var ready: [[ChangeRecord]] = []
            for group in groups {
                if let blocker = try await earlierUnapplied(before: group[0]) {
                    summary.deferred += group.count
                    logger.info(
                        "waiting for change \(blocker) of the same document",
                        metadata: ["changeId": "\(group[0].id)", "documentId": "\(group[0].documentID ?? "")"])
                } else {
                    ready.append(group)
                }
            }
            while !ready.isEmpty {
                let heads = ready.map { $0[0] }
                var outcomes: [Int64: ApplyOutcome] = [:]
                for start in stride(from: 0, to: heads.count, by: batchDocuments) {
                    if shouldStop?() == true { return summary }
                    let batch = Array(heads[start..<min(start + batchDocuments, heads.count)])
                    for result in try await apply(batch, actor: "system") {
                        outcomes[result.changeID] = result.outcome
                        summary.count(result.outcome)
                    }
                    progress?(summary)
                }
                ready = ready.compactMap { group in
                    let outcome = outcomes[group[0].id]
                    guard outcome == .applied || outcome == .superseded else {
                        summary.deferred += group.count - 1
                        return nil
                    }
                    return group.count > 1 ? Array(group.dropFirst()) : nil
                }
            }
        } while cursor != nil
        return summary
    }

    /// Checks that OpenSearch answers (`GET /`), for readiness.
    /// - Throws: `OpenSearchError` when it cannot be reached or refuses.
    public func checkSearch() async throws {
        try await openSearch.ping()
    }

    /// An earlier change of the same document that failed or is parked, which `change` must wait for.
    func earlierUnapplied(before change: ChangeRecord) async throws -> Int64? {
        guard let documentID = change.documentID else { return nil }
        let waiting = try await auditLog.listChanges(
            ChangeFilter(statuses: [.failed, .parked], documentID: documentID), after: nil, limit: 50)
        return waiting.rows.first { $0.id != change.id && $0.sequenceNumber < change.sequenceNumber }?.id
    }

    /// Applies changes of different documents together and records each outcome.
    ///
    /// - Parameters:
    ///   - changes: At most one change per document.
    ///   - actor: Who asked (`system` for scheduled work).
    ///   - reason: The operator's reason, recorded with the outcome.
    /// - Returns: One result per change, in the same order.
    /// - Throws: Audit-log errors only.
    public func apply(_ changes: [ChangeRecord], actor: String, reason: String? = nil) async throws -> [ApplyResult] {
        let started = ContinuousClock.now
        let ordered = try await applyRounds(changes, actor: actor, reason: reason)
        ReprocessorMetrics.record(ordered, duration: ContinuousClock.now - started)
        return ordered
    }

    /// ``apply(_:actor:reason:)`` without the metrics.
    ///
    /// Outcomes are recorded a batch at a time (one audit-log transaction for the settled
    /// changes of a round, one for the results of its `_bulk`), not one transaction per change.
    func applyRounds(_ changes: [ChangeRecord], actor: String, reason: String?) async throws -> [ApplyResult] {
        var results: [Int64: ApplyResult] = [:]
        func record(_ moves: [Move]) async throws {
            for result in try await self.record(moves) { results[result.changeID] = result }
        }
        var pending = changes
        var round = 0
        while !pending.isEmpty && round < conflictRounds {
            round += 1
            let live: [String: OpenSearchDocument]
            do {
                live = try await openSearch.multiGet(index: transform.index, ids: pending.compactMap(\.documentID))
            } catch {
                ReprocessorMetrics.recordFailure(error)
                try await record(pending.map { failMove($0, "reading search failed: \(error)", actor: actor) })
                pending = []
                break
            }
            var moves: [Move] = []
            var writes: [(change: ChangeRecord, operation: BulkOperation, outcome: String, written: JSONValue?)] = []
            for change in pending {
                let plan: Plan
                do {
                    plan = try await decide(change, live: change.documentID.flatMap { live[$0] })
                } catch {
                    ReprocessorMetrics.recordFailure(error)
                    plan = .fail("\(error)")
                }
                switch plan {
                case .settle(let status, let outcome):
                    moves.append(settleMove(change, as: status, outcome: outcome, actor: actor, reason: reason))
                case .fail(let message):
                    moves.append(failMove(change, message, actor: actor))
                case .write(let operation, let outcome, let written):
                    writes.append((change, operation, outcome, written))
                }
            }
            try await record(moves)
            pending = []
            guard !writes.isEmpty else { break }
            let items: [BulkItemResult]
            do {
                items = try await openSearch.bulk(index: transform.index, operations: writes.map(\.operation))
            } catch {
                ReprocessorMetrics.recordFailure(error)
                try await record(writes.map { failMove($0.change, "bulk write failed: \(error)", actor: actor) })
                break
            }
            moves = []
            for (write, item) in zip(writes, items) {
                if item.isSuccess {
                    let response = JSONValue.object([
                        "written": write.written ?? .null,
                        "status": .number(String(item.status)),
                        "result": item.result.map(JSONValue.string) ?? .null,
                        "seqNo": item.seqNo.map { .number(String($0)) } ?? .null,
                    ])
                    moves.append(
                        settleMove(
                            write.change, as: .applied, outcome: write.outcome, actor: actor, reason: reason,
                            response: response.serialized))
                } else if item.status == 409 {
                    pending.append(write.change)
                } else {
                    let message =
                        "OpenSearch \(item.status) \(item.errorType ?? "error"): \(item.errorReason ?? "no reason given")"
                    moves.append(failMove(write.change, message, actor: actor))
                }
            }
            try await record(moves)
        }
        try await record(
            pending.map { failMove($0, "write conflict persisted after \(conflictRounds) re-reads", actor: actor) })
        return changes.compactMap { results[$0.id] }
    }

    /// What to do with one change, given the live document.
    enum Plan {
        case settle(ChangeStatus, outcome: String)
        case write(BulkOperation, outcome: String, written: JSONValue?)
        case fail(String)
    }

    /// Decides one change against the audit log, the live document and, for a missing document, the table.
    func decide(_ change: ChangeRecord, live: OpenSearchDocument?) async throws -> Plan {
        guard let documentID = change.documentID, let eventName = change.eventName else {
            return .fail("change has no artist document to apply to")
        }
        let sequence = change.sequenceNumber
        if let latest = try await auditLog.latestAppliedSequence(documentID: documentID), latest > sequence {
            return .settle(.superseded, outcome: "audit log already applied newer sequence \(latest)")
        }
        let liveSequence = live.flatMap { SyncTransform.syncedSequenceNumber(in: $0.source) }
        if let liveSequence, liveSequence > sequence {
            return .settle(.superseded, outcome: "search already holds newer sequence \(liveSequence)")
        }
        if let liveSequence, liveSequence == sequence, Self.liveEventName(live) == eventName.rawValue {
            return .settle(.applied, outcome: "already in search; nothing written")
        }
        let condition = live.map { WriteCondition.ifSeqNo($0.seqNo, primaryTerm: $0.primaryTerm) }
        switch eventName {
        case .remove:
            guard live != nil else { return .settle(.applied, outcome: "document already absent; nothing written") }
            return .write(.delete(id: documentID, condition: condition), outcome: "deleted", written: nil)
        case .insert, .modify:
            guard let newImage = change.newImage else { return .fail("\(eventName.rawValue) change has no new image") }
            let stamp = SyncStamp(
                sequenceNumber: sequence, eventName: eventName,
                approximateCreationTime: change.approximateCreationTime, appliedAt: Date())
            if live != nil {
                let document = transform.document(for: newImage, stamp: stamp)
                return .write(
                    .index(id: documentID, document: document, condition: condition), outcome: "indexed",
                    written: document)
            }
            // An absent document proves nothing (OpenSearch forgets deletes after
            // index.gc_deletes): ask the table before re-creating it.
            guard let keys = change.keys else { return .fail("change has no keys to check against the table") }
            guard let item = try await table.currentItem(keys: keys) else {
                return .settle(.superseded, outcome: "item no longer in the table: a later REMOVE won")
            }
            if item == newImage {
                let document = transform.document(for: newImage, stamp: stamp)
                return .write(
                    .index(id: documentID, document: document, condition: .createOnly), outcome: "indexed (created)",
                    written: document)
            }
            let document = transform.document(for: item, stamp: stamp)
            return .write(
                .index(id: documentID, document: document, condition: .createOnly),
                outcome: "indexed the table's current item, which is newer than the change", written: document)
        }
    }

    /// `sync.eventName` of a live document.
    static func liveEventName(_ live: OpenSearchDocument?) -> String? {
        live?.source["sync"]?["eventName"]?.stringValue
    }

    /// An outcome to record: the audit-log move, and what to report and log once it is made.
    struct Move {
        let change: ChangeRecord
        let request: TransitionRequest
        let result: ApplyResult
        let logLevel: Logger.Level
        let logMessage: String
    }

    /// The move that records a final outcome needing no (more) writing.
    func settleMove(
        _ change: ChangeRecord, as status: ChangeStatus, outcome: String, actor: String, reason: String?,
        response: String? = nil
    ) -> Move {
        let action: ActionKind = status == .superseded ? .superseded : .applied
        return Move(
            change: change,
            request: TransitionRequest(
                change.id, to: status, expecting: [change.status],
                update: ChangeUpdate(nextAttemptAt: .some(nil), lastError: .some(nil)),
                action: ActionEntry(action: action, actor: actor, reason: reason, outcome: outcome, response: response)),
            result: ApplyResult(
                changeID: change.id, outcome: status == .superseded ? .superseded : .applied, status: status,
                message: outcome),
            logLevel: .info, logMessage: "change \(status.rawValue): \(outcome)")
    }

    /// The move that records a failed try: backoff, or parked after `maxAttempts`.
    func failMove(_ change: ChangeRecord, _ message: String, actor: String) -> Move {
        let attempts = change.attempts + 1
        let parked = attempts >= maxAttempts
        let status: ChangeStatus = parked ? .parked : .failed
        let nextAttempt: Date? = parked ? nil : Date().addingTimeInterval(Self.seconds(backoff.delay(afterAttempt: attempts - 1)))
        return Move(
            change: change,
            request: TransitionRequest(
                change.id, to: status, expecting: [change.status],
                update: ChangeUpdate(attempts: attempts, nextAttemptAt: .some(nextAttempt), lastError: .some(message)),
                action: ActionEntry(
                    action: parked ? .parked : .failed, actor: actor,
                    outcome: parked ? "parked after \(attempts) attempts: \(message)" : message)),
            result: ApplyResult(changeID: change.id, outcome: parked ? .parked : .failed, status: status, message: message),
            logLevel: .warning, logMessage: "change \(status.rawValue) (attempt \(attempts) of \(maxAttempts)): \(message)")
    }

    /// Makes `moves` in one audit-log transaction; a change another process moved first is
    /// reported as such instead.
    /// - Returns: One result per move, in order.
    func record(_ moves: [Move]) async throws -> [ApplyResult] {
        guard !moves.isEmpty else { return [] }
        let outcomes = try await auditLog.transitions(moves.map(\.request), at: Date())
        var results: [ApplyResult] = []
        for (move, outcome) in zip(moves, outcomes) {
            switch outcome {
            case .success:
                logger.log(level: move.logLevel, "\(move.logMessage)", metadata: metadata(move.change))
                results.append(move.result)
            case .failure(let refusal):
                guard refusal.code == .illegalTransition else { throw refusal }
                results.append(try await changedElsewhere(move.change))
            }
        }
        return results
    }

    /// The result when another process moved the change first.
    func changedElsewhere(_ change: ChangeRecord) async throws -> ApplyResult {
        let current = try await auditLog.change(id: change.id)
        let status = current?.status ?? change.status
        let outcome: ApplyOutcome = status == .applied ? .applied : status == .superseded ? .superseded : .deferred
        return ApplyResult(
            changeID: change.id, outcome: outcome, status: status,
            message: "changed by another process while this one worked (now \(status.rawValue))")
    }

    func metadata(_ change: ChangeRecord) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "changeId": "\(change.id)", "documentId": "\(change.documentID ?? "")",
            "sequenceNumber": "\(change.sequenceNumber)",
        ]
        if let correlationID = change.correlationID { metadata["correlationId"] = "\(correlationID)" }
        return metadata
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
