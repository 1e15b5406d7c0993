import Foundation
import NIOHTTP1
import StreamModel
import Synchronization
import TestSupport
import Testing

@testable import ReprocessorService

extension ServeTests {
    /// Roles on operator tokens, open and cheap health endpoints, and the bounds on input.
    @Suite("serve: roles, health cache, input bounds")
    struct AccessAndLimitsTests {
        static let reader = "reader-token-0123456789"
        static let operator_ = "operator-token-0123456789"
        static let tokens = ["OPERATOR_TOKENS": "rita:read:\(reader),otto:operate:\(operator_)"]

        @Test("tokens are name:role:token (name:token means operate); an unknown role or a token under two names is refused")
        func roles() throws {
            let tokens = try OperatorTokens(
                parsing: "rita:read:\(Self.reader)\notto:operate:\(Self.operator_)\nlegacy:0123456789abcdef", source: "test")
            #expect(tokens.operatorPresenting(Self.reader)?.name == "rita")
            #expect(tokens.operatorPresenting(Self.reader)?.role == .read)
            #expect(tokens.operatorPresenting(Self.operator_)?.role == .operate)
            #expect(tokens.operatorPresenting("0123456789abcdef")?.role == .operate, "the old form means operate")
            #expect(tokens.namesWithRoles == ["rita (read)", "otto (operate)", "legacy (operate)"])
            for (text, expected) in [
                ("a:admin:0123456789abcdef", "has role \"admin\"; use read or operate"),
                ("a:read:0123456789abcdef,b:operate:0123456789abcdef", "\"b\" has the same token as \"a\""),
                ("a:0123456789abcdef,b:read:0123456789abcdef", "\"b\" has the same token as \"a\""),
            ] {
                do {
                    _ = try OperatorTokens(parsing: text, source: "OPERATOR_TOKENS")
                    Issue.record("\(text) should be refused")
                } catch {
                    #expect("\(error)".contains(expected), "\(error)")
                    #expect(!"\(error)".contains("0123456789abcdef"), "a token never appears in an error")
                }
            }
        }

        @Test("readiness runs one round of checks for any number of requests within its age, and a new one after")
        func readinessCache() async throws {
            let cache = ReadinessCache()
            let rounds = Mutex(0)
            let round: @Sendable () async -> ReadinessCache.Answer = {
                rounds.withLock { $0 += 1 }
                return (true, .object([:]))
            }
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<200 {
                    group.addTask { _ = await cache.answer(maxAge: .seconds(3600), round) }
                }
            }
            #expect(rounds.withLock { $0 } == 1)
            _ = await cache.answer(maxAge: .zero, round)
            #expect(rounds.withLock { $0 } == 2, "an answer older than the age is checked again")
        }

        @Test("reads need a read or operate token; a read token gets 403 on POST; health and metrics stay open")
        func readAndOperate() async throws {
            let world = try await ReprocessorWorld.start()
            let service = try await RunningService.start(world, environment: Self.tokens, withReader: false)
            defer { service.process.stop() }
            for path in ["/healthz", "/readyz", "/metrics"] {
                #expect(try await service.get(path, token: nil).status == 200, "\(path) is open")
            }
            let anonymous = try await service.get("/v1/stats", token: nil)
            #expect(anonymous.status == 401, "\(anonymous)")
            #expect(anonymous.headers.first(name: "WWW-Authenticate") == "Bearer")
            #expect(try await service.get("/v1/stats", token: "not-a-known-token-000").status == 401)
            #expect(try await service.get("/v1/stats", token: Self.reader).status == 200)
            #expect(try await service.get("/v1/changes?limit=5", token: Self.operator_).status == 200)

            let refused = try await service.post("/v1/changes/1/retry", #"{"dryRun": true}"#, token: Self.reader)
            #expect(refused.status == 403, "\(refused)")
            #expect(refused.error?.contains("\"rita\" has a read token") == true, "\(refused)")
            #expect(!refused.body.dropLast().contains("\n"), "one line")
            let many = try await service.post("/v1/changes/retry", #"{"ids": [1]}"#, token: Self.reader)
            #expect(many.status == 403)
            let allowed = try await service.post("/v1/changes/1/retry", #"{"dryRun": true}"#, token: Self.operator_)
            #expect(allowed.status == 404, "authorized; the change does not exist: \(allowed)")
            #expect(!service.process.recentOutput.joined().contains(Self.reader), "tokens never reach a log")

            let duplicate = try await world.cli(
                "serve", "--http", "127.0.0.1:0",
                environment: ["OPERATOR_TOKENS": "a:read:same-token-0123456789,b:operate:same-token-0123456789"])
            #expect(duplicate.status == 2, "\(duplicate)")
            #expect(duplicate.stderr.contains("the same token"), "\(duplicate)")
            #expect(!duplicate.stderr.contains("same-token-0123456789"))
        }

        @Test("expensive endpoints run a bounded number at a time; beyond it 429 with Retry-After, cheap reads still answer")
        func boundedExpensiveRequests() async throws {
            let world = try await ReprocessorWorld.start()
            let service = try await RunningService.start(world, environment: Self.tokens, withReader: false)
            defer { service.process.stop() }
            // Four slow actions hold every place: ids that report not_found at once, paced at one per 100 s.
            let slow = #"{"ids": [999991, 999992, 999993], "rate": 0.01, "dryRun": true}"#
            let holders = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<ExpensiveRequests.limit {
                        group.addTask {
                            // A holder that lost the race for a place to the poll below tries again.
                            while !Task.isCancelled {
                                let answer = try? await service.post("/v1/changes/retry", slow, token: Self.operator_)
                                if answer?.status != 429 { return }
                                try? await Task.sleep(for: .milliseconds(50))
                            }
                        }
                    }
                }
            }
            defer { holders.cancel() }
            try await service.eventually("the fifth expensive request is refused") {
                try await service.get("/v1/errors", token: Self.reader).status == 429
            }
            let busy = try await service.get("/v1/history/8", token: Self.reader)
            #expect(busy.status == 429, "\(busy)")
            #expect(busy.headers.first(name: "Retry-After") == "1")
            #expect(busy.error?.hasPrefix("busy:") == true)
            #expect(try await service.get("/v1/stats", token: Self.reader).status == 200, "cheap reads are not bounded")
            #expect(try await service.get("/readyz", token: nil).status == 200)
        }

        @Test("bad input is 4xx with one line of JSON naming the field: body too large, rate out of range, bad cursor")
        func inputBounds() async throws {
            let world = try await ReprocessorWorld.start()
            let service = try await RunningService.start(world, environment: Self.tokens, withReader: false)
            defer { service.process.stop() }
            let huge = "{\"reason\": \"" + String(repeating: "x", count: 70 * 1024) + "\"}"
            let tooLarge = try await service.post("/v1/changes/1/skip", huge, token: Self.operator_)
            #expect(tooLarge.status == 413, "\(tooLarge)")
            #expect(tooLarge.error?.contains("larger than") == true)

            for rate in ["1e-10", "0", "-1", "10001", "1e308", "\"fast\""] {
                let answer = try await service.post("/v1/changes/1/retry", "{\"rate\": \(rate)}", token: Self.operator_)
                #expect(answer.status == 400, "rate \(rate): \(answer)")
                #expect(answer.error?.contains("\"rate\"") == true, "rate \(rate): \(answer)")
            }
            let fine = try await service.post("/v1/changes/1/retry", #"{"rate": 0.01}"#, token: Self.operator_)
            #expect(fine.status == 404, "a rate in range passes, then the unknown change is reported: \(fine)")

            try await world.send(["not a DLQ record", "nor this"])
            try await service.eventually("two messages quarantined: two actions") {
                try await service.get("/v1/stats", token: Self.reader).json?["messages"]?["quarantined"]?.intValue == 2
            }
            let actionsCursor = try #require(
                try await service.get("/v1/audit?limit=1", token: Self.reader).json?["next"]?.stringValue)
            for path in [
                "/v1/changes?cursor=garbage", "/v1/audit?cursor=%00%01", "/v1/quarantined?cursor=q:1:x",
                "/v1/changes?cursor=q:1:2", "/v1/changes?cursor=\(actionsCursor)", "/v1/quarantined?cursor=\(actionsCursor)",
            ] {
                let answer = try await service.get(path, token: Self.reader)
                #expect(answer.status == 400, "\(path): \(answer)")
                #expect(answer.error?.hasPrefix("cursor") == true, "\(path): \(answer)")
            }
            #expect(try await service.get("/healthz", token: nil).status == 200, "the process is alive")

            let cli = try await world.cli("retry", "1", "--rate", "1e-10")
            #expect(cli.status == 2, "\(cli)")
            #expect(cli.stderr.contains("--rate 1e-10 is out of range"), "\(cli)")
        }
    }
}
