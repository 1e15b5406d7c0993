import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// `serve` during a live outage: the DLQ keeps receiving while batches wait to be read.
    @Suite("serve: a pipeline under a steady inflow")
    struct PipelineTests {
        @Test("batches stored while the DLQ keeps filling are read and applied while the inflow goes on")
        func batchesAreReadDuringInflow() async throws {
            let world = try await ReprocessorWorld.start()
            for id in 1...6 { try await world.putArtist("\(id)", name: "Artist \(id)") }
            let records = try await world.streamRecords()
            let bodies = stride(from: 0, to: records.count, by: 2).map { start in
                world.failedBatchBody(
                    Array(records[start..<min(start + 2, records.count)]), requestID: "req-\(start)", arrivedAt: Date())
            }
            // Long polls of 20 s, as in production: a drain returns only when a receive comes back empty.
            let service = try await RunningService.start(
                world, arguments: ["--wait", "20"], environment: ConsoleFixture.tokens)
            defer { service.process.stop() }

            // A failing Lambda on a busy table: the same batches arrive again and again, a few a second.
            let producer = Task {
                var sent = 0
                while !Task.isCancelled {
                    try await world.send([bodies[sent % bodies.count]])
                    sent += 1
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
            defer { producer.cancel() }

            try await service.eventually("every artist is applied while the inflow goes on", timeout: .seconds(90)) {
                for id in 1...6 where try await world.liveDocument("\(id)") == nil { return false }
                return true
            }
            // Freshness: the sent → applied lag of every applied change is in the histogram.
            try await service.eventually("the lag of each applied change is recorded") {
                (try await service.metric("dlq_change_lag_seconds_count") ?? 0) >= 6
            }
            let lagSum = try #require(try await service.metric("dlq_change_lag_seconds_sum"))
            #expect(lagSum > 0 && lagSum < 6 * 90, "six lags, each under the test's bound: \(lagSum)")
            #expect(
                try await service.metric("dlq_batch_retention_left_seconds") == 86_400,
                "no batch pending: a whole retention left")
            // The console's overview shows the same: no batch waiting, and the freshness of the applies.
            let browser = ConsoleBrowser(baseURL: service.baseURL)
            #expect(try await browser.logIn(ConsoleFixture.readerToken).status == 303)
            let overview = try await browser.get("/ui")
            #expect(overview.status == 200, "\(overview)")
            #expect(overview.body.contains("no batch waiting"), "\(overview.body)")
            #expect(overview.body.contains("(last 6 applied)"), "\(overview.body)")
            let stats = try await service.get("/v1/stats")
            #expect(stats.json?["batches"]?["pending"]?.numberText == "0", "\(stats)")
            #expect(stats.json?["batches"]?["read"]?.numberText == String(bodies.count), "\(stats)")
        }
    }
}
