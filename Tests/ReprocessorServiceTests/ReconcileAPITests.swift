import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// `GET` and `POST /v1/reconcile` of a running `serve`, and the reconcile gauges.
    @Suite("serve: reconcile")
    struct ReconcileAPITests {
        @Test("POST /v1/reconcile repairs as the token's operator; GET lists the run; metrics show its drift")
        func repairThroughTheAPI() async throws {
            let world = try await ReprocessorWorld.start()
            try await world.putArtist("5", name: "Never indexed")
            let service = try await RunningService.start(world, environment: OperatorAPITests.tokens)
            defer { service.process.stop() }

            #expect(try await service.get("/v1/reconcile").json == .object(["runs": .array([])]))
            #expect(try await service.post("/v1/reconcile", #"{"reason": "check"}"#).status == 401)
            let noReason = try await service.post("/v1/reconcile", "{}", token: OperatorAPITests.alice)
            #expect(noReason.status == 400, "\(noReason)")
            let unknown = try await service.post(
                "/v1/reconcile", #"{"reason": "x", "force": true}"#, token: OperatorAPITests.alice)
            #expect(unknown.status == 400, "\(unknown)")

            let repair = try await service.post(
                "/v1/reconcile", #"{"reason": "after the incident", "segments": 2}"#, token: OperatorAPITests.alice)
            #expect(repair.status == 200, "\(repair)")
            #expect(repair.json?["mode"]?.stringValue == "repair")
            #expect(repair.json?["missing"]?.intValue == 1)
            #expect(repair.json?["repaired"]?.intValue == 1)
            #expect(repair.json?["actor"]?.stringValue == "alice")
            let live = try #require(try await world.liveDocument("5"))
            #expect(
                ReprocessorWorld.content(live.source) == world.expectedContent(try #require(try await world.currentArtist("5"))))

            let runs = try #require(try await service.get("/v1/reconcile").json?["runs"]?.arrayValue)
            #expect(runs.count == 1)
            #expect(runs.first == repair.json)
            let metrics = try await service.get("/metrics").body
            #expect(metrics.contains(#"dlq_reconcile_drift{kind="missing"} 1"#), "\(metrics)")
            #expect(metrics.contains("dlq_reconcile_last_run_timestamp_seconds"))
        }
    }
}

extension ServeTests.ReconcileAPITests {
    @Test("--reconcile-interval runs dry-run reconciles while holding the lease; drift shows in metrics, nothing is written")
    func scheduledDryRun() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("6", name: "Not in search")
        let service = try await RunningService.start(world, arguments: ["--reconcile-interval", "1"])
        defer { service.process.stop() }
        try await service.eventually("a scheduled run found the drift") {
            try await service.get("/metrics").body.contains(#"dlq_reconcile_drift{kind="missing"} 1"#)
        }
        let runs = try #require(try await service.get("/v1/reconcile").json?["runs"]?.arrayValue)
        #expect(runs.first?["mode"]?.stringValue == "dry_run")
        #expect(runs.first?["actor"]?.stringValue == "system")
        #expect(try await world.liveDocument("6") == nil, "a dry run writes nothing")
    }
}
