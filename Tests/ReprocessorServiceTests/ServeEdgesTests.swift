import Foundation
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

@testable import ReprocessorService

extension ServeTests {
    /// What `serve` says and does at its edges: a failure of its own, no tokens, a busy port,
    /// an oversized body sent all at once, and logins that arrive together.
    @Suite("serve: internal errors, start-up, oversized bodies, concurrent logins")
    struct ServeEdgesTests {
        static let reader = "edges-reader-token-0123456789"
        static let operator_ = "edges-operator-token-0123456789"
        static let tokens = ["OPERATOR_TOKENS": "rita:read:\(reader),otto:operate:\(operator_)"]

        @Test(
            "a 500 says internal error with a request id, in /v1 and the console; the log line names the id and the cause; streamed results and console jobs that fail name no internals either"
        )
        func internalErrorNamesARequestID() async throws {
            let world = try await ReprocessorWorld.start()
            try await world.putArtist("1", name: "One")
            try await world.send([world.failedBatchBody(try await world.streamRecords(), requestID: "broken")])
            let run = try await world.cli("run", "--once")
            #expect(run.status == 0, "\(run)")
            let (_, list) = try await world.cliJSON("list")
            let changeID = try #require(list?["changes"]?[0]?["id"]?.intValue)
            // An image the program cannot read: the audit log's reader fails, which no request caused.
            let edit = try await CommandRunner.run(
                "/usr/bin/sqlite3",
                [world.auditDatabasePath, "UPDATE change_images SET new_image_json = '{\"S\": internal-detail-7f3a'"],
                environment: ProcessInfo.processInfo.environment)
            #expect(edit.status == 0, "\(edit)")
            let service = try await RunningService.start(world, environment: Self.tokens, withReader: false)
            defer { service.process.stop() }

            let answer = try await service.get("/v1/changes/\(changeID)", token: Self.reader)
            #expect(answer.status == 500, "\(answer)")
            let id = try #require(answer.json?["requestId"]?.stringValue, "\(answer)")
            #expect(answer.error == "internal error (request id \(id)): the log says what failed", "\(answer)")
            #expect(answer.headers.first(name: "X-Request-Id") == id)
            #expect(!answer.body.contains("internal-detail") && !answer.body.contains("not JSON"), "no internals: \(answer)")
            try await service.eventually("the log line names the request and the cause") {
                service.process.recentOutput.contains { $0.contains("request \(id) failed") && $0.contains("not JSON") }
            }

            // Failures after the answer began (its results stream) name no internals either.
            let streamed = try await service.post(
                "/v1/changes/retry", "{\"ids\": [\(changeID)], \"dryRun\": true}", token: Self.operator_)
            #expect(streamed.status == 200, "\(streamed)")
            #expect(streamed.error == "internal error: stopped part-way; the log says what failed", "\(streamed)")
            #expect(!streamed.body.contains("internal-detail") && !streamed.body.contains("not JSON"))
            let operate = ConsoleBrowser(baseURL: service.baseURL)
            _ = try await operate.logIn(Self.operator_)
            let started = try await operate.post(
                "/ui/actions/run",
                [
                    ("csrf", try ConsoleBrowser.csrf(in: try await operate.get("/ui").body)), ("command", "retry"),
                    ("id", String(changeID)),
                ])
            let job = try #require(started.headers.first(name: "Location"), "\(started)")
            try await service.eventually("the job stops") {
                try await operate.get(job + "/progress").json?["finished"] == .bool(true)
            }
            let jobPage = try await operate.get(job)
            let jobID = String(job.split(separator: "/").last ?? "")
            #expect(jobPage.body.contains("internal error (job \(jobID))"), "\(jobPage.body.prefix(3000))")
            #expect(!jobPage.body.contains("internal-detail") && !jobPage.body.contains("not JSON"))
            #expect(service.process.recentOutput.contains { $0.contains("console job \(jobID)") && $0.contains("not JSON") })

            let browser = ConsoleBrowser(baseURL: service.baseURL)
            _ = try await browser.logIn(Self.reader)
            let page = try await browser.get("/ui/changes/\(changeID)")
            #expect(page.status == 500, "\(page)")
            let pageID = try #require(page.headers.first(name: "X-Request-Id"))
            #expect(pageID != id, "each request has its own id")
            #expect(page.body.contains("internal error, request id \(pageID)"), "\(page.body.prefix(2000))")
            #expect(!page.body.contains("internal-detail") && !page.body.contains("not JSON"))
            try await service.eventually("the console's log line names its request") {
                service.process.recentOutput.contains {
                    $0.contains("console request \(pageID) failed") && $0.contains("not JSON")
                }
            }
        }

        @Test("without operator tokens serve warns at start and /readyz says the API is disabled; with them, enabled")
        func noTokensIsSaid() async throws {
            let world = try await ReprocessorWorld.start()
            let bare = try await RunningService.start(world, withReader: false)
            defer { bare.process.stop() }
            #expect(
                bare.process.recentOutput.contains {
                    $0.contains("warning") && $0.contains("no operator token is configured") && $0.contains("/v1 answers 403")
                }, "\(bare.process.recentOutput.suffix(10))")
            let ready = try await bare.get("/readyz", token: nil)
            #expect(ready.json?["api"]?.stringValue?.hasPrefix("disabled: no operator token is configured") == true, "\(ready)")
            #expect(ready.status == 200, "ingest and replay still work: \(ready)")
            bare.process.stop()

            let configured = try await RunningService.start(world, environment: Self.tokens, withReader: false)
            defer { configured.process.stop() }
            #expect(try await configured.get("/readyz", token: nil).json?["api"]?.stringValue == "enabled")
            #expect(!configured.process.recentOutput.contains { $0.contains("no operator token") })
        }

        @Test("--http on a busy port: exit 1 with one line saying so, and no work started before it")
        func busyPort() async throws {
            let world = try await ReprocessorWorld.start()
            let first = try await RunningService.start(world, environment: Self.tokens, withReader: false)
            defer { first.process.stop() }
            // Messages waiting on the queue: a second serve that began to drain before failing would say so.
            try await world.send(["not a DLQ record"])
            let address = String(first.baseURL.dropFirst("http://".count))
            let second = try await world.cli("serve", "--http", address, "--log-level", "info", environment: Self.tokens)
            #expect(second.status == 1, "\(second)")
            let lines = second.stderr.split(separator: "\n")
            let errors = lines.filter { $0.contains("cannot listen") }
            #expect(errors.count == 1, "\(second.stderr)")
            #expect(errors.first?.contains("cannot listen on \(address)") == true, "\(second.stderr)")
            #expect(
                !second.stderr.contains("ingest failed") && !second.stderr.lowercased().contains("cancel"), "\(second.stderr)")
            #expect(!second.stderr.contains("run lease"), "nothing was started: \(second.stderr)")
            #expect(!second.stdout.contains("serving on"), "\(second)")
        }

        @Test("a body over the limit sent without Expect: 100-continue gets 413 and the connection closes, on /v1 and /ui")
        func oversizedBodyIsAnsweredAndClosed() async throws {
            let world = try await ReprocessorWorld.start()
            let service = try await RunningService.start(world, environment: Self.tokens, withReader: false)
            defer { service.process.stop() }
            let port = try #require(Int(service.baseURL.split(separator: ":").last ?? ""))
            for (path, type) in [("/v1/changes/1/skip", "application/json"), ("/ui/login", "application/x-www-form-urlencoded")] {
                let (received, closed) = try await RawHTTPConnection.blocking {
                    let connection = try RawHTTPConnection(port: port, timeout: 20)
                    let body = [UInt8](repeating: UInt8(ascii: "x"), count: 4 << 20)
                    // All of it before reading, as Python's urllib sends.
                    try connection.send(
                        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(Self.operator_)\r\n"
                            + "Content-Type: \(type)\r\nContent-Length: \(body.count)\r\n\r\n")
                    try connection.send(body)
                    return connection.readUntilClosed()
                }
                #expect(received.hasPrefix("HTTP/1.1 413"), "\(path): \(received.prefix(300))")
                #expect(received.contains("larger than 65536 bytes"), "\(path): \(received.prefix(300))")
                #expect(closed, "\(path): the connection is closed after the answer")
            }
            let (received, closed) = try await RawHTTPConnection.blocking {
                let connection = try RawHTTPConnection(port: port, timeout: 20)
                try connection.send(
                    "POST /v1/changes/retry HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 10000000\r\n\r\n"
                )
                return connection.readUntilClosed()
            }
            #expect(received.hasPrefix("HTTP/1.1 413") && closed, "asked first, refused at once: \(received.prefix(300))")
            #expect(try await service.get("/healthz", token: nil).status == 200)
        }

        @Test("30 wrong-token logins at once from one address: exactly the allowed number are checked, the rest 429")
        func concurrentLoginsAreThrottledExactly() async throws {
            let world = try await ReprocessorWorld.start()
            // Many long tokens make looking a token up slow (each is compared in constant time), which
            // widens the moment between a throttle's check and its count, were they two steps.
            let file = world.directory.appendingPathComponent("operators")
            let fillers = (0..<20).map { "filler\($0):read:\($0)-\(String(repeating: "x", count: 100_000))" }
            try (["rita:read:\(Self.reader)", "otto:operate:\(Self.operator_)"] + fillers).joined(separator: "\n")
                .write(to: file, atomically: true, encoding: .utf8)
            let service = try await RunningService.start(
                world, arguments: ["--operator-tokens-file", file.path], withReader: false)
            defer { service.process.stop() }
            let port = try #require(Int(service.baseURL.split(separator: ":").last ?? ""))
            let browser = ConsoleBrowser(baseURL: service.baseURL)
            let csrf = try ConsoleBrowser.csrf(in: try await browser.get("/ui/login").body)
            let loginCookie = try #require(browser.cookies["dlq_console_login"])
            let form = "csrf=\(csrf)&token=not-the-token-0000000000"
            let request = Array(
                ("POST /ui/login HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: dlq_console_login=\(loginCookie)\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)").utf8
            )
            // Rounds from different addresses (each has its own count): all but the last byte of every
            // request is sent, then the last bytes together, so the server handles them at once.
            for round in 0..<6 {
                let source = "127.0.0.\(20 + round)"
                let statuses = try await RawHTTPConnection.blocking { () -> [Int] in
                    let connections = try (0..<30).map { _ in try RawHTTPConnection(port: port, source: source) }
                    for connection in connections { try connection.send(request.dropLast()) }
                    for connection in connections { try connection.send(request.suffix(1)) }
                    return try connections.map { try $0.readResponse().status }
                }
                let counts = Dictionary(grouping: statuses) { $0 }.mapValues(\.count)
                #expect(
                    counts == [401: LoginThrottle.failuresAllowed, 429: 30 - LoginThrottle.failuresAllowed],
                    "round \(round) from \(source): \(counts)")
            }
            #expect(
                try await ConsoleBrowser(baseURL: service.baseURL).logIn(Self.operator_).status == 303,
                "127.0.0.1 has its own count")
        }
    }
}
