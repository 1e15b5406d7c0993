import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

/// Every pass starts, once in its life, from a store nobody has used: no lease row, no runs.
/// These tests start there, on both stores, rather than from a store a test prepared.
@Suite("an empty store: the run lease and the batches")
struct EmptyStoreTests {
    /// Which store `run --once` works on.
    enum Store: String, CaseIterable, CustomTestStringConvertible {
        case sqlite
        case postgres
        var testDescription: String { rawValue }
    }

    /// `AUDIT_DB` for `store`: the world's own SQLite file, or a new PostgreSQL database.
    static func environment(_ store: Store) async throws -> [String: String] {
        switch store {
        case .sqlite: return [:]
        case .postgres: return ["AUDIT_DB": try await SharedPostgresServer.newDatabase()]
        }
    }

    /// Puts six artists in the table and sends their stream records to the DLQ as format-A
    /// batches of two records each; returns how many batches were sent.
    static func seedBatches(_ world: ReprocessorWorld) async throws -> Int {
        let bodies = try await world.seedFailedBatches(artists: 6, arrivedAt: Date())
        try await world.send(bodies)
        return bodies.count
    }

    @Test(
        "run --once on a new store takes the lease, reads every batch it stored and applies their changes",
        arguments: Store.allCases)
    func runOnceReadsBatchesOfANewStore(_ store: Store) async throws {
        let world = try await ReprocessorWorld.start()
        let environment = try await Self.environment(store)
        let sent = try await Self.seedBatches(world)

        let run = try await world.cli("run", "--once", "--json", environment: environment)
        #expect(run.status == 0, "\(run)")
        let result = try #require(try? JSONValue(parsing: run.stdout), "\(run)")
        #expect(result["skipped"] == nil, "the pass ran: \(run.stdout)")
        #expect(result["ingest"]?["batchesStored"]?.numberText == String(sent), "\(run.stdout)")
        #expect(result["ingest"]?["batchesRead"]?.numberText == String(sent), "every batch read in the same pass: \(run.stdout)")
        #expect(result["stats"]?["batches"]?["pending"]?.numberText == "0", "\(run.stdout)")
        #expect(result["stats"]?["runLease"]?["epoch"]?.numberText == "1", "the first lease of the store: \(run.stdout)")
        for id in 1...6 {
            let live = try #require(try await world.liveDocument("\(id)"), "artist \(id) is in search")
            #expect(live.source["name"]?.stringValue == "Artist \(id)")
        }
        #expect(try await world.queueDepth() == 0)

        // Freshness: every applied change's lag from its message's sending is summarised.
        let stats = try await world.cli("stats", "--json", environment: environment)
        let lag = try #require((try? JSONValue(parsing: stats.stdout))?["recentChangeLag"], "\(stats)")
        #expect(lag["changes"]?.numberText == "6", "\(lag)")
        let p99 = try #require(lag["p99Seconds"]?.numberText.flatMap(Double.init))
        #expect(p99 >= 0 && p99 < 600, "\(lag)")

        // The next pass takes the lease again (released, not expired) and finds nothing to do.
        let again = try await world.cli("run", "--once", "--json", environment: environment)
        #expect(again.status == 0, "\(again)")
        let second = try #require(try? JSONValue(parsing: again.stdout), "\(again)")
        #expect(second["stats"]?["runLease"]?["epoch"]?.numberText == "2", "\(again.stdout)")
    }

    @Test(
        "a pass that leaves a stored batch unread longer than DLQ_BATCH_WAIT_ALERT exits 3 and says so in one line",
        arguments: Store.allCases)
    func unreadBatchCallsForAnOperator(_ store: Store) async throws {
        let world = try await ReprocessorWorld.start()
        var environment = try await Self.environment(store)
        _ = try await Self.seedBatches(world)
        // A stream endpoint nobody answers on: each batch is stored, then put off (a transient error).
        environment["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = "http://127.0.0.1:9"
        environment["DLQ_BATCH_WAIT_ALERT"] = "1"
        environment["DLQ_BATCH_RETRY_SECONDS"] = "0"
        let stored = try await world.cli("run", "--once", environment: environment)
        #expect(stored.status == 0 || stored.status == 3, "\(stored)")

        // Once the batches have waited past the alert (wait on that condition, not on a clock)…
        try await eventually("the oldest batch has waited over a second", timeout: .seconds(60)) {
            let stats = try await world.cli("stats", "--json", environment: environment)
            let age = (try? JSONValue(parsing: stats.stdout))?["oldestWaitingBatchAgeSeconds"]?.numberText
            return (age.flatMap(Int.init) ?? 0) >= 2
        }
        // The most urgent batch's time left before the stream's 24 h retention is reported.
        let waiting = try await world.cli("stats", "--json", environment: environment)
        let left = try #require(
            (try? JSONValue(parsing: waiting.stdout))?["mostUrgentBatchRetentionLeftSeconds"]?.numberText.flatMap(Int.init),
            "\(waiting)")
        #expect(left <= 86_400 - 2 && left > 86_400 - 3_600, "\(left)")
        // …a pass that still cannot read them calls for an operator.
        let late = try await world.cli("run", "--once", environment: environment)
        #expect(late.status == 3, "\(late)")
        let lines = late.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(lines.count == 1, "\(late.stderr)")
        #expect(late.stderr.contains("waited") && late.stderr.contains("DLQ_BATCH_WAIT_ALERT"), "\(late.stderr)")

        // With the stream reachable again, the batches are read and the pass is clean.
        environment["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = nil
        try await eventually("the put-off batches are read", timeout: .seconds(120)) {
            let run = try await world.cli("run", "--once", "--json", environment: environment)
            let result = try? JSONValue(parsing: run.stdout)
            return run.status == 0 && result?["stats"]?["batches"]?["pending"]?.numberText == "0"
        }
        #expect(try await world.liveDocument("6")?.source["name"]?.stringValue == "Artist 6")
    }

    /// Polls `condition` until it holds; fails the test when `timeout` passes first.
    func eventually(
        _ what: String, timeout: Duration, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }
}
