import Foundation
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

@testable import ReprocessorService

extension ServeTests {
    /// What keeps the console honest under pressure: failure groups act on exactly the group,
    /// previews run with the operator's reason, background actions are bounded, logins are throttled.
    @Suite("serve: console limits and exact groups")
    struct ConsoleLimitsTests {
        @Test("a failure group is its fingerprint: one group for both documents, acted on by its id, also through /v1")
        func failureGroupByID() async throws {
            let fixture = try await ConsoleFixture.start()
            defer { fixture.service.process.stop() }
            let groups =
                try await fixture.service.get("/v1/errors", token: ConsoleFixture.readerToken).json?["errors"]?.arrayValue ?? []
            #expect(groups.count == 1, "artists 2 and 3 fail on one field, only their ids and values differ: \(groups)")
            let group = try #require(groups.first)
            #expect(group["count"]?.intValue == 2 && group["documents"]?.intValue == 2, "\(group)")
            let id = try #require(group["group"]?.stringValue)
            let text = try #require(group["error"]?.stringValue)

            let alice = ConsoleBrowser(baseURL: fixture.service.baseURL)
            _ = try await alice.logIn(ConsoleFixture.operatorToken)
            let page = try await alice.get("/ui/errors")
            #expect(page.body.contains(#"name="f_group" value="\#(id)""#) && !page.body.contains(#"name="f_error""#))
            #expect(page.body.contains("/ui/changes?group=\(id)"))
            let csrf = try ConsoleBrowser.csrf(in: page.body)

            let byGroup = try await alice.post(
                "/ui/actions/preview", [("csrf", csrf), ("command", "retry"), ("f_group", id), ("f_status", "parked")])
            #expect(byGroup.body.contains("This will retry 2 changes."), "\(byGroup.body.prefix(2000))")
            // The exact text of one change is still one change: --error-equals is byte for byte.
            let exact = try await alice.post(
                "/ui/actions/preview", [("csrf", csrf), ("command", "retry"), ("f_errorEquals", text), ("f_status", "parked")])
            #expect(exact.body.contains("This will retry 1 change."), "\(exact.body.prefix(2000))")
            let badGroup = try await alice.post(
                "/ui/actions/preview", [("csrf", csrf), ("command", "retry"), ("f_group", "nothex")])
            #expect(badGroup.status == 400 && badGroup.body.contains("group"), "\(badGroup.status) \(badGroup.body.prefix(2000))")

            let listed = try await alice.get("/ui/changes?group=\(id)")
            #expect(listed.body.contains("1–2 of 2 changes"), "\(listed.body.prefix(3000))")
            #expect(
                listed.body.contains(#"<input type="hidden" name="group" value="\#(id)">"#), "the filter form keeps the group")
            let v1 = try await fixture.service.get("/v1/changes?group=\(id)", token: ConsoleFixture.readerToken)
            #expect(v1.json?["changes"]?.arrayValue?.count == 2, "\(v1)")
            let v1Bad = try await fixture.service.get("/v1/changes?group=\(id)0", token: ConsoleFixture.readerToken)
            #expect(v1Bad.status == 400 && v1Bad.body.contains("group"), "\(v1Bad)")
            let body = JSONValue.object(["filter": .object(["group": .string(id)]), "dryRun": .bool(true)]).serialized
            let v1Retry = try await fixture.service.post("/v1/changes/retry", body, token: ConsoleFixture.operatorToken)
            #expect(v1Retry.json?["results"]?.arrayValue?.count == 2, "\(v1Retry)")
            let cli = try await fixture.world.cli("list", "--group", id, "--json")
            #expect(try JSONValue(parsing: cli.stdout)["changes"]?.arrayValue?.count == 2, "\(cli)")
        }

        @Test("skip and rollback previews run with the operator's reason; without one the page asks for it first")
        func previewTakesTheReason() async throws {
            let fixture = try await ConsoleFixture.start()
            defer { fixture.service.process.stop() }
            let parked = try await fixture.changeID(artist: "2")
            let applied = try await fixture.changeID(artist: "1")
            let alice = ConsoleBrowser(baseURL: fixture.service.baseURL)
            _ = try await alice.logIn(ConsoleFixture.operatorToken)
            let csrf = try ConsoleBrowser.csrf(in: try await alice.get("/ui/changes/\(parked)").body)
            let (_, before) = try await fixture.world.cliJSON("show", String(parked))
            let actionsBefore = try #require(before?["actions"]?.arrayValue?.count)

            for (command, id) in [("skip", parked), ("rollback", applied)] {
                let asked = try await alice.post(
                    "/ui/actions/preview", [("csrf", csrf), ("command", command), ("id", String(id))])
                #expect(asked.status == 200, "\(asked)")
                #expect(asked.body.contains("say why"), "\(asked.body.prefix(2000))")
                #expect(!asked.body.contains("This will"), "no dry run without the reason")
                #expect(asked.body.contains(#"id="preview-reason" name="reason" type="text" size="40" required"#))
                #expect(asked.body.contains(#"name="id" value="\#(id)""#), "the selection is carried to the preview")
            }
            let previewed = try await alice.post(
                "/ui/actions/preview",
                [("csrf", csrf), ("command", "skip"), ("id", String(parked)), ("reason", "dup <i>row</i>")])
            #expect(previewed.body.contains("This will skip 1 change."), "\(previewed.body.prefix(2000))")
            #expect(previewed.body.contains(#"value="dup &lt;i&gt;row&lt;/i&gt;" required"#), "the confirm form keeps the reason")
            let blank = try await alice.post(
                "/ui/actions/preview", [("csrf", csrf), ("command", "skip"), ("id", String(parked)), ("reason", "   ")])
            #expect(blank.body.contains("say why"), "a blank reason is no reason")
            let retry = try await alice.post(
                "/ui/actions/preview", [("csrf", csrf), ("command", "retry"), ("id", String(parked))])
            #expect(retry.body.contains("This will retry 1 change."), "retry needs no reason")
            let (_, shown) = try await fixture.world.cliJSON("show", String(parked))
            #expect(shown?["status"]?.stringValue == "parked", "previews change nothing")
            #expect(shown?["actions"]?.arrayValue?.count == actionsBefore, "previews record nothing")
        }

        @Test("console actions share /v1's bound on expensive work: beyond it a page says so (429), nothing starts")
        func boundedJobs() async throws {
            // Every write to search holds at before-write, so a started retry keeps running.
            let fixture = try await ConsoleFixture.start(
                environment: ["DLQ_TEST_PAUSE_AT": "before-write", "DLQ_TEST_PAUSE_SECONDS": "600"])
            defer { fixture.service.process.stop() }
            let service = fixture.service
            let alice = ConsoleBrowser(baseURL: service.baseURL)
            _ = try await alice.logIn(ConsoleFixture.operatorToken)
            let csrf = try ConsoleBrowser.csrf(in: try await alice.get("/ui/changes").body)
            var jobs: [String] = []
            for artist in ["2", "3"] {
                let id = try await fixture.changeID(artist: artist)
                let started = try await alice.post("/ui/actions/run", [("csrf", csrf), ("command", "retry"), ("id", String(id))])
                #expect(started.status == 303, "\(started)")
                jobs.append(try #require(started.headers.first(name: "Location")))
            }
            // Two slow /v1 actions take the other places: unknown ids paced at one per 100 s.
            let slow = #"{"ids": [999991, 999992, 999993], "rate": 0.01, "dryRun": true}"#
            let placesLeft = ExpensiveRequests.limit - jobs.count
            let holders = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<placesLeft {
                        group.addTask {
                            while !Task.isCancelled {
                                let answer = try? await service.post(
                                    "/v1/changes/retry", slow, token: ConsoleFixture.operatorToken)
                                if answer?.status != 429 { return }
                                try? await Task.sleep(for: .milliseconds(50))
                            }
                        }
                    }
                }
            }
            defer { holders.cancel() }
            try await service.eventually("/v1 is full with two console jobs and two of its own") {
                try await service.get("/v1/errors", token: ConsoleFixture.readerToken).status == 429
            }
            let applied = try await fixture.changeID(artist: "1")
            let refused = try await alice.post(
                "/ui/actions/run", [("csrf", csrf), ("command", "resync"), ("id", String(applied))])
            #expect(refused.status == 429, "\(refused)")
            #expect(refused.headers.first(name: "Retry-After") == "5")
            #expect(
                refused.body.contains("\(ExpensiveRequests.limit) actions or large reads are already running"),
                "\(refused.body.prefix(2000))")
            #expect(refused.body.contains("try again when one finishes"))
            let preview = try await alice.post(
                "/ui/actions/preview", [("csrf", csrf), ("command", "resync"), ("id", String(applied))])
            #expect(preview.status == 429, "a preview is expensive work too")
            for job in jobs {
                #expect(try await alice.get(job + "/progress").json?["finished"] == .bool(false), "\(job) still runs")
            }
            let audit = try await fixture.world.cli("audit", "--action", "resynced", "--format", "json")
            #expect(try JSONValue(parsing: audit.stdout)["actions"]?.arrayValue?.isEmpty == true, "nothing started")
            #expect(try await alice.get("/ui").status == 200, "pages still answer")
            // The pages that are not paged count as expensive work, as /v1/errors and /v1/history do.
            let failures = try await alice.get("/ui/errors")
            #expect(failures.status == 429 && failures.headers.first(name: "Retry-After") == "5", "\(failures)")
            #expect(try await alice.get("/ui/history?key=ARTIST%231").status == 429)
            #expect(try await alice.get("/ui/history").status == 200, "the empty search form reads nothing")
        }

        @Test("failed logins are throttled per address: 429 with Retry-After, even for the right token; a success resets")
        func loginThrottle() async throws {
            let fixture = try await ConsoleFixture.start()
            defer { fixture.service.process.stop() }
            func attempt(_ token: String) async throws -> HTTPAnswer {
                // A fresh browser each time (a logged-in one is sent past the login page), all from 127.0.0.1.
                let browser = ConsoleBrowser(baseURL: fixture.service.baseURL)
                let page = try await browser.get("/ui/login")
                return try await browser.post("/ui/login", [("csrf", try ConsoleBrowser.csrf(in: page.body)), ("token", token)])
            }
            let wrong = "not-a-token-at-all-0000"
            for _ in 1..<LoginThrottle.failuresAllowed { #expect(try await attempt(wrong).status == 401) }
            #expect(try await attempt(ConsoleFixture.operatorToken).status == 303, "a success is not throttled")
            for _ in 0..<LoginThrottle.failuresAllowed {
                #expect(try await attempt(wrong).status == 401, "the success forgot the earlier failures")
            }
            let throttled = try await attempt(ConsoleFixture.operatorToken)
            #expect(throttled.status == 429, "\(throttled)")
            let seconds = try #require(throttled.headers.first(name: "Retry-After").flatMap(Int.init))
            #expect((1...Int(LoginThrottle.window)).contains(seconds))
            #expect(throttled.body.contains("too many failed logins"))
            #expect(throttled.body.contains(#"name="token""#), "the login form is shown again")
            #expect(!throttled.headers["Set-Cookie"].contains { $0.hasPrefix("dlq_console_session=") }, "no session")
            let v1 = try await fixture.service.get("/v1/stats", token: ConsoleFixture.readerToken)
            #expect(v1.status == 200, "bearer tokens on /v1 are not the console's logins")
        }
    }
}
