import AuditLog
import Foundation
import Reprocessor
import StreamModel
import Synchronization

/// What `/readyz` checks: the audit database answers a read, the DLQ and OpenSearch answer,
/// and this process holds the run lease (a standby `serve` is alive but not ready). In a fleet
/// on a shared store every worker ingests and replays, so the lease is not needed to be ready.
///
/// Cheap whatever the request rate: no write transaction, and at most one real round of
/// checks per ``maxAge`` (concurrent requests share the round in flight; later ones get its
/// answer until it is ``maxAge`` old).
struct Readiness: Sendable {
    let auditLog: AuditLog
    let ingestor: DLQIngestor
    let engine: WriteEngine
    let control: LoopControl
    /// Whether any operator token is configured; without one `/v1` and `/ui` cannot be used,
    /// which the answer says (`"api"`) without failing readiness: ingest and replay still work.
    let apiEnabled: Bool
    /// Longest a single check may take before it counts as failed.
    let timeout: Duration = .seconds(5)
    /// How long one round's answer is reused.
    let maxAge: Duration = .seconds(1)
    /// The last round and the round in flight.
    let cache = ReadinessCache()

    /// The answer of the last round of checks, running a new round when it is older than ``maxAge``.
    /// - Returns: Whether all passed, and `{"status", "checks": {part: "ok" | error}, "failing": [part…],
    ///   "api"}` with parts `database`, `dlq`, `opensearch`, `lease` and `streams`; `api` is `enabled`, or
    ///   `disabled: …` when no operator token is configured.
    func check() async -> (ready: Bool, body: JSONValue) {
        await cache.answer(maxAge: maxAge) { await self.checkNow() }
    }

    /// Runs the checks together, now.
    func checkNow() async -> (ready: Bool, body: JSONValue) {
        let results = await withTaskGroup(of: (String, String?).self) { group in
            group.addTask { ("database", await self.run { try await self.checkDatabase() }) }
            group.addTask { ("dlq", await self.run { try await self.ingestor.checkQueue() }) }
            group.addTask { ("opensearch", await self.run { try await self.engine.checkSearch() }) }
            group.addTask { ("lease", self.checkLease()) }
            group.addTask { ("streams", await self.run { try await self.checkStreams() }) }
            var results: [String: String?] = [:]
            for await (part, failure) in group { results[part] = failure }
            return results
        }
        let failing = results.filter { $0.value != nil }.keys.sorted()
        let checks = results.mapValues { JSONValue.string($0 ?? "ok") }
        return (
            failing.isEmpty,
            .object([
                "status": .string(failing.isEmpty ? "ready" : "not ready"),
                "checks": .object(checks),
                "failing": .array(failing.map(JSONValue.string)),
                "api": .string(apiEnabled ? "enabled" : Self.apiDisabled),
            ])
        )
    }

    /// What `"api"` says when no operator token is configured.
    static let apiDisabled =
        "disabled: no operator token is configured (OPERATOR_TOKENS or --operator-tokens-file); /v1 answers 403 and nobody can log in to /ui"

    /// A read of the audit chain's head: the file opens, its lock is free enough to read, no fsync.
    func checkDatabase() async throws {
        _ = try await auditLog.head()
    }

    /// Fails naming the first stream that cannot be found or described (a configuration error:
    /// its batches wait, never expire for it), and how many there are.
    func checkStreams() async throws {
        let problems = try await auditLog.streamProblems()
        guard let first = problems.first else { return }
        let more = problems.count > 1 ? " (and \(problems.count - 1) more)" : ""
        throw ReprocessorError(.invalidSetting, "\(first.reason)\(more); their batches wait")
    }

    /// `nil` while this process holds the run lease (or works in a fleet), else who does.
    func checkLease() -> String? {
        guard control.fence == nil, !auditLog.isShared else { return nil }
        return "not holding the run lease (held by \(control.waitingOn ?? "another process")); ingest and replay wait"
    }

    /// Runs one check within ``timeout``; `nil` when it passed, else one line saying why not.
    func run(_ check: @escaping @Sendable () async throws -> Void) async -> String? {
        await withTaskGroup(of: String??.self) { group in
            group.addTask {
                do {
                    try await check()
                    return .some(nil)
                } catch {
                    return .some(String(describing: error).replacingOccurrences(of: "\n", with: " "))
                }
            }
            group.addTask { [timeout] in
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .some("no answer within \(timeout.components.seconds) s")
            }
            var outcome: String?
            for await result in group {
                guard let result else { continue }
                outcome = result
                break
            }
            group.cancelAll()
            return outcome
        }
    }
}

/// The last readiness answer and the round of checks in flight, shared by every request.
final class ReadinessCache: Sendable {
    typealias Answer = (ready: Bool, body: JSONValue)

    private struct State {
        var last: (startedAt: ContinuousClock.Instant, answer: Answer)?
        var inFlight: Task<Answer, Never>?
    }
    private let state = Mutex(State())

    /// The last answer while it is younger than `maxAge`; else the round in flight, or a new one.
    func answer(maxAge: Duration, _ round: @escaping @Sendable () async -> Answer) async -> Answer {
        enum Choice {
            case cached(Answer)
            case wait(Task<Answer, Never>)
        }
        let now = ContinuousClock.now
        let choice = state.withLock { state -> Choice in
            if let last = state.last, now - last.startedAt < maxAge { return .cached(last.answer) }
            if let inFlight = state.inFlight { return .wait(inFlight) }
            let task = Task { [weak self] in
                let answer = await round()
                self?.state.withLock { state in
                    state.last = (now, answer)
                    state.inFlight = nil
                }
                return answer
            }
            state.inFlight = task
            return .wait(task)
        }
        switch choice {
        case .cached(let answer): return answer
        case .wait(let task): return await task.value
        }
    }
}
