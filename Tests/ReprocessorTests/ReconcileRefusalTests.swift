import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

/// Repairs search refuses, through the write engine's classification of `_bulk` items: for a
/// repair, a document error, a 429 and a write block are each a failed repair (nothing
/// written, nothing recorded, the drift left for the next run); a request that fails whole
/// ends the run failed with its intents open, and `--resume` repairs and records each once.
@Suite("Reconcile: refused repairs")
struct ReconcileRefusalTests {
    /// A `_bulk` answer whose three items each carry one refusal (FaultProxy answers it without
    /// forwarding: osmem cannot be made to refuse items this way).
    static let refusals = """
        {"took": 1, "errors": true, "items": [
          {"create": {"_id": "1", "status": 400, "error": {"type": "mapper_parsing_exception", "reason": "failed to parse field [name]"}}},
          {"create": {"_id": "2", "status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "rejected execution"}}},
          {"create": {"_id": "3", "status": 403, "error": {"type": "cluster_block_exception", "reason": "index [artists] blocked by: [FORBIDDEN/8/index write (api)]"}}}
        ]}
        """

    static func openRepairs(_ world: ReprocessorWorld) async throws -> [WriteIntent] {
        try await AuditLog(path: world.auditDatabasePath).openWriteIntents(recordedBefore: Date(), limit: 10).filter {
            $0.intent.repair != nil
        }
    }

    @Test("a document error, a 429 and a write block are failed repairs: nothing written or recorded, the next run repairs them")
    func refusedItems() async throws {
        let world = try await ReprocessorWorld.start()
        for id in ["1", "2", "3"] { try await world.putArtist(id, name: "artist \(id)") }
        let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
        defer { proxy.stop() }
        proxy.fail(method: "POST", pathContaining: "/_bulk", times: 1, status: 200, body: Self.refusals)

        let refused = try await world.cli(
            "reconcile", "--repair", "--reason", "refusals", "--segments", "1", "--json",
            environment: ["OPENSEARCH_ENDPOINT": proxy.url.absoluteString])
        let report = try JSONValue(parsing: refused.stdout)
        #expect(refused.status == 3, "drift is left: \(refused)")
        #expect(report["missing"]?.intValue == 3 && report["repaired"]?.intValue == 0, "\(report)")
        #expect(report["failed"]?.intValue == 3 && report["conflicts"]?.intValue == 0, "\(report)")
        #expect(try await ReconcileTests.reconciledActions(world).isEmpty)
        #expect(try await Self.openRepairs(world).isEmpty, "a refused write's intent is dropped")
        for id in ["1", "2", "3"] { #expect(try await world.liveDocument(id) == nil, "artist \(id)") }

        let again = try await world.cli("reconcile", "--repair", "--reason", "refusals", "--segments", "1", "--json")
        let second = try JSONValue(parsing: again.stdout)
        #expect(again.status == 0, "\(again)")
        #expect(second["missing"]?.intValue == 3 && second["repaired"]?.intValue == 3, "\(second)")
        #expect(try await ReconcileTests.reconciledActions(world).count == 3)
        #expect(try await world.cli("verify").status == 0)
    }

    @Test("a repair request that fails whole ends the run failed with its intents open; --resume repairs and records each once")
    func requestFailsWhole() async throws {
        let world = try await ReprocessorWorld.start()
        for id in ["1", "2", "3"] { try await world.putArtist(id, name: "artist \(id)") }
        let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
        defer { proxy.stop() }
        // Every _bulk answered 503, retries included: whether the writes landed is unknown to the run.
        proxy.fail(method: "POST", pathContaining: "/_bulk", status: 503)

        let failed = try await world.cli(
            "reconcile", "--repair", "--reason", "outage", "--segments", "1",
            environment: ["OPENSEARCH_ENDPOINT": proxy.url.absoluteString])
        #expect(failed.status != 0 && failed.status != 3, "\(failed)")
        let run = try #require(try await AuditLog(path: world.auditDatabasePath).reconcileRuns(limit: 1).first)
        #expect(run.status == .failed && run.repaired == 0, "\(run)")
        #expect(Set(try await Self.openRepairs(world).map(\.intent.documentID)) == ["1", "2", "3"], "left for recovery")

        proxy.clearFaults()
        let resumed = try await world.cli(
            "reconcile", "--repair", "--reason", "outage", "--resume", "--json",
            environment: ["OPENSEARCH_ENDPOINT": proxy.url.absoluteString])
        let report = try JSONValue(parsing: resumed.stdout)
        #expect(resumed.status == 0, "\(resumed)")
        #expect(report["run"]?.intValue == Int(run.id), "the failed run resumed")
        #expect(report["missing"]?.intValue == 3 && report["repaired"]?.intValue == 3, "\(report)")
        #expect(try await ReconcileTests.reconciledActions(world).count == 3, "one action per repair")
        #expect(try await Self.openRepairs(world).isEmpty, "the repairs that landed dropped the older intents")
        #expect(try await world.cli("verify").status == 0)
    }
}
