import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel

extension WriteEngine {
    /// What ``execute(_:context:dryRun:handoff:passingHeld:beforeWriting:)`` did.
    struct Execution {
        /// Per change looked at.
        var results: [Int64: OperationResult] = [:]
        /// Per reconcile repair looked at, by document.
        var repairs: [String: RepairResult] = [:]
        /// Writes that landed.
        var writes = 0
        /// Set when search as a whole failed; the changes not settled stay due.
        var outage: String?
        /// The error behind ``outage`` when one caused it (a request that failed whole, a read
        /// that failed), for a caller that stops on it (reconcile ends its run failed).
        var failure: (any Error)?

        /// Records that search as a whole failed, keeping the first cause.
        mutating func stop(_ outage: String, cause: (any Error)? = nil) {
            self.outage = self.outage ?? outage
            failure = failure ?? cause
        }
    }

    /// What became of one reconcile repair.
    enum RepairResult: Sendable, Hashable {
        /// Written and recorded here (its run counted it).
        case repaired
        /// Written, and recorded by another process that found the write (which counted it).
        case repairedElsewhere
        /// Search agreed with the table when the repair read them: nothing to write.
        case inStep
        /// Search changed under the document (409), or another worker holds it: nothing written.
        case conflict
        /// Search refused the write for the document's own reason, for now, or as a whole.
        case failed
        /// Search or the table could not be read or written: whether it landed may be unknown
        /// (its intent then stays open for recovery).
        case unavailable
    }

    /// Decides and carries out `works` (at most one per document), in rounds.
    /// - Parameter handoff: How the first round hands over to the next round of a replay pass
    ///   (once it has read search and the audit log; its table read after the previous round's).
    /// - Parameter passingHeld: When this engine claims documents (a fleet), whether a document
    ///   another worker holds is passed by without a result, as a replay pass does (it stays due
    ///   for its holder); otherwise its changes get a `conflict` result, for the operator to try again.
    /// - Parameter beforeWriting: Awaited with the number of writes a round is about to make,
    ///   before their intents are recorded (reconcile paces its repairs with it).
    func execute(
        _ works: [DocumentWork], context: WritePlanner.Context, dryRun: Bool, handoff: RoundHandoff? = nil,
        passingHeld: Bool = false, beforeWriting: (@Sendable (Int) async -> Void)? = nil
    ) async throws -> Execution {
        guard !dryRun, claiming != nil else {
            return try await runRounds(
                works, context: context, dryRun: dryRun, handoff: handoff, claims: nil,
                beforeWriting: beforeWriting)
        }
        return try await withClaims(works.map(\.documentID)) { claims in
            var execution = Execution()
            var mine: [DocumentWork] = []
            for work in works {
                if claims?.holds(work.documentID) == true {
                    mine.append(work)
                } else if !passingHeld {
                    // A replay pass leaves the document to the worker holding it; an operator is told.
                    leaveHeld(work, in: &execution)
                }
            }
            // What was due when the page was read may have been settled since by the worker that
            // held the document then: replay decides from what is due now.
            let replayed = mine.compactMap { work -> String? in
                if case .replay = work { return work.documentID }
                return nil
            }
            if !replayed.isEmpty {
                let due = try await auditLog.dueChanges(documentIDs: replayed, now: context.now)
                mine = mine.filter { if case .replay = $0 { false } else { true } } + DocumentWork.replays(of: due)
            }
            let done = try await runRounds(
                mine, context: context, dryRun: false, handoff: handoff, claims: claims,
                beforeWriting: beforeWriting)
            execution.results.merge(done.results) { _, new in new }
            execution.repairs.merge(done.repairs) { _, new in new }
            execution.writes = done.writes
            execution.outage = done.outage
            execution.failure = done.failure
            return execution
        }
    }

    /// The result of work on a document another worker holds: nothing written.
    private func leaveHeld(_ work: DocumentWork, in execution: inout Execution) {
        if work.repairOrder != nil {
            execution.repairs[work.documentID] = .conflict
            logger.info(
                "reconcile: another worker holds the document; left to it", metadata: ["documentId": "\(work.documentID)"])
        }
        for change in work.changes {
            execution.results[change.id] = OperationResult(
                id: change.id, outcome: .conflict, status: change.status,
                message:
                    "another worker is writing document \(work.documentID) now (a replay round or another request); nothing written, try again"
            )
        }
    }

    /// ``execute(_:context:dryRun:handoff:passingHeld:beforeWriting:)`` on documents this
    /// worker holds (`claims`, nil when it works alone under the run lease): rounds of
    /// ``round(_:number:context:dryRun:handoff:claims:beforeWriting:into:)`` until every
    /// document is settled, search fails, or the rounds are spent.
    private func runRounds(
        _ works: [DocumentWork], context: WritePlanner.Context, dryRun: Bool, handoff: RoundHandoff?, claims: DocumentClaims?,
        beforeWriting: (@Sendable (Int) async -> Void)?
    ) async throws -> Execution {
        var execution = Execution()
        var pending = works
        var number = 0
        while !pending.isEmpty {
            number += 1
            guard number <= rounds else {
                for work in pending {
                    for change in work.changes where execution.results[change.id] == nil {
                        execution.results[change.id] = OperationResult(
                            id: change.id, outcome: .conflict, status: change.status,
                            message:
                                "search kept changing under this document (\(rounds) tries); nothing written, the change stays as it is"
                        )
                    }
                }
                break
            }
            if number > 1 { await sleep(.milliseconds(100 << number)) }
            pending = try await round(
                pending, number: number, context: context, dryRun: dryRun, handoff: handoff, claims: claims,
                beforeWriting: beforeWriting, into: &execution)
        }
        return execution
    }

    /// The works of `pending` none of whose changes another process moved since they were read
    /// (one query); a moved change is a `conflict`, its work not decided on stale facts. Read
    /// after search, so that a move made before the search read is seen: found by the simulation
    /// (seed 174: a retry's second round wrote a change an operator had just rolled back; seed
    /// 5210: a resync wrote over a rollback made while it read search). The unmoved changes of a
    /// dropped work stay as they are, for the next pass.
    func unmoved(_ pending: [DocumentWork], into execution: inout Execution) async throws -> [DocumentWork] {
        #if DEBUG
            if EngineMutation.on(.decideOnStaleChanges) { return pending }
        #endif
        let ids = pending.flatMap { $0.changes.map(\.id) }
        guard !ids.isEmpty else { return pending }
        let current = try await auditLog.changeStatuses(ids)
        var kept: [DocumentWork] = []
        for work in pending {
            var moved = false
            for change in work.changes where current[change.id] != change.status {
                moved = true
                let now = current[change.id]
                execution.results[change.id] = OperationResult(
                    id: change.id, outcome: now == nil ? .notFound : .conflict, status: now,
                    message:
                        "another process moved the change first (now \(now?.rawValue ?? "gone")); nothing written for it here"
                )
            }
            if !moved { kept.append(work) }
        }
        return kept
    }

    /// Where a round's time went, logged at debug level: each phase in milliseconds.
    struct RoundTimings: CustomStringConvertible {
        var searchRead = Duration.zero
        var auditRead = Duration.zero
        var tableRead = Duration.zero
        /// Waiting for the rounds before to finish reading the table.
        var tableTurn = Duration.zero
        var planning = Duration.zero
        var recordIntents = Duration.zero
        var write = Duration.zero
        var recordOutcomes = Duration.zero
        private var mark = ContinuousClock.now

        /// Adds the time since the previous lap to `phase`.
        mutating func lap(_ phase: WritableKeyPath<RoundTimings, Duration>) {
            let now = ContinuousClock.now
            self[keyPath: phase] += now - mark
            mark = now
        }

        var description: String {
            let phases: [(String, Duration)] = [
                ("search read", searchRead), ("audit read", auditRead), ("waiting for the table", tableTurn),
                ("table read", tableRead),
                ("planning", planning),
                ("recording intents", recordIntents), ("write", write), ("recording outcomes", recordOutcomes),
            ]
            return phases.map { name, duration in "\(name) \(Int((duration / .milliseconds(1)).rounded())) ms" }
                .joined(separator: ", ")
        }
    }
}
