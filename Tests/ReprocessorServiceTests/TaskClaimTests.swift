import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// Claims belong to a task, not a process: on a PostgreSQL store one `serve` replays, answers
    /// operators and reconciles at once, each task claiming its documents as a claimant of its own.
    @Suite("serve: claims belong to a task")
    struct TaskClaimTests {
        static let operatorToken = "otto-operate-token-0123456789"

        @Test("an operator retry of a document a replay round holds is a conflict; the round completes and leaves no intent")
        func retryDuringARound() async throws {
            let world = try await ReprocessorWorld.start()
            let database = try await SharedPostgresServer.newDatabase()
            let artists = (1...5).map(String.init)
            for id in artists { try await world.putArtist(id, name: "Artist \(id)") }
            let records = try await world.streamRecords()
            try await world.send([world.forwardedBody(records.map(\.record))])
            let ingest = try await world.cli("ingest", "--wait", "0", environment: ["AUDIT_DB": database])
            #expect(ingest.status == 0, "\(ingest)")
            let log = try await AuditLog(location: database)
            let changes = try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows
            #expect(changes.count == artists.count)
            let retried = try #require(changes.first { $0.documentID == "3" })

            // The first replay round stops once it has claimed its documents and recorded its
            // intents, just before it writes, until the test lets it go on.
            let resumeFile = world.directory.appendingPathComponent("resume-round").path
            let service = try await RunningService.start(
                world,
                environment: [
                    "AUDIT_DB": database, "DLQ_LEASE_TTL": "300",
                    "OPERATOR_TOKENS": "otto:operate:\(Self.operatorToken)",
                    "DLQ_TEST_PAUSE_AT": "before-write", "DLQ_TEST_PAUSE_SECONDS": "600",
                    "DLQ_TEST_RESUME_FILE": resumeFile,
                ])
            defer { service.process.stop() }
            try await service.eventually("the round holds its claims, paused before its write", timeout: .seconds(120)) {
                FileManager.default.fileExists(atPath: resumeFile + ".paused")
            }
            let holder = try #require(try await log.claimHolder(of: "3", now: Date()), "the round holds document 3")

            let answer = try await service.post("/v1/changes/\(retried.id)/retry", "{}", token: Self.operatorToken)
            #expect(answer.status == 200, "\(answer)")
            let result = answer.json?["results"]?[0]
            #expect(result?["outcome"]?.stringValue == "conflict", "\(answer)")
            #expect(result?["message"]?.stringValue?.contains("document 3") == true, "\(answer)")
            #expect(try await log.claimHolder(of: "3", now: Date()) == holder, "the round's claim was not taken over")

            FileManager.default.createFile(atPath: resumeFile, contents: nil)
            try await service.eventually("the round applies every change", timeout: .seconds(120)) {
                let rows = try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows
                return rows.count == artists.count && rows.allSatisfy { $0.status == .applied }
            }
            #expect(try await log.openWriteIntents(recordedBefore: Date(), limit: 10).isEmpty, "no write intent left open")
            for id in artists {
                #expect(try await world.liveDocument(id)?.source["name"]?.stringValue == "Artist \(id)")
                #expect(try await log.claimHolder(of: id, now: Date()) == nil, "every claim given back")
            }
            let output = service.process.recentOutput.joined(separator: "\n")
            #expect(!output.contains("expired or was taken over"), "the round was not aborted: \(output)")
            #expect(!output.contains("replay pass failed"), "\(output)")
            let history = try await log.actions(forChange: retried.id)
            #expect(history.map(\.action).contains(.applied), "\(history)")
        }
    }
}
