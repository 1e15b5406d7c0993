import Foundation
import NIOHTTP1
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

@testable import ReprocessorService

extension ServeTests {
    /// Every route of the table × every kind of caller × every spelling of its path, against a
    /// running `serve`, sent byte for byte on raw connections (no client normalises the paths).
    @Suite("serve: route access matrix")
    struct RouteAccessMatrixTests {
        static let reader = "matrix-reader-token-0123456789"
        static let operator_ = "matrix-operator-token-0123456789"

        /// Who a request comes from.
        enum Caller: String, CaseIterable {
            case nobody
            case unknownToken = "unknown bearer token"
            case readToken = "read token"
            case operateToken = "operate token"
            case endedSession = "logged-out session"
            case unknownSession = "made-up session"
            case readSession = "read session"
            case operateSession = "operate session"
        }

        /// One answer, parsed from the raw bytes.
        struct Answer {
            var status: Int
            var location: String?
            var text: String
        }

        /// The sessions and ids the requests use.
        struct Fixture {
            var port: Int
            var changeID: Int
            /// The message of that change (not quarantined: a quarantine action answers it a conflict, 200).
            var messageID: String
            var jobPath: String
            var cookies: [Caller: String]
            var csrf: [Caller: String]
            var service: RunningService
        }

        static func headers(_ caller: Caller, _ fixture: Fixture) -> [(String, String)] {
            switch caller {
            case .nobody: []
            case .unknownToken: [("Authorization", "Bearer not-a-known-token-000000")]
            case .readToken: [("Authorization", "Bearer \(reader)")]
            case .operateToken: [("Authorization", "Bearer \(operator_)")]
            case .endedSession, .unknownSession, .readSession, .operateSession:
                [("Cookie", fixture.cookies[caller] ?? "")]
            }
        }

        /// Sends one request on its own connection and reads the answer to the end.
        static func send(_ method: String, _ path: String, headers: [(String, String)], body: String?, port: Int) throws -> Answer
        {
            let connection = try RawHTTPConnection(port: port)
            var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            let bytes = Array((body ?? "").utf8)
            if body != nil || method == "POST" || method == "PUT" { head += "Content-Length: \(bytes.count)\r\n" }
            try connection.send(Array((head + "\r\n").utf8) + bytes)
            let (text, _) = connection.readUntilClosed()
            let status = Int(text.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0
            let location = text.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("location:") }
                .map { $0.dropFirst("location:".count).trimmingCharacters(in: .whitespaces) }
            return Answer(status: status, location: location, text: text)
        }

        /// The route's path with its captures filled in.
        static func samplePath(_ route: Route, _ fixture: Fixture) -> String {
            switch route.path {
            case "/ui/jobs/{id}": return fixture.jobPath
            case "/ui/jobs/{id}/progress": return fixture.jobPath + "/progress"
            default:
                return route.path.replacingOccurrences(of: "{id}", with: String(fixture.changeID))
                    .replacingOccurrences(of: "{key}", with: "ARTIST%231")
                    .replacingOccurrences(of: "{messageId}", with: fixture.messageID)
            }
        }

        /// The query the route's handler needs.
        static func query(_ route: Route) -> String {
            route == RouteTable.auditExport || route == RouteTable.auditExportPage ? "?format=csv" : ""
        }

        /// A body the route's handler accepts and acts on without changing anything.
        static func body(_ route: Route, _ caller: Caller, _ fixture: Fixture) -> String? {
            guard "\(route.method)" == "POST" else { return nil }
            switch route.surface {
            case .api:
                if route == RouteTable.startReconcile { return #"{"dryRun": true}"# }
                let ids =
                    route.path.contains("{id}") || route.path.contains("{messageId}") ? "" : "\"ids\": [\(fixture.changeID)], "
                return "{\(ids)\"reason\": \"matrix\", \"dryRun\": true}"
            case .console, .service:
                // Any caller's form carries the operate session's CSRF token: a token alone opens nothing.
                let csrf = fixture.csrf[caller] ?? fixture.csrf[.operateSession] ?? ""
                if route == RouteTable.run { return "csrf=\(csrf)&command=explode&id=\(fixture.changeID)" }
                return "csrf=\(csrf)&command=retry&id=\(fixture.changeID)"
            }
        }

        /// What the handler answers the sample request when the caller may reach it.
        static func handled(_ route: Route, _ caller: Caller) -> Set<Int> {
            switch route {
            case RouteTable.readiness: [200, 503]
            case RouteTable.loginPage: caller == .readSession || caller == .operateSession ? [303] : [200]
            case RouteTable.login: [403]  // the sample carries no login form token
            case RouteTable.logout: [303]
            case RouteTable.run: [400]  // "explode" is no command: refused by the handler, after the access check
            // "retry" is no quarantine command: refused by the handler, after the access check.
            case RouteTable.quarantinePreview, RouteTable.quarantineRun: [400]
            default: [200]
            }
        }

        /// The statuses the canonical spelling may answer for `caller`.
        static func expected(_ route: Route, _ caller: Caller) -> Set<Int> {
            guard route.role != .open else { return handled(route, caller) }
            switch route.surface {
            case .service:
                return handled(route, caller)
            case .api:
                switch caller {
                case .readToken: return route.role == .read ? handled(route, caller) : [403]
                case .operateToken: return handled(route, caller)
                default: return [401]
                }
            case .console:
                switch caller {
                case .readSession: return route.role == .read ? handled(route, caller) : [403]
                case .operateSession: return handled(route, caller)
                default: return "\(route.method)" == "GET" ? [303] : [403]
                }
            }
        }

        /// Other spellings of `path`, none of which may reach a handler: 400 before routing, or 404.
        static func spellings(_ path: String) -> [(spelling: String, status: Int)] {
            let segments = path.split(separator: "/").map(String.init)
            let first = segments[0]
            let rest = segments.dropFirst().joined(separator: "/")
            let tail = rest.isEmpty ? "" : "/" + rest
            var spellings = [
                ("/" + path, 400), (path + "/", 400), ("/\(first)/.\(tail)", 400), ("/\(first)/x/..\(tail)", 400),
                ("/\(first)/%2e\(tail)", 400), ("/\(first)/%2E%2E/\(first)\(tail)", 400),
                ("/%\(String(first.utf8.first!, radix: 16))\(first.dropFirst())\(tail)", 400),
                (path.uppercased(), 404),
            ]
            if !rest.isEmpty {
                spellings += [("/\(first)//\(rest)", 400), ("/\(first)%2F\(rest)", 400), ("/\(first)%2f\(rest)", 400)]
            }
            return spellings
        }

        @Test("each route answers each caller as its role says, and no other spelling of its path reaches any handler")
        func everyRouteCallerAndSpelling() async throws {
            let world = try await ReprocessorWorld.start()
            try await world.putArtist("1", name: "One")
            let service = try await RunningService.start(
                world, environment: ["OPERATOR_TOKENS": "rita:read:\(Self.reader),otto:operate:\(Self.operator_)"],
                withReader: false)
            defer { service.process.stop() }
            try await world.send([world.failedBatchBody(try await world.streamRecords(), requestID: "matrix")])
            try await service.eventually("the change applied") {
                try await service.get("/v1/stats", token: Self.reader).json?["changes"]?["applied"]?.intValue == 1
            }
            let firstChange = try await service.get("/v1/changes", token: Self.reader).json?["changes"]?[0]
            let changeID = try #require(firstChange?["id"]?.intValue)
            let messageID = try #require(firstChange?["messageId"]?.stringValue)
            let port = try #require(Int(service.baseURL.split(separator: ":").last ?? ""))

            var cookies: [Caller: String] = [:]
            var csrf: [Caller: String] = [:]
            for (caller, token) in [(Caller.readSession, Self.reader), (.operateSession, Self.operator_)] {
                let browser = ConsoleBrowser(baseURL: service.baseURL)
                #expect(try await browser.logIn(token).status == 303)
                cookies[caller] = "dlq_console_session=\(browser.cookies["dlq_console_session"] ?? "")"
                csrf[caller] = try ConsoleBrowser.csrf(in: try await browser.get("/ui/changes").body)
            }
            let ended = ConsoleBrowser(baseURL: service.baseURL)
            _ = try await ended.logIn(Self.operator_)
            let endedCookie = "dlq_console_session=\(ended.cookies["dlq_console_session"] ?? "")"
            let endedCSRF = try ConsoleBrowser.csrf(in: try await ended.get("/ui/changes").body)
            #expect(try await ended.post("/ui/logout", [("csrf", endedCSRF)]).status == 303)
            cookies[.endedSession] = endedCookie
            cookies[.unknownSession] = "dlq_console_session=\(String(repeating: "ab", count: 32))"

            let operate = ConsoleBrowser(baseURL: service.baseURL)
            _ = try await operate.logIn(Self.operator_)
            let started = try await operate.post(
                "/ui/actions/run",
                [
                    ("csrf", try ConsoleBrowser.csrf(in: try await operate.get("/ui/changes").body)), ("command", "retry"),
                    ("id", String(changeID)),
                ])
            let jobPath = try #require(started.headers.first(name: "Location"), "\(started)")

            let fixture = Fixture(
                port: port, changeID: changeID, messageID: messageID, jobPath: jobPath, cookies: cookies, csrf: csrf,
                service: service)
            // A logout ends its session: each one gets a session of its own, logged in just before.
            var logoutSessions: [Caller: [String]] = [:]
            for (caller, token) in [(Caller.readSession, Self.reader), (.operateSession, Self.operator_)] {
                let browser = ConsoleBrowser(baseURL: service.baseURL)
                _ = try await browser.logIn(token)
                logoutSessions[caller] = [
                    "dlq_console_session=\(browser.cookies["dlq_console_session"] ?? "")",
                    try ConsoleBrowser.csrf(in: try await browser.get("/ui").body),
                ]
            }

            let ownSessions = logoutSessions
            let mismatches = try await RawHTTPConnection.blocking { () -> [String] in
                var mismatches: [String] = []
                var sent = 0
                for route in RouteTable.all {
                    let path = Self.samplePath(route, fixture)
                    let query = Self.query(route)
                    for caller in Caller.allCases {
                        var headers = Self.headers(caller, fixture)
                        var body = Self.body(route, caller, fixture)
                        if route == RouteTable.logout, let own = ownSessions[caller] {
                            headers = [("Cookie", own[0])]
                            body = "csrf=\(own[1])"
                        }
                        if "\(route.method)" == "POST", route.surface == .console {
                            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
                        } else if "\(route.method)" == "POST" {
                            headers.append(("Content-Type", "application/json"))
                        }
                        let answer = try Self.send("\(route.method)", path + query, headers: headers, body: body, port: port)
                        sent += 1
                        let allowed = Self.expected(route, caller)
                        if !allowed.contains(answer.status) {
                            mismatches.append(
                                "\(route) as \(caller.rawValue): \(answer.status), expected \(allowed.sorted()): \(answer.text.prefix(300))"
                            )
                        }
                        if answer.status == 303, route.surface == .console, route.role != .open,
                            caller != .readSession, caller != .operateSession, answer.location != "/ui/login"
                        {
                            mismatches.append("\(route) as \(caller.rawValue): sent to \(answer.location ?? "nowhere")")
                        }
                        for (spelling, status) in Self.spellings(path) {
                            let other = try Self.send(
                                "\(route.method)", spelling + query, headers: headers, body: body, port: port)
                            sent += 1
                            if other.status != status {
                                mismatches.append(
                                    "\(route.method) \(spelling) as \(caller.rawValue): \(other.status), expected \(status): \(other.text.prefix(300))"
                                )
                            }
                        }
                        let put = try Self.send("PUT", path + query, headers: headers, body: body, port: port)
                        sent += 1
                        if put.status != 405 {
                            mismatches.append(
                                "PUT \(path) as \(caller.rawValue): \(put.status), expected 405 (a method the path does not take)"
                            )
                        }
                    }
                }
                return mismatches + (sent > 2_500 ? [] : ["only \(sent) requests were sent"])
            }
            #expect(
                mismatches.isEmpty,
                "\(mismatches.count) answers were not as the route table says:\n\(mismatches.prefix(40).joined(separator: "\n"))")

            let (_, shown) = try await world.cliJSON("show", String(changeID))
            #expect(shown?["status"]?.stringValue == "applied", "no refused spelling acted on the change")
            #expect(try await world.openSearch.get(index: world.index, id: "1") != nil, "nor deleted its document")
        }
    }
}
