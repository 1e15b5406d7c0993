import Foundation
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// Two `serve` processes on one audit database.
    @Suite("serve: one lease, two services")
    struct LeaseTakeoverTests {
        @Test("one serve works, the other waits (readyz and metrics say so) and takes over within seconds of kill -9")
        func twoServes() async throws {
            // A short visibility timeout: a long poll the killed service had in flight can still be
            // handed a message by the queue, which then stays hidden for that long.
            let world = try await ReprocessorWorld.start(visibilityTimeoutSeconds: 5)
            let first = try await RunningService.start(world)
            defer { first.process.stop() }
            try await first.eventually("the first serve holds the lease") {
                try await first.get("/readyz").json?["checks"]?["lease"]?.stringValue == "ok"
            }
            let second = try await RunningService.start(world)
            defer { second.process.stop() }

            let waiting = try await second.get("/readyz")
            #expect(waiting.status == 503, "\(waiting)")
            #expect(waiting.json?["failing"]?.arrayValue?.contains(.string("lease")) == true, "\(waiting)")
            #expect(waiting.json?["checks"]?["lease"]?.stringValue?.contains("held by") == true, "\(waiting)")
            #expect(try await second.metric("dlq_run_lease_held") == 0)
            #expect(try await first.metric("dlq_run_lease_held") == 1)
            #expect(second.process.recentOutput.contains { $0.contains("waiting for the run lease") })

            // The first one works alone: a change goes through it.
            try await world.putArtist("1", name: "Before the kill")
            try await world.send([world.failedBatchBody(try await world.streamRecords(), requestID: "one", arrivedAt: Date())])
            try await first.eventually("the first serve applies the change") {
                try await world.liveDocument("1") != nil
            }
            try await first.eventually("metrics count the batch as read") {
                try await first.metric(#"dlq_batches{status="read"}"#) == 1
            }
            #expect(try await first.metric("dlq_oldest_waiting_batch_age_seconds") == 0)

            first.process.send(signal: SIGKILL)
            _ = await first.process.waitForExit(timeout: .seconds(30))
            let killedAt = ContinuousClock.now
            try await second.eventually("the second serve takes the lease over", timeout: .seconds(30)) {
                try await second.get("/readyz").json?["checks"]?["lease"]?.stringValue == "ok"
            }
            let takeover = ContinuousClock.now - killedAt
            #expect(takeover < .seconds(15), "took \(takeover), not the lease's ttl")
            #expect(try await second.metric("dlq_run_lease_held") == 1)
            let stats = try await second.get("/v1/stats")
            #expect(stats.json?["runLease"]?["epoch"]?.intValue == 2, "\(stats)")
            #expect(stats.json?["runLease"]?["held"]?.boolValue == true, "\(stats)")

            // And works: the next change goes through the second one.
            try await world.putArtist("2", name: "After the kill")
            let records = try await world.streamRecords().filter { $0.record.dynamodb.keys["PK"] == .string("ARTIST#2") }
            try await world.send([world.failedBatchBody(records, requestID: "two", arrivedAt: Date())])
            try await second.eventually("the second serve applies the change") {
                try await world.liveDocument("2") != nil
            }
        }

        @Test("a serve stopped past its lease's ttl loses it; resumed, it finds out, pauses, and one serve holds it after")
        func stoppedServeLosesTheLease() async throws {
            let world = try await ReprocessorWorld.start(visibilityTimeoutSeconds: 5)
            let shortLease = ["DLQ_LEASE_TTL": "3"]
            let first = try await RunningService.start(world, environment: shortLease)
            defer { first.process.stop() }
            try await first.eventually("the first serve holds the lease") {
                try await first.get("/readyz").json?["checks"]?["lease"]?.stringValue == "ok"
            }
            let second = try await RunningService.start(world, environment: shortLease)
            defer { second.process.stop() }

            // Stopped, the first keeps its kernel lock but stops renewing the row: the second takes the row over.
            first.process.send(signal: SIGSTOP)
            try await second.eventually("the second serve takes the stopped one's lease over", timeout: .seconds(30)) {
                try await second.get("/readyz").json?["checks"]?["lease"]?.stringValue == "ok"
            }
            first.process.send(signal: SIGCONT)
            try await first.eventually("the resumed serve finds it lost the lease", timeout: .seconds(30)) {
                first.process.recentOutput.contains { $0.contains("lost the run lease") }
            }

            // Whichever of the two holds it now (the lock decides), exactly one does, and work goes on.
            try await first.eventually("exactly one serve holds the lease", timeout: .seconds(30)) {
                let holding = try await [first, second].asyncCount {
                    try await $0.get("/readyz").json?["checks"]?["lease"]?.stringValue == "ok"
                }
                return holding == 1
            }
            try await world.putArtist("7", name: "After the pause")
            try await world.send([world.failedBatchBody(try await world.streamRecords(), requestID: "after", arrivedAt: Date())])
            try await second.eventually("the holder applies the change") { try await world.liveDocument("7") != nil }
            let stats = try await second.get("/v1/stats")
            #expect((stats.json?["runLease"]?["epoch"]?.intValue ?? 0) >= 2, "\(stats)")
        }
    }
}

extension Array {
    /// How many elements satisfy `predicate`, asked one after the other.
    func asyncCount(_ predicate: (Element) async throws -> Bool) async rethrows -> Int {
        var count = 0
        for element in self where try await predicate(element) { count += 1 }
        return count
    }
}
