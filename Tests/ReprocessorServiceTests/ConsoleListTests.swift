import Foundation
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// The console's lists, search, overview and quarantine forms at the HTTP level: what they
    /// refuse, and what a reader may not do (the browser test walks what they show).
    @Suite("serve: console lists, search and quarantine forms")
    struct ConsoleListTests {
        @Test("order, limit, refresh and search are bounded; a cursor keeps its order; a reader cannot act on the quarantine")
        func boundsAndRoles() async throws {
            let fixture = try await ConsoleFixture.start()
            defer { fixture.service.process.stop() }
            let alice = ConsoleBrowser(baseURL: fixture.service.baseURL)
            _ = try await alice.logIn(ConsoleFixture.operatorToken)

            for path in [
                "/ui/changes?order=sideways", "/ui/changes?limit=0", "/ui/audit?limit=1001", "/ui?refresh=1",
                "/ui?refresh=soon", "/ui/search?q=" + String(repeating: "x", count: 201),
            ] {
                let page = try await alice.get(path)
                #expect(page.status == 400, "\(path): \(page.status)")
            }
            // Three changes, newest first, one a page: the second page's cursor belongs to that order.
            let first = try await alice.get("/ui/changes?limit=1")
            #expect(first.body.contains("1–1 of 3 changes"), "\(first.body.prefix(3000))")
            let next = try #require(
                first.body.range(of: #"href="(/ui/changes\?[^"]*cursor=[^"]*)" rel="next""#, options: .regularExpression))
            let link = String(first.body[next]).dropFirst(6).prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
            #expect(link.contains("from=2") && link.contains("order=newest"), "\(link)")
            let second = try await alice.get(link)
            #expect(second.status == 200 && second.body.contains("2–2 of 3 changes"), "\(second.body.prefix(3000))")
            let otherOrder = try await alice.get(link.replacingOccurrences(of: "order=newest", with: "order=oldest"))
            #expect(otherOrder.status == 400 && otherOrder.body.contains("first page"), "\(otherOrder.status)")

            // 1 is a change id and an artist id: both are listed.
            let both = try await alice.get("/ui/search?q=1")
            #expect(both.status == 200 && both.body.contains("2 matches"), "\(both.body.prefix(3000))")
            let nothing = try await alice.get("/ui/search?q=nobody-at-all")
            #expect(nothing.status == 200 && nothing.body.contains("Nothing matches"))

            let rita = ConsoleBrowser(baseURL: fixture.service.baseURL)
            _ = try await rita.logIn(ConsoleFixture.readerToken)
            let quarantined = try await rita.get("/ui/quarantined")
            #expect(quarantined.status == 200 && !quarantined.body.contains("/ui/quarantined/preview"), "a reader sees no action")
            let csrf = try ConsoleBrowser.csrf(in: quarantined.body)
            let messageID = try #require(
                try await fixture.service.get("/v1/quarantined", token: ConsoleFixture.readerToken).json?["messages"]?[0]?[
                    "messageId"]?.stringValue)
            for path in ["/ui/quarantined/preview", "/ui/quarantined/run"] {
                let refused = try await rita.post(
                    path, [("csrf", csrf), ("command", "delete"), ("message", messageID), ("reason", "reader")])
                #expect(refused.status == 403, "\(path) by a reader: \(refused.status)")
            }
            let aliceCSRF = try ConsoleBrowser.csrf(in: try await alice.get("/ui/quarantined").body)
            let badID = try await alice.post(
                "/ui/quarantined/preview", [("csrf", aliceCSRF), ("command", "reingest"), ("message", "../etc")])
            #expect(badID.status == 400, "\(badID.status)")
            let stillThere = try await fixture.service.get("/v1/quarantined", token: ConsoleFixture.readerToken)
            #expect(stillThere.json?["messages"]?.arrayValue?.count == 1, "nothing was deleted")
        }
    }
}
