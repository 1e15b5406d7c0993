import Foundation
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// The console's routes on a real `serve`: sessions, CSRF, roles, escaping, export, logout.
    @Suite("serve: console routes")
    struct ConsoleTests {
        @Test("login gives a strict session cookie; pages need it; logout ends it on the server")
        func sessions() async throws {
            let fixture = try await ConsoleFixture.start()
            defer { fixture.service.process.stop() }
            let browser = ConsoleBrowser(baseURL: fixture.service.baseURL)

            let anonymous = try await browser.get("/ui")
            #expect(anonymous.status == 303)
            #expect(anonymous.headers.first(name: "Location") == "/ui/login")

            let loginPage = try await browser.get("/ui/login")
            #expect(loginPage.status == 200)
            #expect(loginPage.headers.first(name: "Content-Security-Policy")?.hasPrefix("default-src 'self'") == true)
            #expect(!loginPage.body.contains("<script>") && !loginPage.body.contains("style="), "no inline script or style")
            let csrf = try ConsoleBrowser.csrf(in: loginPage.body)

            let withoutCSRF = try await browser.post("/ui/login", [("token", ConsoleFixture.operatorToken)])
            #expect(withoutCSRF.status == 403)
            let wrongToken = try await browser.post("/ui/login", [("csrf", csrf), ("token", "not-a-token-at-all-0000")])
            #expect(wrongToken.status == 401)
            #expect(wrongToken.body.contains("matches no operator"))

            let login = try await browser.logIn(ConsoleFixture.operatorToken)
            #expect(login.status == 303)
            let cookie = try #require(
                login.headers["Set-Cookie"].first { $0.hasPrefix("dlq_console_session=") }, "\(login.headers)")
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Max-Age=28800"))
            #expect(!cookie.contains("Secure"), "plain HTTP: no Secure flag")

            let overview = try await browser.get("/ui")
            #expect(overview.status == 200)
            #expect(overview.body.contains("href=\"/ui/changes?status=parked\""))
            #expect(overview.headers.first(name: "Cache-Control") == "no-store")
            let sessionCookie = try #require(browser.cookies["dlq_console_session"])

            let logout = try await browser.post("/ui/logout", [("csrf", try ConsoleBrowser.csrf(in: overview.body))])
            #expect(logout.status == 303)
            #expect(browser.cookies["dlq_console_session"] == nil)

            let replayed = ConsoleBrowser(baseURL: fixture.service.baseURL)
            _ = try await replayed.get("/ui/login")
            let stolen = try await replayed.send(.GET, "/ui", headers: [("Cookie", "dlq_console_session=\(sessionCookie)")])
            #expect(stolen.status == 303, "a logged-out session's cookie opens nothing")

            let behindTLS = ConsoleBrowser(baseURL: fixture.service.baseURL)
            let secure = try await behindTLS.logIn(ConsoleFixture.readerToken, headers: [("X-Forwarded-Proto", "https")])
            #expect(secure.headers["Set-Cookie"].contains { $0.hasPrefix("dlq_console_session=") && $0.contains("; Secure") })
        }

        @Test("actions need the CSRF token and the operate role, record the operator, and export as the CLI does")
        func actionsAndRoles() async throws {
            let fixture = try await ConsoleFixture.start()
            defer { fixture.service.process.stop() }
            let world = fixture.world
            let applied = try await fixture.changeID(artist: "1")
            let parked = try await fixture.changeID(artist: "2")

            let reader = ConsoleBrowser(baseURL: fixture.service.baseURL)
            #expect(try await reader.logIn(ConsoleFixture.readerToken).status == 303)
            let readerList = try await reader.get("/ui/changes")
            #expect(readerList.status == 200)
            #expect(!readerList.body.contains("/ui/actions/"), "a read session sees no action")
            let readerChange = try await reader.get("/ui/changes/\(parked)")
            #expect(!readerChange.body.contains("Preview:"))
            let readerCSRF = try ConsoleBrowser.csrf(in: readerChange.body)
            let refused = try await reader.post(
                "/ui/actions/run", [("csrf", readerCSRF), ("command", "skip"), ("id", String(parked)), ("reason", "no")])
            #expect(refused.status == 403)
            #expect(refused.body.contains("read token"))
            let previewRefused = try await reader.post(
                "/ui/actions/preview", [("csrf", readerCSRF), ("command", "retry"), ("id", String(parked))])
            #expect(previewRefused.status == 403)

            let alice = ConsoleBrowser(baseURL: fixture.service.baseURL)
            #expect(try await alice.logIn(ConsoleFixture.operatorToken).status == 303)
            let page = try await alice.get("/ui/changes/\(applied)")
            #expect(page.body.contains("Preview: roll back this change"))
            #expect(!page.body.contains("Preview: retry this change"), "an applied change cannot be retried")
            let csrf = try ConsoleBrowser.csrf(in: page.body)

            let forged = try await alice.post("/ui/actions/run", [("command", "skip"), ("id", String(parked)), ("reason", "x")])
            #expect(forged.status == 403)
            let wrongToken = try await alice.post(
                "/ui/actions/run",
                [("csrf", String(csrf.reversed())), ("command", "skip"), ("id", String(parked)), ("reason", "x")])
            #expect(wrongToken.status == 403)
            let (_, unchanged) = try await world.cliJSON("show", String(parked))
            #expect(unchanged?["status"]?.stringValue == "parked", "refused forms change nothing")

            let preview = try await alice.post(
                "/ui/actions/preview",
                [("csrf", csrf), ("command", "retry"), ("f_error", "mapper_parsing"), ("f_status", "parked")])
            #expect(preview.status == 200)
            #expect(preview.body.contains("This will retry 2 changes."), "\(preview.body.prefix(3000))")
            #expect(preview.body.contains("Retry 2 changes"))

            let noReason = try await alice.post(
                "/ui/actions/run", [("csrf", csrf), ("command", "rollback"), ("id", String(applied))])
            #expect(noReason.status == 400)
            #expect(noReason.body.contains("The reason is required for rollback"), "\(noReason.body.prefix(3000))")

            let started = try await alice.post(
                "/ui/actions/run", [("csrf", csrf), ("command", "skip"), ("id", String(parked)), ("reason", "bad <b>import</b>")])
            #expect(started.status == 303)
            let jobPath = try #require(started.headers.first(name: "Location"))
            #expect(jobPath.hasPrefix("/ui/jobs/"))
            try await fixture.service.eventually("the skip finished") {
                try await alice.get(jobPath + "/progress").json?["finished"] == .bool(true)
            }
            let job = try await alice.get(jobPath)
            #expect(job.body.contains("data-job-finished"))
            #expect(job.body.contains(">Skipped<"), "\(job.body.prefix(3000))")

            let audit = try await world.cli("audit", "--actor", "alice", "--format", "json")
            let action = try #require(try JSONValue(parsing: audit.stdout)["actions"]?[0], "\(audit)")
            #expect(action["action"]?.stringValue == "skipped")
            #expect(action["reason"]?.stringValue == "bad <b>import</b>")
            let auditPage = try await alice.get("/ui/audit?actor=alice")
            #expect(auditPage.body.contains("bad &lt;b&gt;import&lt;/b&gt;"))

            let csv = try await alice.get("/ui/audit/export?format=csv&actor=alice")
            #expect(csv.contentType.hasPrefix("text/csv"))
            let cliCSV = try await world.cli("audit", "--actor", "alice", "--format", "csv")
            #expect(csv.body == cliCSV.stdout)
            let ndjson = try await fixture.service.request(
                .GET, "/v1/audit/export?format=ndjson", token: ConsoleFixture.readerToken)
            let cliNDJSON = try await world.cli("audit", "--format", "ndjson")
            #expect(ndjson.status == 200)
            #expect(ndjson.body == cliNDJSON.stdout)
            #expect(try await alice.get("/ui/audit/export?format=xml").status == 400)
        }

        @Test("names and bodies full of HTML are shown as text")
        func escaping() async throws {
            let fixture = try await ConsoleFixture.start()
            defer { fixture.service.process.stop() }
            let scripted = try await fixture.changeID(artist: "3")
            let alice = ConsoleBrowser(baseURL: fixture.service.baseURL)
            _ = try await alice.logIn(ConsoleFixture.operatorToken)

            for path in ["/ui/changes/\(scripted)", "/ui/history?key=3&at=2099-01-01", "/ui/quarantined", "/ui/changes?key=3"] {
                let page = try await alice.get(path)
                #expect(page.status == 200, "\(path): \(page)")
                #expect(!page.body.contains("<script>alert"), "\(path) must not carry a live script")
                #expect(!page.body.contains("<img src=x"), "\(path) must not carry a live image")
            }
            let change = try await alice.get("/ui/changes/\(scripted)")
            #expect(change.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            let quarantined = try await alice.get("/ui/quarantined")
            #expect(quarantined.body.contains("&lt;img src=x onerror=&quot;alert(2)&quot;&gt;"))
            #expect(try await alice.get("/ui/changes/999999").status == 404)
            #expect(try await alice.get("/ui/changes?status=bogus").status == 400)
        }
    }
}
