import Foundation
import Testing

@testable import ReprocessorService

/// The route table against the OpenAPI document, the one spelling of a path, and the pieces of
/// the access check that need no running service.
@Suite("route table, path spelling, login throttle")
struct RouteTableTests {
    @Test("every /v1 and health route of the table is in docs/openapi.yaml with its method and role, and nothing else is")
    func tableMatchesOpenAPI() throws {
        let document = try OpenAPIDocument.load()
        let documented = Set(document.operations.map { "\($0.method.uppercased()) \($0.path)" })
        let routes = RouteTable.all.filter { $0.surface != .console }
        let tabled = Set(routes.map { "\($0.method) \($0.path)" })
        #expect(
            documented == tabled,
            "only in openapi.yaml: \(documented.subtracting(tabled).sorted()); only in the table: \(tabled.subtracting(documented).sorted())"
        )
        for operation in document.operations {
            guard
                let route = routes.first(where: {
                    "\($0.method) \($0.path)" == "\(operation.method.uppercased()) \(operation.path)"
                })
            else { continue }
            #expect(operation.role == route.role.rawValue, "\(route): x-role \(operation.role ?? "missing")")
            #expect(operation.secured == (route.role != .open), "\(route): security is listed exactly when a token is needed")
        }
    }

    @Test(
        "the table lists each method and path once; /v1 reads are read, its actions operate; the console's forms need a session")
    func tableIsConsistent() {
        let keys = RouteTable.all.map { "\($0.method) \($0.endpointPath)" }
        #expect(Set(keys).count == keys.count, "a route listed twice")
        for route in RouteTable.all {
            #expect(route.endpointPath == route.path, "\(route): Hummingbird reports the pattern as written")
            switch route.surface {
            case .service: #expect(route.role == .open, "\(route)")
            case .api: #expect(route.role == ("\(route.method)" == "GET" ? .read : .operate), "\(route)")
            case .console:
                if "\(route.method)" == "POST", route != RouteTable.login { #expect(route.role != .open, "\(route)") }
            }
            #expect(RouteTable.route(route.method, endpoint: route.path) == route)
        }
        #expect(RouteTable.route(RouteTable.stats.method, endpoint: nil) == nil)
        #expect(
            RouteTable.route(RouteTable.startReconcile.method, endpoint: "/v1/stats") == nil,
            "a method the table does not list for the path is no route")
    }

    @Test("a path is routed only as routes spell it: no empty, dot or needlessly encoded segment")
    func pathSpelling() {
        for path in [
            "/", "/healthz", "/v1/stats", "/v1/changes/12", "/v1/history/ARTIST%2342", "/v1/history/%C3%A9", "/ui",
            "/ui/static/console.css", "/v1/history/a.b", "/V1/STATS",
        ] {
            #expect(RequestPath.problem(path) == nil, "\(path) is canonical")
        }
        for path in [
            "", "v1/stats", "//v1/stats", "/v1//stats", "/v1/stats/", "/ui/", "/v1/./stats", "/v1/x/../stats", "/./v1/stats",
            "/v1/stats/.", "/v1/%2e%2e/v1/stats", "/v1/%2E/stats", "/v1%2fstats", "/v1/history/a%2Fb", "/v1/history/a%5cb",
            "/%761/stats", "/v1/st%61ts", "/v1/changes/%31", "/v1/history/%", "/v1/history/%4", "/v1/history/%zz",
            "/v1/history/%00", "/v1/history/a\u{01}b", "/v1/history/%7F", "/v1/history/%7e",
        ] {
            #expect(RequestPath.problem(path) != nil, "\(path.debugDescription) is refused")
        }
        #expect(RequestPath.problem("//v1/stats")?.contains("empty segment") == true)
        #expect(RequestPath.problem("/v1/../stats")?.contains(". or ..") == true)
        #expect(RequestPath.problem("/v1%2Fstats")?.contains("encoded /") == true)
        #expect(RequestPath.problem("/" + String(repeating: "x/", count: 500) + "/")!.count < 250, "the path is shown shortened")
    }

    @Test("the login throttle checks and counts in one step: of 200 attempts at once, exactly the allowed number pass")
    func throttleIsAtomic() async {
        let throttle = LoginThrottle()
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask { throttle.admit("192.0.2.1") == nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == LoginThrottle.failuresAllowed)
        #expect(throttle.admit("192.0.2.2") == nil, "another address has its own count")
        throttle.recordSuccess("192.0.2.1")
        #expect(throttle.admit("192.0.2.1") == nil, "a success forgets the address's failures")
        let later = Date().addingTimeInterval(LoginThrottle.window + 1)
        let fresh = LoginThrottle()
        for _ in 0..<LoginThrottle.failuresAllowed { #expect(fresh.admit("192.0.2.3") == nil) }
        #expect(fresh.admit("192.0.2.3") != nil)
        #expect(fresh.admit("192.0.2.3", now: later) == nil, "failures leave the window")
    }

    @Test("a console session ends when it expires, is closed, or is the oldest of too many")
    func sessionsExpire() {
        let sessions = ConsoleSessions()
        let now = Date()
        let (id, _) = sessions.open(name: "rita", role: .read, now: now)
        #expect(sessions.session(id: id, now: now.addingTimeInterval(ConsoleSessions.lifetime - 1))?.name == "rita")
        #expect(sessions.session(id: id, now: now.addingTimeInterval(ConsoleSessions.lifetime + 1)) == nil)
        #expect(sessions.session(id: id, now: now) == nil, "an expired session is dropped, not revived")
        let (other, _) = sessions.open(name: "otto", role: .operate)
        sessions.close(id: other)
        #expect(sessions.session(id: other) == nil)

        let (first, _) = sessions.open(name: "otto", role: .operate, now: now)
        let later = (1...ConsoleSessions.keptSessions).map {
            sessions.open(name: "otto", role: .operate, now: now.addingTimeInterval(Double($0))).id
        }
        #expect(sessions.session(id: first, now: now) == nil, "beyond the kept number, the first to expire ends")
        #expect(later.allSatisfy { sessions.session(id: $0, now: now) != nil })
    }
}
