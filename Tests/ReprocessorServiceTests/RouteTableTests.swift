import AuditLog
import Foundation
import StreamModel
import Testing

@testable import Reprocessor
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
        "each /v1 operation's parameters, bounds, enums, bodies and statuses in docs/openapi.yaml match the route table and the bounded inputs"
    )
    func documentMatchesInputs() throws {
        let document = try OpenAPIDocument.load()
        #expect(document.root["openapi"]?.stringValue?.hasPrefix("3.1") == true)
        func number(_ value: JSONValue?) -> Double? { value?.numberText.flatMap(Double.init) }
        func strings(_ value: JSONValue?) -> Set<String> { Set((value?.arrayValue ?? []).compactMap(\.stringValue)) }
        let pages: [String: AuditQueries.PageSize] = [
            "/v1/changes": AuditQueries.changesPage, "/v1/audit": AuditQueries.actionsPage,
            "/v1/quarantined": AuditQueries.quarantinedPage, "/v1/batches": AuditQueries.batchesPage,
            "/v1/reconcile": AuditQueries.reconcileRunsPage,
        ]
        var checked = 0
        for route in RouteTable.all where route.surface == .api {
            guard
                let operation = document.operations.first(where: {
                    $0.path == route.path && $0.method.uppercased() == "\(route.method)"
                })
            else {
                Issue.record("\(route) is not in the document")
                continue
            }
            let parameters = document.parameters(operation)
            let query = Set(parameters.filter { $0["in"]?.stringValue == "query" }.compactMap { $0["name"]?.stringValue })
            #expect(query == route.query, "\(route): documented query \(query.sorted()), taken \(route.query.sorted())")
            let captures = Set(
                route.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
            let inPath = Set(parameters.filter { $0["in"]?.stringValue == "path" }.compactMap { $0["name"]?.stringValue })
            #expect(inPath == captures, "\(route): path parameters")
            var needed: Set<Int> = [200, 400, 401, 403]
            if route.expensive { needed.insert(429) }
            if "\(route.method)" == "POST" {
                needed.formUnion([409, 413, 422])
                let key = try #require(document.parameter(operation, "Idempotency-Key", in: "header"), "\(route)")
                #expect(key.schema["maxLength"]?.intValue == OperatorAPI.longestIdempotencyKey, "\(route)")
            }
            #expect(
                needed.isSubset(of: operation.statuses), "\(route) answers \(needed.subtracting(operation.statuses).sorted()) too"
            )
            if route.path.contains("{id}") {
                let id = try #require(document.parameter(operation, "id", in: "path")?.schema)
                #expect(number(id["minimum"]) == Double(OperatorInput.idRange.lowerBound), "\(route)")
                #expect(id["maximum"]?.numberText == String(OperatorInput.idRange.upperBound), "\(route)")
            }
            if let limit = document.parameter(operation, "limit")?.schema {
                let page = try #require(pages[route.path], "\(route) has a page size")
                #expect(limit["minimum"]?.intValue == page.allowed.lowerBound, "\(route)")
                #expect(limit["maximum"]?.intValue == page.allowed.upperBound, "\(route)")
                #expect(limit["default"]?.intValue == page.standard, "\(route)")
            }
            if let cursor = document.parameter(operation, "cursor")?.schema {
                #expect(cursor["maxLength"]?.intValue == OperatorInput.longestCursor, "\(route)")
            }
            checked += 1
        }
        #expect(checked == RouteTable.all.filter { $0.surface == .api }.count)

        let schemas = document.root["components"]?["schemas"]
        #expect(strings(schemas?["ChangeStatus"]?["enum"]) == Set(ChangeStatus.allCases.map(\.rawValue)))
        #expect(strings(schemas?["ActionKind"]?["enum"]) == Set(ActionKind.allCases.map(\.rawValue)))
        #expect(strings(schemas?["Batch"]?["properties"]?["status"]?["enum"]) == Set(BatchStatus.allCases.map(\.rawValue)))
        #expect(strings(schemas?["Result"]?["properties"]?["outcome"]?["enum"]) == Set(ChangeOutcome.allCases.map(\.rawValue)))
        #expect(schemas?["Time"]?["maxLength"]?.intValue == OperatorInput.longestTime)
        #expect(
            schemas?["ArtistKey"]?["pattern"]?.stringValue?.contains("{0,\(FilterInput.longestArtistID - 1)}") == true,
            "the artist key's length")
        #expect(number(schemas?["Rate"]?["minimum"]) == OperatorInput.rateRange.lowerBound)
        #expect(number(schemas?["Rate"]?["maximum"]) == OperatorInput.rateRange.upperBound)
        let segments = schemas?["ReconcileRequest"]?["properties"]?["segments"]
        #expect(segments?["minimum"]?.intValue == OperatorInput.segments.allowed.lowerBound)
        #expect(segments?["maximum"]?.intValue == OperatorInput.segments.allowed.upperBound)
        #expect(segments?["default"]?.intValue == OperatorInput.segments.standard)
        #expect(schemas?["Ids"]?["items"]?["maximum"]?.numberText == String(OperatorInput.idRange.upperBound))
        #expect(Set((schemas?["Filter"]?["properties"]?.objectValue ?? [:]).keys) == FilterInput.names)
        let answered: [ServiceError.Code] = [
            .badRequest, .invalidInput, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .idempotencyKeyInUse,
            .payloadTooLarge, .idempotencyKeyReused, .tooManyRequests, .unavailable, .internalError,
        ]
        #expect(strings(schemas?["Problem"]?["properties"]?["code"]?["enum"]) == Set(answered.map(\.identifier)))

        for command in OperatorActions.Command.allCases {
            for (route, fields) in [
                (RouteTable.actOnOne(command), OperatorAPI.actionFields),
                (RouteTable.actOnMany(command), OperatorAPI.actionFields.union(["ids", "filter"])),
            ] {
                let operation = try #require(document.operations.first { $0.path == route.path })
                let body = try #require(document.requestSchema(operation), "\(route) has a body")
                #expect(Set((body["properties"]?.objectValue ?? [:]).keys) == fields, "\(route): body fields")
                #expect(body["additionalProperties"]?.boolValue == false, "\(route): unknown fields are refused")
                #expect(strings(body["required"]).contains("reason") == command.requiresReason, "\(route): reason")
                let force = document.resolve(body["properties"]?["force"] ?? .null)
                #expect((force["enum"] == .array([.bool(false)])) == (command != .rollback), "\(route): force is rollback's")
                if route == RouteTable.actOnMany(command) {
                    #expect(body["oneOf"]?.arrayValue?.count == 2, "\(route): ids or filter")
                }
            }
        }
        for command in QuarantineActions.Command.allCases {
            let route = RouteTable.actOnQuarantined(command)
            let operation = try #require(document.operations.first { $0.path == route.path })
            let body = try #require(document.requestSchema(operation), "\(route) has a body")
            #expect(Set((body["properties"]?.objectValue ?? [:]).keys) == OperatorAPI.quarantineActionFields, "\(route)")
            #expect(body["additionalProperties"]?.boolValue == false, "\(route): unknown fields are refused")
            #expect(strings(body["required"]).contains("reason") == command.requiresReason, "\(route): reason")
            let outcomes = document.resolve(
                document.root["components"]?["schemas"]?["QuarantineResult"]?["properties"]?["outcome"] ?? .null)
            #expect(strings(outcomes["enum"]) == Set(QuarantineActions.Outcome.allCases.map(\.rawValue)), "\(route)")
        }
        let reconcile = try #require(document.operations.first { $0.path == "/v1/reconcile" && $0.method == "post" })
        let reconcileBody = try #require(document.requestSchema(reconcile))
        #expect(Set((reconcileBody["properties"]?.objectValue ?? [:]).keys) == OperatorAPI.reconcileFields)
    }

    @Test("the path a request names resolves to the methods of its pattern, a constant segment before a capture")
    func methodsOfAPath() {
        #expect(RouteTable.methods(path: "/v1/changes/12", console: true) == ["GET"])
        #expect(RouteTable.methods(path: "/v1/changes/retry", console: true) == ["POST"])
        #expect(RouteTable.methods(path: "/v1/changes/12/retry", console: true) == ["POST"])
        #expect(RouteTable.methods(path: "/v1/reconcile", console: true) == ["GET", "POST"])
        #expect(RouteTable.methods(path: "/ui/login", console: true) == ["GET", "POST"])
        #expect(RouteTable.methods(path: "/ui/login", console: false).isEmpty, "console paths only with the console")
        #expect(RouteTable.methods(path: "/v1/nothing", console: true).isEmpty)
        #expect(RouteTable.methods(path: "/V1/STATS", console: true).isEmpty)
        #expect(RouteTable.methods(path: "/", console: true).isEmpty)
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
