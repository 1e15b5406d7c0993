import Foundation
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// `serve` started as a process against real moto and osmem: liveness, readiness and metrics.
    @Suite("serve: health, readiness, metrics")
    struct HealthAndMetricsTests {
        @Test("healthz answers; readyz names the stopped peer with 503; SIGINT exits 0")
        func healthAndReadiness() async throws {
            let world = try await ReprocessorWorld.start()
            let service = try await RunningService.start(world)

            let health = try await service.get("/healthz")
            #expect(health.status == 200, "\(health)")
            #expect(health.json?["status"]?.stringValue == "ok")

            let ready = try await service.get("/readyz")
            #expect(ready.status == 200, "\(ready)")
            #expect(
                ready.json?["checks"]
                    == .object([
                        "database": .string("ok"), "dlq": .string("ok"), "lease": .string("ok"), "opensearch": .string("ok"),
                        "streams": .string("ok"),
                    ]))
            #expect(ready.json?["failing"] == .array([]))

            world.openSearchServer.stop()
            // Readiness answers are reused for a second, so the stop shows on a later round.
            try await service.eventually("readiness sees OpenSearch stopped") {
                try await service.get("/readyz").status == 503
            }
            let withoutSearch = try await service.get("/readyz")
            #expect(withoutSearch.status == 503, "\(withoutSearch)")
            #expect(withoutSearch.json?["failing"] == .array([.string("opensearch")]))
            #expect(withoutSearch.json?["checks"]?["database"]?.stringValue == "ok")
            #expect(withoutSearch.json?["checks"]?["dlq"]?.stringValue == "ok")
            #expect((withoutSearch.json?["checks"]?["opensearch"]?.stringValue ?? "ok") != "ok", "the failure is described")
            #expect(try await service.get("/healthz").status == 200, "liveness does not depend on the peers")

            world.moto.stop()
            try await service.eventually("the failing receives counted") {
                (try await service.metric(#"dlq_aws_errors_total{kind="connection"}"#) ?? 0) >= 1
            }
            try await service.eventually("readiness sees moto stopped") {
                try await service.get("/readyz").json?["failing"] == .array([.string("dlq"), .string("opensearch")])
            }
            let withoutEither = try await service.get("/readyz")
            #expect(withoutEither.status == 503)

            service.process.send(signal: SIGINT)
            let exit = await service.process.waitForExit(timeout: .seconds(60))
            #expect(exit?.status == 0 && exit?.killedBySignal == false, "SIGINT is a graceful stop: \(String(describing: exit))")
        }

        @Test("metrics count received, ingested and quarantined messages, changes by status, applies, errors and the last run")
        func metricsMoveWithTheWork() async throws {
            let world = try await ReprocessorWorld.start()
            let service = try await RunningService.start(world)

            let before = try await service.get("/metrics")
            #expect(before.status == 200)
            #expect(before.contentType.hasPrefix("text/plain"))
            #expect(RunningService.sample("dlq_messages_received_total", in: before.body) == 0, "listed at zero before any work")
            #expect(RunningService.sample(#"dlq_apply_outcomes_total{outcome="applied"}"#, in: before.body) == 0)
            #expect(RunningService.sample(#"dlq_changes{status="applied"}"#, in: before.body) == 0)

            try await world.putArtist("1", name: "One")
            try await world.putArtist("2", name: "Two")
            let records = try await world.streamRecords()
            try await world.send([world.failedBatchBody(records, requestID: "metrics"), "not json at all"])

            try await service.eventually("both changes applied") {
                try await service.metric(#"dlq_changes{status="applied"}"#) == 2
            }
            let after = try await service.get("/metrics").body
            #expect(RunningService.sample("dlq_messages_received_total", in: after) == 2)
            #expect(RunningService.sample("dlq_messages_ingested_total", in: after) == 2)
            #expect(RunningService.sample("dlq_messages_quarantined_total", in: after) == 1)
            #expect(RunningService.sample(#"dlq_apply_outcomes_total{outcome="applied"}"#, in: after) == 2)
            #expect(
                (RunningService.sample("dlq_apply_duration_seconds_count", in: after) ?? 0) >= 1,
                "the apply histogram counts rounds")
            #expect(RunningService.sample(#"dlq_changes{status="pending"}"#, in: after) == 0)
            #expect(RunningService.sample("dlq_oldest_pending_change_age_seconds", in: after) == 0)
            try await service.eventually("a successful run recorded") {
                let lastRun = try await service.metric("dlq_last_successful_run_timestamp_seconds") ?? 0
                return lastRun > Date().timeIntervalSince1970 - 120
            }

            // The audit chain's head as verify reports it is the one serve logs and counts at each interval.
            let (_, verified) = try await world.cliJSON("verify")
            let count = try #require(verified?["head"]?["count"]?.intValue)
            let hash = try #require(verified?["head"]?["hash"]?.stringValue)
            #expect(count >= 5, "2 ingested, 1 quarantined, 2 applied at least")
            try await service.eventually("the chain head gauge set") {
                (try await service.metric("dlq_audit_chain_actions") ?? 0) == Double(count)
            }
            try await service.eventually("the chain head logged, for log shipping") {
                service.process.recentOutput.contains { $0.contains("audit chain head \(count):\(hash)") }
            }

            let address = world.openSearchServer.address
            world.openSearchServer.stop()
            try await world.putArtist("3", name: "Three")
            let third = try await world.streamRecords().filter { $0.record.dynamodb.keys["PK"] == .string("ARTIST#3") }
            try await world.send([world.forwardedBody(third.map(\.record))])
            try await service.eventually("replay paused while search is down") {
                try await service.metric("dlq_replay_paused") == 1
            }
            let failing = try await service.get("/metrics").body
            #expect((RunningService.sample(#"dlq_opensearch_errors_total{kind="connection"}"#, in: failing) ?? 0) >= 1)
            #expect(RunningService.sample(#"dlq_changes{status="failed"}"#, in: failing) == 0, "an outage fails no change")
            #expect(RunningService.sample(#"dlq_apply_outcomes_total{outcome="failed"}"#, in: failing) == 0)
            #expect((RunningService.sample(#"dlq_apply_outcomes_total{outcome="unavailable"}"#, in: failing) ?? 0) >= 1)
            #expect((RunningService.sample("dlq_oldest_pending_change_age_seconds", in: failing) ?? -1) >= 0)

            let restarted = try await OSMemServer.start(address: address)
            defer { restarted.stop() }
            try await restarted.fixtures.createIndex(world.index)
            try await service.eventually("replay resumed once search is back") {
                let applied = try await service.metric(#"dlq_changes{status="applied"}"#)
                let paused = try await service.metric("dlq_replay_paused")
                return applied == 3 && paused == 0
            }
            service.process.stop()
        }
    }
}
