import AuditLog
import Foundation
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// Deleting and re-ingesting quarantined messages (``QuarantineActions``) through `/v1` and the
    /// command line against a running `serve`: previewed, recorded with the actor, once only.
    @Suite("serve: quarantine actions")
    struct QuarantineActionTests {
        @Test("a quarantined message is deleted with a reason or re-ingested once its body reads, through /v1 and the CLI")
        func deleteAndReingest() async throws {
            let (world, service, _) = try await OperatorAPITests.seeded()
            defer { service.process.stop() }
            let alice = OperatorAPITests.alice
            let listed = try await service.get("/v1/quarantined")
            let unreadable = try #require(listed.json?["messages"]?[0]?["messageId"]?.stringValue)

            // A body nobody reads is refused by a re-ingest, and a delete needs a reason.
            let refused = try await service.post("/v1/quarantined/\(unreadable)/reingest", "{}", token: alice)
            #expect(refused.status == 200 && refused.json?["outcome"]?.stringValue == "refused", "\(refused)")
            #expect(try await service.post("/v1/quarantined/\(unreadable)/delete", "{}", token: alice).status == 400)
            let noReason = try await world.cli("quarantined", "--delete", unreadable)
            #expect(noReason.status == 2 && noReason.stderr.contains("--reason"), "\(noReason)")
            #expect(
                try await service.post(
                    "/v1/quarantined/\(unreadable)/delete", #"{"reason":"x"}"#, token: RunningService.readerToken
                )
                .status == 403)
            #expect(try await service.post("/v1/quarantined/nobody/delete", #"{"reason":"x"}"#, token: alice).status == 404)

            // Previewed, then done once: recorded with the actor and reason, out of the list, a conflict after.
            let preview = try await service.post(
                "/v1/quarantined/\(unreadable)/delete", #"{"reason":"spam","dryRun":true}"#, token: alice)
            #expect(preview.json?["outcome"]?.stringValue == "would_delete" && preview.json?["actionId"] == .null)
            #expect(
                try await service.get("/v1/quarantined").json?["messages"]?.arrayValue?.count == 1, "a preview changes nothing")
            let (deleted, deletedJSON) = try await world.cliJSON(
                "quarantined", "--delete", unreadable, "--reason", "spam from a test sender", "--actor", "ops")
            #expect(deleted.status == 0 && deletedJSON?["outcome"]?.stringValue == "deleted", "\(deleted)")
            #expect(try await service.get("/v1/quarantined").json?["messages"]?.arrayValue == [])
            #expect(try await service.get("/v1/stats").json?["messages"]?["quarantined"]?.intValue == 0)
            let audit = try await service.get("/v1/audit?action=deleted")
            let action = try #require(audit.json?["actions"]?[0])
            #expect(action["actor"]?.stringValue == "ops" && action["reason"]?.stringValue == "spam from a test sender")
            #expect(action["messageId"]?.stringValue == unreadable)
            let again = try await service.post("/v1/quarantined/\(unreadable)/delete", #"{"reason":"again"}"#, token: alice)
            #expect(again.json?["outcome"]?.stringValue == "conflict", "\(again)")
            #expect(again.json?["message"]?.stringValue?.contains("ops deleted it") == true, "\(again)")

            // A message an older parser quarantined although its body reads now: artist 9's INSERT.
            try await world.putArtist("9", name: "Nine")
            let record = try #require(try await world.streamRecords().last)
            let log = try AuditLog(path: world.auditDatabasePath)
            _ = try await log.ingest(
                [
                    NewMessage(
                        messageID: "old-parser-9", body: world.forwardedBody([record.record]), format: .unrecognized,
                        receivedAt: Date(), disposition: .quarantined(reason: "unknown envelope (before the fix)"))
                ], at: Date())
            let (dry, dryJSON) = try await world.cliJSON("quarantined", "--reingest", "old-parser-9", "--dry-run")
            #expect(dry.status == 0 && dryJSON?["outcome"]?.stringValue == "would_reingest", "\(dry)")
            #expect(dryJSON?["changes"]?.intValue == 1)
            let done = try await service.post(
                "/v1/quarantined/old-parser-9/reingest", #"{"reason":"parser fixed"}"#, token: alice)
            #expect(done.json?["outcome"]?.stringValue == "reingested", "\(done)")
            let changeID = try #require(done.json?["changeIds"]?[0]?.intValue)
            let change = try await service.get("/v1/changes/\(changeID)")
            #expect(change.json?["documentId"]?.stringValue == "9", "\(change)")
            try await service.eventually("the re-ingested change applied by serve") {
                try await service.get("/v1/changes/\(changeID)").json?["status"]?.stringValue == "applied"
            }
            let verify = try await world.cli("verify")
            #expect(verify.status == 0, "the chain and every row verify: \(verify)")
        }
    }
}
