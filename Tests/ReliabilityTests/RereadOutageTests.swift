import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

/// Search failing the read the write engine makes after a 409 (to tell another writer's change
/// from its own write, landed by an attempt whose answer was lost) is an outage like any other.
@Suite("OpenSearch failing the re-read after a 409")
struct RereadOutageTests {
    /// Makes `proxy` let the next `_bulk` land but answer it with a 409 for `documentID`
    /// (created), and fail every `_mget` after the first with 503.
    static func conflictThenFailingReads(_ proxy: FaultProxy, world: ReprocessorWorld, documentID: String) {
        let conflict = JSONValue.object([
            "took": .number("1"), "errors": .bool(true),
            "items": .array([
                .object([
                    "create": .object([
                        "_index": .string(world.index), "_id": .string(documentID), "status": .number("409"),
                        "error": .object([
                            "type": .string("version_conflict_engine_exception"),
                            "reason": .string("[\(documentID)]: version conflict"),
                        ]),
                    ])
                ])
            ]),
        ]).serialized
        proxy.fail(method: "POST", pathContaining: "/_bulk", times: 1, status: 200, body: conflict, forwardingFirst: true)
        proxy.fail(method: "POST", pathContaining: "/_mget", after: 1, status: 503)
    }

    @Test("a 409 then a failing _mget: unavailable outcomes, replay paused, nothing counted; the next run records the write")
    func rereadFails() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("5", name: "Unanswered")
        let records = try await world.streamRecords()
        try await world.send([world.forwardedBody(records.map(\.record))])
        #expect(try await world.cli("ingest", "--wait", "0").status == 0)
        let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
        defer { proxy.stop() }
        Self.conflictThenFailingReads(proxy, world: world, documentID: "5")
        let environment = ["OPENSEARCH_ENDPOINT": proxy.url.absoluteString]

        let run = try await world.cli("run", "--once", "--json", environment: environment)
        // An outage pass exits 1 after saying "replay paused" (as when search is down from the
        // start); it is not an error escaping the run.
        #expect(run.status == 1 && !run.killedBySignal, "\(run)")
        #expect(run.stderr.contains("replay paused: reading search after a 409 failed"), "\(run)")
        let report = try JSONValue(parsing: run.stdout)
        #expect(report["replay"]?["unavailable"]?.intValue == 1, "\(report)")
        #expect(report["replay"]?["failed"]?.intValue == 0 && report["replay"]?["applied"]?.intValue == 0, "\(report)")
        #expect(proxy.requests(method: "POST", pathContaining: "/_bulk").count == 1)

        let log = try AuditLog(path: world.auditDatabasePath)
        let change = try #require(try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows.first)
        #expect(change.status == .pending && change.attempts == 0, "nothing counted against the change: \(change)")
        #expect(
            try await log.openWriteIntents(recordedBefore: Date(), limit: 10).count == 1,
            "whether the write landed is unknown: its intent stays open for the next pass")
        let stats = try await world.cliJSON("stats")
        #expect(stats.1?["replayPaused"] != nil && stats.1?["replayPaused"] != .null, "\(stats.0)")

        // The next pass starts by recovering that intent: search still failing, it pauses as well.
        let recovering = try await world.cli("run", "--once", "--json", environment: environment)
        #expect(recovering.status == 1 && recovering.stderr.contains("replay paused: search is unavailable"), "\(recovering)")
        #expect(try await log.openWriteIntents(recordedBefore: Date(), limit: 10).count == 1)
        #expect(try await log.change(id: change.id)?.attempts == 0)

        proxy.clearFaults()
        let next = try await world.cli("run", "--once", environment: environment)
        #expect(next.status == 0, "\(next)")
        #expect(try await log.change(id: change.id)?.status == .applied)
        #expect(try await log.openWriteIntents(recordedBefore: Date(), limit: 10).isEmpty)
        #expect(try await world.liveDocument("5")?.source["name"]?.stringValue == "Unanswered")
        #expect(try await world.cli("verify").status == 0)
    }

    @Test("an operator retry whose 409 cannot be checked answers unavailable for the change, not an error")
    func operatorRetryRereadFails() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("6", name: "Operator")
        let records = try await world.streamRecords()
        try await world.send([world.forwardedBody(records.map(\.record))])
        #expect(try await world.cli("ingest", "--wait", "0").status == 0)
        let log = try AuditLog(path: world.auditDatabasePath)
        let change = try #require(try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows.first)
        let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
        defer { proxy.stop() }
        Self.conflictThenFailingReads(proxy, world: world, documentID: "6")
        let environment = ["OPENSEARCH_ENDPOINT": proxy.url.absoluteString]

        let retry = try await world.cli("retry", String(change.id), "--json", environment: environment)
        // An unavailable outcome is a failure to report (exit 1), but as a result, with the JSON.
        #expect(retry.status == 1 && !retry.killedBySignal, "\(retry)")
        let result = try JSONValue(parsing: retry.stdout)["results"]?.arrayValue?.first
        #expect(result?["outcome"]?.stringValue == "unavailable", "\(retry)")
        #expect(result?["message"]?.stringValue?.contains("reading search after a 409 failed") == true, "\(retry)")
        #expect(try await log.change(id: change.id)?.status == .pending)
        #expect(try await log.change(id: change.id)?.attempts == 0)

        proxy.clearFaults()
        let next = try await world.cli("run", "--once", environment: environment)
        #expect(next.status == 0, "\(next)")
        #expect(try await log.change(id: change.id)?.status == .applied)
        #expect(try await log.openWriteIntents(recordedBefore: Date(), limit: 10).isEmpty)
    }
}
