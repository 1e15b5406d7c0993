import Foundation
import NIOHTTP1
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// The `/v1` operator API of a running `serve`, compared with the command line's `--json`.
    @Suite("serve: operator API")
    struct OperatorAPITests {
        static let alice = "alice-token-0123456789"
        static let bob = "bob-token-abcdefghijkl"
        static let tokens = ["OPERATOR_TOKENS": "alice:\(alice),bob:\(bob)"]

        /// A world where artist 7 was inserted then renamed and artist 8 inserted, all applied by the service
        /// (the insert of 7 arrives first, so that it is applied on its own rather than coalesced with the rename).
        static func seeded() async throws -> (ReprocessorWorld, RunningService, [StreamRecord]) {
            let world = try await ReprocessorWorld.start()
            try await world.putArtist("7", name: "Original")
            try await world.putArtist("7", name: "Renamed")
            try await world.putArtist("8", name: "Eight")
            let records = try await world.streamRecords()
            let service = try await RunningService.start(world, environment: tokens)
            try await world.send([world.failedBatchBody([records[0]], requestID: "seed-insert")])
            try await service.eventually("the insert applied") {
                try await service.get("/v1/stats").json?["changes"]?["applied"]?.intValue == 1
            }
            try await world.send([world.failedBatchBody(Array(records[1...]), requestID: "seed"), "not a DLQ record"])
            try await service.eventually("three changes applied") {
                try await service.get("/v1/stats").json?["changes"]?["applied"]?.intValue == 3
            }
            return (world, service, records.map(\.record))
        }

        /// The CLI's `--json` output for the same question.
        static func cli(_ world: ReprocessorWorld, _ arguments: String...) async throws -> JSONValue? {
            let output = try await CommandRunner.run(ReprocessorExecutable.path, arguments, environment: world.environment())
            #expect(output.status == 0, "\(output)")
            return try? JSONValue(parsing: output.stdout)
        }

        @Test("queries answer exactly what the CLI's --json prints")
        func queriesMatchTheCommandLine() async throws {
            let (world, service, _) = try await Self.seeded()
            defer { service.process.stop() }

            let list = try await service.get("/v1/changes")
            #expect(list.status == 200)
            #expect(list.contentType == "application/json")
            #expect(list.json == (try await Self.cli(world, "list", "--json")))

            let firstPage = try await service.get("/v1/changes?status=applied&key=ARTIST%237&limit=1")
            #expect(
                firstPage.json
                    == (try await Self.cli(world, "list", "--status", "applied", "--key", "ARTIST#7", "--limit", "1", "--json")))
            let cursor = try #require(firstPage.json?["next"]?.stringValue)
            let secondPage = try await service.get("/v1/changes?status=applied&key=7&limit=1&cursor=\(cursor)")
            #expect(secondPage.json?["changes"]?.arrayValue?.count == 1)
            #expect(secondPage.json?["changes"]?[0] != firstPage.json?["changes"]?[0])
            let filtered = try await service.get("/v1/changes?status=failed,parked&event=insert")
            #expect(filtered.json?["changes"]?.arrayValue == [])

            let ids = try #require(list.json?["changes"]?.arrayValue).compactMap { $0["id"]?.intValue }
            for id in ids {
                let show = try await service.get("/v1/changes/\(id)")
                #expect(show.status == 200)
                #expect(show.json == (try await Self.cli(world, "show", String(id), "--json")))
            }

            let history = try await service.get("/v1/history/ARTIST%237")
            #expect(history.json == (try await Self.cli(world, "history", "ARTIST#7", "--json")))
            #expect(try await service.get("/v1/history/7").json == history.json)
            let asOfNow = try await service.get("/v1/history/7?at=2099-01-01")
            #expect(asOfNow.json?["exists"] == .bool(true))
            #expect(asOfNow.json?["document"]?["name"]?.stringValue == "Renamed")
            #expect(asOfNow.json == (try await Self.cli(world, "history", "7", "--at", "2099-01-01", "--json")))

            let audit = try await service.get("/v1/audit?actor=system&limit=2")
            #expect(audit.json?["actions"]?.arrayValue?.count == 2)
            let cliAudit = try await Self.cli(world, "audit", "--actor", "system", "--limit", "2", "--format", "json")
            #expect(audit.json?["actions"] == cliAudit?["actions"])
            let auditCursor = try #require(audit.json?["next"]?.stringValue)
            let nextAudit = try await service.get("/v1/audit?actor=system&limit=1000&cursor=\(auditCursor)")
            #expect(nextAudit.json?["next"] == .null)
            #expect(try await service.get("/v1/audit?action=applied").json?["actions"]?.arrayValue?.count == 3)

            let quarantined = try await service.get("/v1/quarantined")
            #expect(quarantined.json?["messages"]?.arrayValue?.count == 1)
            #expect(quarantined.json?["messages"]?[0]?["body"]?.stringValue == "not a DLQ record")
            #expect(quarantined.json == (try await Self.cli(world, "quarantined", "--json")))

            let errors = try await service.get("/v1/errors")
            #expect(errors.json == (try await Self.cli(world, "errors", "--json")))

            let stats = try await service.get("/v1/stats")
            let cliStats = try await Self.cli(world, "stats", "--json")
            #expect(stats.json?["changes"] == cliStats?["changes"])
            #expect(stats.json?["messages"] == cliStats?["messages"])
            #expect(stats.json?.objectValue?.keys.sorted() == cliStats?.objectValue?.keys.sorted())

            let concurrentRun = try await world.cli("run", "--once")
            #expect(concurrentRun.status == 0, "\(concurrentRun)")
            #expect(concurrentRun.stdout.contains("another run holds the lease"), "serve holds the run lease")
        }

        @Test("retry, skip, rollback and resync, one change or many, recorded with the token's name")
        func actionsRecordTheOperator() async throws {
            let (world, service, records) = try await Self.seeded()
            defer { service.process.stop() }
            let list = try await service.get("/v1/changes?key=7")
            let ids = try #require(list.json?["changes"]?.arrayValue).compactMap { $0["id"]?.intValue }
            #expect(ids.count == 2)
            let (insertID, modifyID) = (ids[0], ids[1])
            let eightID = try #require(try await service.get("/v1/changes?key=8").json?["changes"]?[0]?["id"]?.intValue)

            let dryRun = try await service.post(
                "/v1/changes/\(modifyID)/rollback", #"{"reason": "typo", "dryRun": true}"#, token: Self.alice)
            #expect(dryRun.status == 200, "\(dryRun)")
            #expect(dryRun.json?["results"]?[0]?["outcome"]?.stringValue == "would_roll_back")
            #expect(try await world.liveDocument("7")?.source["name"]?.stringValue == "Renamed", "a dry run writes nothing")

            let rollback = try await service.post("/v1/changes/\(modifyID)/rollback", #"{"reason": "typo"}"#, token: Self.alice)
            #expect(
                rollback.json?["results"]
                    == .array([
                        .object([
                            "id": .number(String(modifyID)), "outcome": .string("rolled_back"), "status": .string("rolled_back"),
                            "message": .string("old image restored"),
                        ])
                    ]))
            #expect(try await world.liveDocument("7")?.source["name"]?.stringValue == "Original")
            let shown = try await service.get("/v1/changes/\(modifyID)")
            let lastAction = try #require(shown.json?["actions"]?.arrayValue?.last)
            #expect(lastAction["actor"]?.stringValue == "alice")
            #expect(lastAction["reason"]?.stringValue == "typo")

            let conflict = try await service.post(
                "/v1/changes/\(insertID)/rollback", #"{"reason": "bad data"}"#, token: Self.alice)
            #expect(conflict.json?["results"]?[0]?["outcome"]?.stringValue == "conflict")
            let message = conflict.json?["results"]?[0]?["message"]?.stringValue ?? ""
            #expect(
                message.contains(records[0].dynamodb.sequenceNumber.digits)
                    && message.contains(records[1].dynamodb.sequenceNumber.digits))
            let forced = try await service.post(
                "/v1/changes/\(insertID)/rollback", #"{"reason": "remove the artist", "force": true}"#, token: Self.alice)
            #expect(forced.json?["results"]?[0]?["outcome"]?.stringValue == "rolled_back", "\(forced)")
            #expect(try await world.liveDocument("7") == nil)

            let retry = try await service.post("/v1/changes/\(modifyID)/retry", nil, token: Self.bob)
            #expect(retry.json?["results"]?[0]?["outcome"]?.stringValue == "applied", "\(retry)")
            #expect(try await world.liveDocument("7")?.source["name"]?.stringValue == "Renamed")
            #expect(try await service.get("/v1/audit?actor=bob").json?["actions"]?.arrayValue?.isEmpty == false)

            let resync = try await service.post("/v1/changes/\(eightID)/resync", "{}", token: Self.bob)
            #expect(resync.json?["results"]?[0]?["outcome"]?.stringValue == "resynced", "\(resync)")

            let refusedSkip = try await service.post("/v1/changes/\(eightID)/skip", #"{"reason": "not needed"}"#, token: Self.bob)
            #expect(refusedSkip.status == 200)
            #expect(refusedSkip.json?["results"]?[0]?["outcome"]?.stringValue == "refused", "an applied change cannot be skipped")

            let bulkDryRun = try await service.post(
                "/v1/changes/retry", #"{"filter": {"status": ["rolled_back"], "key": "ARTIST#7"}, "dryRun": true}"#,
                token: Self.alice
            )
            #expect(bulkDryRun.status == 200, "\(bulkDryRun)")
            #expect(bulkDryRun.json?["results"]?.arrayValue?.map { $0["id"]?.intValue } == [insertID])
            #expect(bulkDryRun.json?["results"]?[0]?["outcome"]?.stringValue == "would_retry")
            #expect(
                bulkDryRun.json?["results"]?[0]?["status"]?.stringValue == "rolled_back",
                "a dry run reports where the change stands, not the pending it was decided as")

            let bulkByIDs = try await service.post(
                "/v1/changes/resync", "{\"ids\": [\(insertID), \(eightID), 999999], \"reason\": \"repair\"}", token: Self.alice)
            let outcomes = bulkByIDs.json?["results"]?.arrayValue?.map { $0["outcome"]?.stringValue ?? "" }
            #expect(outcomes == ["resynced", "resynced", "not_found"], "\(bulkByIDs)")
            #expect(try await world.liveDocument("7")?.source["name"]?.stringValue == "Renamed", "resync follows the table")

            let bulkSkip = try await service.post(
                "/v1/changes/skip", #"{"filter": {"status": "parked"}, "reason": "nothing parked"}"#, token: Self.alice)
            #expect(bulkSkip.json == .object(["results": .array([])]))
        }

        @Test("bad input answers 4xx with a JSON error, never 500")
        func badInputIsRefused() async throws {
            let (_, service, _) = try await Self.seeded()
            defer { service.process.stop() }
            let id = try #require(try await service.get("/v1/changes").json?["changes"]?[0]?["id"]?.intValue)
            let cases: [(String, HTTPAnswer, Int)] = [
                ("bad JSON", try await service.post("/v1/changes/\(id)/retry", "{", token: Self.alice), 400),
                ("not an object", try await service.post("/v1/changes/\(id)/retry", "[1]", token: Self.alice), 400),
                ("wrong type", try await service.post("/v1/changes/\(id)/retry", #"{"dryRun": "yes"}"#, token: Self.alice), 400),
                (
                    "reason of the wrong type",
                    try await service.post("/v1/changes/\(id)/skip", #"{"reason": 5}"#, token: Self.alice), 400
                ),
                (
                    "unknown field", try await service.post("/v1/changes/\(id)/retry", #"{"dryrun": true}"#, token: Self.alice),
                    400
                ),
                ("skip without a reason", try await service.post("/v1/changes/\(id)/skip", "{}", token: Self.alice), 400),
                (
                    "force outside rollback",
                    try await service.post("/v1/changes/\(id)/retry", #"{"force": true}"#, token: Self.alice), 400
                ),
                ("unknown id", try await service.post("/v1/changes/999999/retry", nil, token: Self.alice), 404),
                ("id not a number", try await service.post("/v1/changes/abc/retry", nil, token: Self.alice), 400),
                (
                    "ids and filter",
                    try await service.post(
                        "/v1/changes/retry", "{\"ids\": [\(id)], \"filter\": {\"status\": \"failed\"}}", token: Self.alice), 400
                ),
                ("neither ids nor filter", try await service.post("/v1/changes/retry", "{}", token: Self.alice), 400),
                ("empty filter", try await service.post("/v1/changes/retry", #"{"filter": {}}"#, token: Self.alice), 400),
                (
                    "unknown status in a filter",
                    try await service.post(
                        "/v1/changes/retry", #"{"filter": {"status": "nope"}}"#, token: Self.alice), 400
                ),
                (
                    "unknown filter field",
                    try await service.post(
                        "/v1/changes/retry", #"{"filter": {"colour": "red"}}"#, token: Self.alice), 400
                ),
                ("ids not numbers", try await service.post("/v1/changes/retry", #"{"ids": ["a"]}"#, token: Self.alice), 400),
                (
                    "rate below zero",
                    try await service.post(
                        "/v1/changes/\(id)/retry", #"{"rate": -1, "dryRun": true}"#, token: Self.alice), 400
                ),
                (
                    "body too large",
                    try await service.post(
                        "/v1/changes/\(id)/retry", "{\"reason\": \"\(String(repeating: "x", count: 70_000))\"}", token: Self.alice
                    ),
                    413
                ),
                ("unknown change", try await service.get("/v1/changes/999999"), 404),
                ("change id not a number", try await service.get("/v1/changes/seven"), 400),
                ("unknown status", try await service.get("/v1/changes?status=bogus"), 400),
                ("limit out of range", try await service.get("/v1/changes?limit=0"), 400),
                ("unknown query parameter", try await service.get("/v1/changes?colour=red"), 400),
                ("bad time", try await service.get("/v1/changes?since=yesterday-ish"), 400),
                ("unknown event", try await service.get("/v1/changes?event=UPSERT"), 400),
                ("unknown action", try await service.get("/v1/audit?action=bogus"), 400),
                ("bad history time", try await service.get("/v1/history/7?at=soon"), 400),
                ("unknown route", try await service.get("/v1/nothing-here"), 404),
                ("wrong method", try await service.request(.DELETE, "/v1/changes/\(id)", token: Self.alice), 405),
            ]
            for (name, answer, expected) in cases {
                #expect(answer.status == expected, "\(name): \(answer)")
                #expect(answer.contentType == "application/problem+json", "\(name): \(answer)")
                #expect(!(answer.error ?? "").isEmpty, "\(name) says why: \(answer)")
            }
            let unchanged = try await service.get("/v1/changes/\(id)")
            #expect(unchanged.json?["status"]?.stringValue == "applied", "no refused request changed anything")
        }
    }
}
