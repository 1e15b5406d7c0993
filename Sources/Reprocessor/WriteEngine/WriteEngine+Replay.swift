import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel

extension WriteEngine {
    /// Applies every due change (pending, or failed and past its backoff), a document at a time
    /// coalesced into one write, after recording any write an earlier pass left unrecorded.
    /// - Parameters:
    ///   - progress: Called with the running totals after each batch.
    ///   - shouldStop: Consulted before each batch; once it returns true the pass ends after the
    ///     batch in flight, and the changes not reached stay due for the next pass.
    /// - Returns: What was done; ``ReplaySummary/pausedReason`` when search as a whole failed.
    /// - Throws: Audit-log errors; search and AWS failures are outcomes instead.
    public func replayDue(
        progress: (@Sendable (ReplaySummary) -> Void)? = nil, shouldStop: (@Sendable () -> Bool)? = nil
    ) async throws -> ReplaySummary {
        let summary = try await replayPass(progress: progress, shouldStop: shouldStop)
        // stats says whether replay is paused, and why, until a pass gets through.
        try await auditLog.recordReplayPause(summary.pausedReason, at: clock())
        return summary
    }

    /// ``replayDue(progress:shouldStop:)`` without recording the pause.
    func replayPass(
        progress: (@Sendable (ReplaySummary) -> Void)?, shouldStop: (@Sendable () -> Bool)?
    ) async throws -> ReplaySummary {
        var summary = ReplaySummary()
        do {
            summary.recovered = try await recoverInterruptedWrites(now: clock())
        } catch let error as OpenSearchError {
            ReprocessorMetrics.recordFailure(error)
            summary.pausedReason = "search is unavailable: \(error)"
            return summary
        }
        var cursor: String?
        var carried: [ChangeRecord] = []
        // Documents waiting for a round: rounds are filled across pages of due changes.
        var waiting: [DocumentWork] = []
        // Each round says when it has read search and the audit log; the next round starts reading
        // only then, and reads the table after it, so the slowest peer (the table) is read back to
        // back while earlier rounds write and record.
        let (gathered, gatheredSignal) = AsyncStream<Void>.makeStream()
        var roundsGathered = gathered.makeAsyncIterator()
        var previous: RoundHandoff?
        let sizing = RoundSizing(full: batchDocuments)
        var started = 0
        return try await withThrowingTaskGroup(of: Execution.self) { running in
            var inFlight = 0
            var reading = false
            // Takes in the next round to finish; false once the pass must pause.
            func finishRound() async throws -> Bool {
                guard let execution = try await running.next() else { return true }
                inFlight -= 1
                for result in execution.results.values { summary.count(result.outcome) }
                summary.writes += execution.writes
                progress?(summary)
                if let outage = execution.outage, summary.pausedReason == nil {
                    summary.pausedReason = outage
                    logger.warning("replay paused: \(outage)")
                }
                return summary.pausedReason == nil
            }
            pages: repeat {
                if shouldStop?() == true { break }
                let page = try await auditLog.dueChanges(now: clock(), after: cursor, limit: pageSize)
                cursor = page.next
                var rows = carried + page.rows
                carried = []
                // A document's changes may continue on the next page: decide them together.
                if cursor != nil, let last = rows.last?.documentID, let split = rows.lastIndex(where: { $0.documentID != last }) {
                    carried = Array(rows[(split + 1)...])
                    rows = Array(rows[...split])
                }
                let homeless = rows.filter { $0.documentID == nil }
                if !homeless.isEmpty {
                    for result in try await failWithoutWriting(homeless, "change has no artist document to apply to") {
                        summary.count(result.outcome)
                    }
                }
                waiting += DocumentWork.replays(of: rows)
                let lastPage = cursor == nil && carried.isEmpty
                while let size = sizing.next(started: started, waiting: waiting.count, lastPage: lastPage) {
                    if shouldStop?() == true { break pages }
                    // Rounds overlap: while one writes to search, the next reads the table and the
                    // audit log. Their documents are distinct, so their order does not matter.
                    if reading {
                        _ = await roundsGathered.next()
                        reading = false
                    }
                    if inFlight == roundsInFlight, try await !finishRound() { break pages }
                    let batch = Array(waiting.prefix(size))
                    waiting.removeFirst(batch.count)
                    let handoff = RoundHandoff(after: previous) { gatheredSignal.yield() }
                    previous = handoff
                    running.addTask {
                        defer { handoff.finish() }
                        let started = ContinuousClock.now
                        let execution = try await execute(
                            batch, context: .init(actor: "system", now: clock()), dryRun: false, handoff: handoff,
                            passingHeld: true)
                        ReprocessorMetrics.record(Array(execution.results.values), duration: ContinuousClock.now - started)
                        return execution
                    }
                    started += 1
                    inFlight += 1
                    reading = true
                }
            } while cursor != nil || !carried.isEmpty
            while inFlight > 0 { _ = try await finishRound() }
            return summary
        }
    }

    /// Records, as failed tries, changes that cannot be written at all.
    func failWithoutWriting(_ changes: [ChangeRecord], _ message: String) async throws -> [OperationResult] {
        let context = WritePlanner.Context(actor: "system", now: clock())
        let decisions = changes.map { planner.failure($0, message, context) }
        var commit = EngineCommit()
        commit.settlements = decisions.compactMap { $0.transition.map { Settlement($0) } }
        let committed = try await auditLog.commit(commit, at: clock(), fence: fence)
        var results: [OperationResult] = []
        for (decision, result) in zip(decisions, committed.settlements) {
            results.append(try await self.result(decision, result))
        }
        return results
    }
}
