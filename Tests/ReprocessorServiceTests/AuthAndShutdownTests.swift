import AWSClients
import AuditLog
import Foundation
import NIOHTTP1
import ReprocessorService
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// Operator tokens, the OpenAPI document, and a graceful stop in the middle of a drain.
    @Suite("serve: authentication, OpenAPI, graceful stop")
    struct AuthAndShutdownTests {
        @Test("tokens parse as name:token pairs (role operate) and match only whole tokens")
        func tokenParsing() throws {
            let tokens = try OperatorTokens(
                parsing: "alice:0123456789abcdef, bob:fedcba9876543210\n# a comment\ncarol:zzzzzzzzzzzzzzzz", source: "test")
            #expect(tokens.names == ["alice", "bob", "carol"])
            #expect(tokens.operatorName(presenting: "fedcba9876543210") == "bob")
            #expect(tokens.operatorName(presenting: "fedcba987654321") == nil, "a prefix is not the token")
            #expect(tokens.operatorName(presenting: "fedcba98765432100") == nil, "nor is a longer text")
            #expect(tokens.operatorName(presenting: "") == nil)
            #expect(OperatorTokens.none.isEmpty)

            for (text, expected) in [
                ("alice", "entry 1 is not name:role:token"), (":0123456789abcdef", "entry 1 needs a name"),
                ("alice:s3cret", "shorter than 16"), ("a:0123456789abcdef,a:0123456789abcdeg", "listed twice"),
            ] {
                do {
                    _ = try OperatorTokens(parsing: text, source: "OPERATOR_TOKENS")
                    Issue.record("\(text) should be refused")
                } catch {
                    #expect("\(error)".contains(expected), "\(error)")
                    #expect("\(error)".hasPrefix("OPERATOR_TOKENS: "))
                    #expect(!"\(error)".contains("s3cret"), "a token never appears in an error")
                }
            }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
            try "ops:0123456789abcdef\n".write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let fromFile = try OperatorTokens.load(
                file: nil, environment: ["OPERATOR_TOKENS_FILE": file.path, "OPERATOR_TOKENS": "x:1"])
            #expect(fromFile.names == ["ops"], "the file wins over the variable")
            #expect(try OperatorTokens.load(file: nil, environment: [:]).isEmpty)
        }

        @Test("mutating endpoints: 403 without configured tokens, 401 without a matching bearer token")
        func authenticationRefusals() async throws {
            let world = try await ReprocessorWorld.start()
            let open = try await RunningService.start(world, withReader: false)
            defer { open.process.stop() }
            let refused = try await open.post("/v1/changes/1/retry", nil, token: "anything-at-all-here")
            #expect(refused.status == 403, "\(refused)")
            #expect(refused.error?.contains("OPERATOR_TOKENS") == true)
            #expect(try await open.post("/v1/changes/retry", #"{"ids": [1]}"#).status == 403)
            #expect(try await open.get("/v1/stats", token: nil).status == 403, "reads need a token too")
            #expect(try await open.get("/healthz", token: nil).status == 200, "health stays open")

            // A second service on the same audit log waits for the lease but answers HTTP.
            let token = "alice-token-0123456789"
            let guarded = try await RunningService.start(world, environment: ["OPERATOR_TOKENS": "alice:\(token)"])
            defer { guarded.process.stop() }
            let attempts: [(String, HTTPAnswer)] = [
                ("no header", try await guarded.post("/v1/changes/1/retry")),
                ("wrong token", try await guarded.post("/v1/changes/1/retry", nil, token: "alice-token-0123456780")),
                ("a prefix of the token", try await guarded.post("/v1/changes/1/retry", nil, token: String(token.dropLast()))),
                ("basic auth", try await guarded.request(.POST, "/v1/changes/1/retry", authorization: "Basic YWxpY2U6eA==")),
                ("bearer without token", try await guarded.request(.POST, "/v1/changes/retry", authorization: "Bearer")),
            ]
            for (name, answer) in attempts {
                #expect(answer.status == 401, "\(name): \(answer)")
                #expect(answer.headers.first(name: "WWW-Authenticate") == "Bearer", "\(name)")
                #expect(answer.error != nil, "\(name)")
                #expect(!answer.body.contains(token), "\(name): the token is never echoed")
            }
            let accepted = try await guarded.post("/v1/changes/1/retry", nil, token: token)
            #expect(accepted.status == 404, "authenticated, then the unknown change is reported: \(accepted)")
            #expect(!guarded.process.recentOutput.joined().contains(token), "the token never reaches a log")

            let badTokens = try await world.cli(
                "serve", "--http", "127.0.0.1:0", environment: ["OPERATOR_TOKENS": "alice:xyz123"])
            #expect(badTokens.status == 2, "\(badTokens)")
            #expect(badTokens.stderr.contains("OPERATOR_TOKENS"))
            #expect(!badTokens.stderr.contains("xyz123"))
            try await guarded.eventually("the second service waits for the lease") {
                guarded.process.recentOutput.contains { $0.contains("waiting for the run lease, held by") }
            }
            open.process.send(signal: SIGTERM)
            #expect(await open.process.waitForExit(timeout: .seconds(60))?.status == 0)
            try await guarded.eventually("the second service takes the lease over") {
                guarded.process.recentOutput.contains { $0.contains("holding the run lease") }
            }

            let taken = try await world.cli("serve", "--http", String(guarded.baseURL.dropFirst("http://".count)))
            #expect(taken.status == 1, "\(taken)")
            #expect(taken.stderr.contains("cannot listen on 127.0.0.1:"), "\(taken)")
            let badAddress = try await world.cli("serve", "--http", "localhost")
            #expect(badAddress.status == 2, "\(badAddress)")
            #expect(badAddress.stderr.contains("HOST:PORT"))
        }

        @Test("every operation docs/openapi.yaml lists answers with a status it documents")
        func openAPIRoutesAnswer() async throws {
            let document = try OpenAPIDocument.load()
            #expect(
                document.operations.count == 24,
                "health, readiness, metrics, nine queries, eight actions, two quarantine actions, reconcile runs and start")
            let world = try await ReprocessorWorld.start()
            try await world.putArtist("5", name: "Five")
            let token = "openapi-token-0123456789"
            let service = try await RunningService.start(world, environment: ["OPERATOR_TOKENS": "checker:\(token)"])
            defer { service.process.stop() }
            try await world.send([world.failedBatchBody(try await world.streamRecords(), requestID: "openapi")])
            try await service.eventually("the change applied") {
                try await service.get("/v1/stats").json?["changes"]?["applied"]?.intValue == 1
            }
            let first = try #require(try await service.get("/v1/changes").json?["changes"]?[0])
            let id = try #require(first["id"]?.intValue)
            let messageID = try #require(first["messageId"]?.stringValue)
            for operation in document.operations {
                let path = operation.path.replacingOccurrences(of: "{id}", with: String(id))
                    .replacingOccurrences(of: "{key}", with: "ARTIST%235")
                    .replacingOccurrences(of: "{messageId}", with: messageID)
                let answer: HTTPAnswer
                if operation.method == "post" {
                    let body =
                        operation.path.contains("{id}") || operation.path.contains("{messageId}")
                        ? #"{"reason": "openapi check", "dryRun": true}"#
                        : "{\"ids\": [\(id)], \"reason\": \"openapi check\", \"dryRun\": true}"
                    answer = try await service.post(path, body, token: token)
                } else {
                    answer = try await service.get(path)
                }
                #expect(operation.statuses.contains(answer.status), "\(operation.method) \(operation.path): \(answer)")
                #expect(answer.status != 404, "\(operation.method) \(operation.path) exists")
            }
        }

        @Test("SIGTERM in the middle of a drain: exit 0, every message in the audit log or still on the queue, lease released")
        func gracefulStopLosesNothing() async throws {
            let world = try await ReprocessorWorld.start()
            let total = 600
            try await world.send((0..<total).map { "message \($0) is not a DLQ record" })
            let service = try await RunningService.start(world, arguments: ["--concurrency", "1"])

            try await service.eventually("the drain started", timeout: .seconds(120)) {
                (try await service.metric("dlq_messages_received_total") ?? 0) > 0
            }
            service.process.send(signal: SIGTERM)
            let exit = await service.process.waitForExit(timeout: .seconds(60))
            #expect(exit?.status == 0 && exit?.killedBySignal == false, "\(String(describing: exit))")
            #expect(service.process.recentOutput.contains { $0.contains("released the run lease") })

            let auditLog = try AuditLog(path: world.auditDatabasePath)
            let stored = try await auditLog.stats().messagesTotal
            let counts = try await world.sqs.approximateMessageCounts(queueURL: world.queueURL)
            #expect(stored < total, "the stop came in the middle of the drain (\(stored) of \(total) stored)")
            #expect(counts.inFlight == 0, "nothing received was left hidden on the queue")
            #expect(stored + counts.visible == total, "each message is in the audit log or on the queue")

            let run = try await world.cli("run", "--once")
            #expect(!run.stdout.contains("another run holds the lease"), "the lease was released: \(run)")
            #expect(try await auditLog.stats().messagesTotal == total, "the rest is drained by the next run")
            // SQS delivers at least once: a message two receivers got at once is deleted only with
            // its newest receipt handle, so a copy can stay hidden until its visibility timeout
            // (moto does this under load). What is left on the queue must be copies of stored
            // messages, which later runs recognise and delete: nothing stays for good.
            var after = try await world.sqs.approximateMessageCounts(queueURL: world.queueURL)
            var runs = 1
            // Bounded well past the queue's 120 s visibility timeout; normally not entered at all.
            let deadline = ContinuousClock.now + .seconds(240)
            while after.visible + after.inFlight > 0 && ContinuousClock.now < deadline {
                if after.visible > 0 {
                    _ = try await world.cli("run", "--once")
                    runs += 1
                } else {
                    try await Task.sleep(for: .seconds(2))
                }
                after = try await world.sqs.approximateMessageCounts(queueURL: world.queueURL)
            }
            #expect(after.visible + after.inFlight == 0, "\(after) after \(runs) runs; \(run)")
            #expect(try await auditLog.stats().messagesTotal == total, "later runs stored nothing new")
            let verify = try await world.cli("verify")
            #expect(verify.status == 0, "\(verify)")
        }
    }
}
