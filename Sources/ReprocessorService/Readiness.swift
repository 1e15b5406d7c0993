import AuditLog
import Foundation
import Reprocessor
import StreamModel

/// What `/readyz` checks: the audit database takes a write, the DLQ and OpenSearch answer,
/// and this process holds the run lease (a standby `serve` is alive but not ready).
struct Readiness: Sendable {
    let auditLog: AuditLog
    let ingestor: DLQIngestor
    let engine: WriteEngine
    let control: LoopControl
    let holder: String
    /// Longest a single check may take before it counts as failed.
    let timeout: Duration = .seconds(5)

    /// The lease name the database check writes and removes again.
    static let probeLeaseName = "readiness-probe"

    /// Runs the checks together.
    /// - Returns: Whether all passed, and `{"status", "checks": {part: "ok" | error}, "failing": [part…]}`
    ///   with parts `database`, `dlq`, `opensearch` and `lease`.
    func check() async -> (ready: Bool, body: JSONValue) {
        let results = await withTaskGroup(of: (String, String?).self) { group in
            group.addTask { ("database", await self.run { try await self.checkDatabase() }) }
            group.addTask { ("dlq", await self.run { try await self.ingestor.checkQueue() }) }
            group.addTask { ("opensearch", await self.run { try await self.engine.checkSearch() }) }
            group.addTask { ("lease", self.checkLease()) }
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
            ])
        )
    }

    /// A real write transaction: take and give back a short lease of its own.
    func checkDatabase() async throws {
        if let fence = try await auditLog.takeLease(
            name: Self.probeLeaseName, holder: holder, ttl: .seconds(5), lockHeld: true, now: Date())
        {
            try await auditLog.releaseLease(fence, now: Date())
        }
    }

    /// `nil` while this process holds the run lease, else who does.
    func checkLease() -> String? {
        guard control.fence == nil else { return nil }
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
