import AuditLog
import Foundation
import TestSupport
import Testing

/// A hung or slow OpenSearch: the request timeout is a setting, each try gives up at it, and a
/// request past half of it is logged as slow.
@Suite("OpenSearch request timeout")
struct OpenSearchTimeoutTests {
    @Test("OpenSearch that never answers: each try gives up at --opensearch-timeout and the run pauses naming it")
    func hungSearchTimesOut() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("1", name: "Artist 1")
        try await world.send([world.forwardedBody(try await world.streamRecords().map(\.record))])
        #expect(try await world.cli("ingest", "--wait", "0").status == 0)
        let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
        defer { proxy.stop() }
        // Longer than any test waits: every request is held past the client's timeout.
        proxy.delayNext(1000, by: .seconds(600))

        let run = try await world.cli(
            "run", "--once", "--wait", "0", "--opensearch-timeout", "1",
            environment: ["OPENSEARCH_ENDPOINT": proxy.url.absoluteString])
        #expect(run.status == 1 && run.stderr.contains("replay paused"), "\(run)")
        #expect(run.stderr.contains("no complete response within 1"), "the timeout given is the one used: \(run)")
        let log = try AuditLog(path: world.auditDatabasePath)
        let change = try #require(try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows.first)
        #expect(change.status == .pending && change.attempts == 0, "an outage counts no attempt: \(change)")
    }

    @Test("a request that takes more than half its timeout is logged as slow, and still succeeds")
    func slowRequestIsLogged() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("2", name: "Artist 2")
        try await world.send([world.forwardedBody(try await world.streamRecords().map(\.record))])
        #expect(try await world.cli("ingest", "--wait", "0").status == 0)
        let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
        defer { proxy.stop() }
        // Past half of a 30 s timeout, with room to spare under it on a loaded machine.
        proxy.delayNext(1, by: .seconds(16))

        let run = try await world.cli(
            "run", "--once", "--wait", "0",
            environment: ["OPENSEARCH_ENDPOINT": proxy.url.absoluteString, "OPENSEARCH_TIMEOUT": "30"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.contains("slow OpenSearch request"), "\(run)")
        #expect(try await world.liveDocument("2") != nil)
    }
}
