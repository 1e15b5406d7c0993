import Foundation
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// Out-of-range and malformed times, ages, counts, ids, rates and cursors on a real `serve`,
    /// through `/v1` and the console: 400 naming the field, never a trap; `serve` stays up.
    @Suite("serve: bounded input")
    struct InputBoundsTests {
        static let reader = "bounds-reader-token-0123456789"
        static let operator_ = "bounds-operator-token-0123456789"
        static let tokens = ["OPERATOR_TOKENS": "rita:read:\(reader),otto:operate:\(operator_)"]

        /// Times no database millisecond can hold, ages reaching before 1970, and their spellings.
        static let badTimes = [
            "1e300d", "1e300s", "99999999999999999999d", "9999999999999d", "inf" + "d", "nan" + "h", "-5m", "1e3h",
            "10000-01-01", "1969-12-31T23:59:59Z", "\u{0663}d", "2026-13-45",
        ]

        @Test("GET /v1 with times, limits and ids out of range: 400 naming the field; serve stays up")
        func api() async throws {
            let world = try await ReprocessorWorld.start()
            let service = try await RunningService.start(world, environment: Self.tokens, withReader: false)
            defer { service.process.stop() }
            var paths: [(String, String)] = []
            for time in Self.badTimes.map(ConsoleBrowser.encode) {
                paths += [
                    ("/v1/changes?since=\(time)", "since"), ("/v1/changes?until=\(time)", "until"),
                    ("/v1/history/1?at=\(time)", "at"), ("/v1/audit?since=\(time)", "since"),
                    ("/v1/audit?until=\(time)", "until"), ("/v1/audit/export?format=csv&since=\(time)", "since"),
                ]
            }
            for limit in ["0", "-1", "1001", "99999999999999999999", "-9223372036854775809", "1e3", "1.5", "%F0%9F%8E%B8"] {
                paths += [
                    ("/v1/changes?limit=\(limit)", "limit"), ("/v1/audit?limit=\(limit)", "limit"),
                    ("/v1/quarantined?limit=\(limit)", "limit"), ("/v1/batches?limit=\(limit)", "limit"),
                ]
            }
            paths += [
                ("/v1/reconcile?limit=101", "limit"), ("/v1/reconcile?limit=0", "limit"),
                ("/v1/changes/0", "change id"), ("/v1/changes/-1", "change id"),
                ("/v1/changes/9223372036854775808", "change id"), ("/v1/changes/99999999999999999999", "change id"),
                ("/v1/changes?cursor=" + String(repeating: "A", count: 600), "cursor"),
            ]
            for (path, field) in paths {
                let answer = try await service.get(path, token: Self.reader)
                #expect(answer.status == 400, "\(path): \(answer)")
                #expect(answer.error?.hasPrefix(field + " ") == true, "\(path) names \(field): \(answer)")
            }
            let fine = try await service.get("/v1/changes?since=2d&until=9999-12-31&limit=1000", token: Self.reader)
            #expect(fine.status == 200, "times and limits in range pass: \(fine)")

            for (body, field) in [
                (#"{"ids": [0]}"#, "\"ids\""), (#"{"ids": [9223372036854775808]}"#, "\"ids\""), (#"{"ids": [-3]}"#, "\"ids\""),
                (#"{"ids": [1], "rate": 1e-12}"#, "\"rate\""), (#"{"ids": [1], "rate": 1e999}"#, "\"rate\""),
                (#"{"filter": {"since": "1e300d"}}"#, "since"), (#"{"filter": {"until": "99999999999999d"}}"#, "until"),
            ] {
                let answer = try await service.post("/v1/changes/retry", body, token: Self.operator_)
                #expect(answer.status == 400, "\(body): \(answer)")
                #expect(answer.error?.hasPrefix(field + " ") == true, "\(body) names \(field): \(answer)")
            }
            for (body, field) in [
                (#"{"dryRun": true, "segments": 0}"#, "\"segments\""), (#"{"dryRun": true, "segments": 1e6}"#, "\"segments\""),
                (#"{"dryRun": true, "segments": 2.5}"#, "\"segments\""), (#"{"dryRun": true, "rate": 1e-12}"#, "\"rate\""),
                (#"{"reason": "r", "rate": 100000}"#, "\"rate\""),
            ] {
                let answer = try await service.post("/v1/reconcile", body, token: Self.operator_)
                #expect(answer.status == 400, "\(body): \(answer)")
                #expect(answer.error?.hasPrefix(field + " ") == true, "\(body) names \(field): \(answer)")
            }
            #expect(service.process.isRunning)
            #expect(try await service.get("/healthz", token: nil).status == 200, "serve is still up")
            #expect(try await service.get("/v1/reconcile", token: Self.reader).json?["runs"]?.arrayValue?.isEmpty == true)
        }

        @Test("the console's changes, history and audit pages with times out of range: a 400 page naming the field")
        func console() async throws {
            let world = try await ReprocessorWorld.start()
            let service = try await RunningService.start(world, environment: Self.tokens, withReader: false)
            defer { service.process.stop() }
            let browser = ConsoleBrowser(baseURL: service.baseURL)
            #expect(try await browser.logIn(Self.reader).status == 303)
            for time in Self.badTimes.map(ConsoleBrowser.encode) {
                for (path, field) in [
                    ("/ui/changes?since=\(time)", "since"), ("/ui/changes?until=\(time)", "until"),
                    ("/ui/history?key=1&at=\(time)", "at"), ("/ui/audit?since=\(time)", "since"),
                    ("/ui/audit/export?format=csv&until=\(time)", "until"),
                ] {
                    let page = try await browser.get(path)
                    #expect(page.status == 400, "\(path): \(page)")
                    #expect(page.body.contains(field + " "), "\(path) names \(field): \(page)")
                }
            }
            for path in ["/ui/changes/0", "/ui/changes/99999999999999999999", "/ui/changes?cursor=%01"] {
                #expect(try await browser.get(path).status == 400, "\(path)")
            }
            let operatorBrowser = ConsoleBrowser(baseURL: service.baseURL)
            #expect(try await operatorBrowser.logIn(Self.operator_).status == 303)
            let csrf = try ConsoleBrowser.csrf(in: try await operatorBrowser.get("/ui").body)
            for (form, field) in [
                ([("id", "0")], "change id"), ([("id", "99999999999999999999")], "change id"),
                ([("id", "1"), ("expected", "-1")], "expected"), ([("f_since", "1e300d")], "since"),
            ] {
                let page = try await operatorBrowser.post(
                    "/ui/actions/run", [("csrf", csrf), ("command", "retry")] + form)
                #expect(page.status == 400, "\(form): \(page)")
                #expect(page.body.contains(field + " "), "\(form) names \(field): \(page)")
            }
            #expect(try await browser.get("/ui/changes?since=30m").status == 200)
            #expect(try await browser.get("/ui/history?key=1&at=2026-11-24").status == 200)
            #expect(service.process.isRunning)
            #expect(try await service.get("/healthz", token: nil).status == 200, "serve is still up")
        }
    }
}
