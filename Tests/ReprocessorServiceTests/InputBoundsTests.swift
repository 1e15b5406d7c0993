import Foundation
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// Out-of-range and malformed times, ages, counts, ids, rates and cursors on a real `serve`,
    /// through the console: 400 naming the field, never a trap; `serve` stays up. (`/v1`'s are
    /// answered in process: ``InProcessInputTests``.)
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
