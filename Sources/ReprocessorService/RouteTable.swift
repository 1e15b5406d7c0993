import Hummingbird
import Reprocessor

/// One route `serve` answers: its method, its path pattern (`{name}` captures one segment, as in
/// `docs/openapi.yaml`), and the role a caller needs for it.
///
/// Authorization is a property of the route: ``RouteAccess`` finds the route Hummingbird's router
/// resolved in ``RouteTable/all`` and checks the caller's role against it, whatever the path's spelling.
struct Route: Hashable, Sendable, CustomStringConvertible {
    /// Who may call a route.
    enum Role: String, Sendable {
        /// Anyone: health, readiness, metrics, the console's login page and static files.
        case open
        /// An operator with a `read` or `operate` token (or console session).
        case read
        /// An operator with an `operate` token (or console session).
        case operate

        /// Whether a caller holding `role` may call a route that needs this one.
        func isGranted(to role: OperatorTokens.Role) -> Bool {
            switch self {
            case .open, .read: true
            case .operate: role == .operate
            }
        }
    }

    /// Which front end a route belongs to, which says how its caller proves who they are.
    enum Surface: Sendable {
        /// `/healthz`, `/readyz`, `/metrics`: open to anyone.
        case service
        /// `/v1`: `Authorization: Bearer <token>`.
        case api
        /// `/ui`: the session cookie a token login gave.
        case console
    }

    let method: HTTPRequest.Method
    /// The path pattern, such as `/v1/changes/{id}`.
    let path: String
    let role: Role
    /// Whether the route holds one of ``ExpensiveRequests``' places while it runs (`/v1` only; the
    /// console's pages take theirs inside, where the work is).
    let expensive: Bool
    /// The query parameters a `/v1` route takes (any other is refused), as `docs/openapi.yaml`
    /// lists them.
    let query: Set<String>

    init(_ method: HTTPRequest.Method, _ path: String, _ role: Role, expensive: Bool = false, query: Set<String> = []) {
        self.method = method
        self.path = path
        self.role = role
        self.expensive = expensive
        self.query = query
    }

    var surface: Surface {
        if path == "/v1" || path.hasPrefix("/v1/") { return .api }
        if path == "/ui" || path.hasPrefix("/ui/") { return .console }
        return .service
    }

    /// The pattern as Hummingbird's router takes it.
    var routerPath: RouterPath { RouterPath(path) }

    /// The pattern as Hummingbird reports the route a request was routed to (`context.endpointPath`).
    var endpointPath: String { routerPath.description }

    var description: String { "\(method) \(path)" }
}

/// Every route `serve` answers, with the role it needs: the one table the router, the access
/// check, `docs/openapi.yaml` and docs/operations.md are held to.
///
/// A request the router resolves to no route here is 404 for everyone.
enum RouteTable {
    // MARK: health and metrics

    static let health = Route(.get, "/healthz", .open)
    static let readiness = Route(.get, "/readyz", .open)
    static let metrics = Route(.get, "/metrics", .open)

    // MARK: /v1

    static let stats = Route(.get, "/v1/stats", .read)
    static let changes = Route(.get, "/v1/changes", .read, query: FilterInput.names.union(["limit", "cursor"]))
    static let change = Route(.get, "/v1/changes/{id}", .read)
    static let history = Route(.get, "/v1/history/{key}", .read, expensive: true, query: ["at"])
    static let audit = Route(.get, "/v1/audit", .read, query: FilterInput.actionNames.union(["limit", "cursor"]))
    static let auditExport = Route(.get, "/v1/audit/export", .read, query: FilterInput.actionNames.union(["format"]))
    static let errors = Route(.get, "/v1/errors", .read, expensive: true, query: ["status"])
    static let quarantined = Route(.get, "/v1/quarantined", .read, query: ["limit", "cursor"])
    static let batches = Route(.get, "/v1/batches", .read, query: ["status", "limit", "cursor"])
    static let reconcileRuns = Route(.get, "/v1/reconcile", .read, query: ["limit"])
    static let startReconcile = Route(.post, "/v1/reconcile", .operate, expensive: true)

    /// `POST /v1/changes/{id}/COMMAND`: one change.
    static func actOnOne(_ command: OperatorActions.Command) -> Route {
        Route(.post, "/v1/changes/{id}/\(command.rawValue)", .operate, expensive: true)
    }

    /// `POST /v1/changes/COMMAND`: changes by ids or a filter.
    static func actOnMany(_ command: OperatorActions.Command) -> Route {
        Route(.post, "/v1/changes/\(command.rawValue)", .operate, expensive: true)
    }

    /// `POST /v1/quarantined/{messageId}/COMMAND`: delete or re-ingest one quarantined message.
    static func actOnQuarantined(_ command: QuarantineActions.Command) -> Route {
        Route(.post, "/v1/quarantined/{messageId}/\(command.rawValue)", .operate)
    }

    // MARK: /ui

    static let consoleStyleSheet = Route(.get, "/ui/static/console.css", .open)
    static let consoleScript = Route(.get, "/ui/static/console.js", .open)
    static let loginPage = Route(.get, "/ui/login", .open)
    static let login = Route(.post, "/ui/login", .open)
    static let logout = Route(.post, "/ui/logout", .read)
    static let overviewPage = Route(.get, "/ui", .read)
    static let errorsPage = Route(.get, "/ui/errors", .read)
    static let changesPage = Route(.get, "/ui/changes", .read)
    static let changePage = Route(.get, "/ui/changes/{id}", .read)
    static let historyPage = Route(.get, "/ui/history", .read)
    static let auditPage = Route(.get, "/ui/audit", .read)
    static let auditExportPage = Route(.get, "/ui/audit/export", .read)
    static let quarantinedPage = Route(.get, "/ui/quarantined", .read)
    static let searchPage = Route(.get, "/ui/search", .read)
    static let quarantinePreview = Route(.post, "/ui/quarantined/preview", .operate)
    static let quarantineRun = Route(.post, "/ui/quarantined/run", .operate)
    static let jobPage = Route(.get, "/ui/jobs/{id}", .read)
    static let jobProgress = Route(.get, "/ui/jobs/{id}/progress", .read)
    static let preview = Route(.post, "/ui/actions/preview", .operate)
    static let run = Route(.post, "/ui/actions/run", .operate)

    /// Every route, each once.
    static let all: [Route] =
        [health, readiness, metrics]
        + [stats, changes, change, history, audit, auditExport, errors, quarantined, batches, reconcileRuns, startReconcile]
        + OperatorActions.Command.allCases.flatMap { [actOnOne($0), actOnMany($0)] }
        + QuarantineActions.Command.allCases.map(actOnQuarantined)
        + [
            consoleStyleSheet, consoleScript, loginPage, login, logout, overviewPage, errorsPage, changesPage, changePage,
            historyPage, auditPage, auditExportPage, quarantinedPage, searchPage, quarantinePreview, quarantineRun, jobPage,
            jobProgress,
            preview, run,
        ]

    private static let byEndpoint: [String: Route] = Dictionary(
        uniqueKeysWithValues: all.map { ("\($0.method) \($0.endpointPath)", $0) })

    /// The methods the table lists for the path pattern `path` resolves to, sorted (empty when no
    /// pattern matches): where patterns overlap, a constant segment wins over a `{name}` one, as in
    /// Hummingbird's router. Console paths count only when the console is on.
    ///
    /// A request whose method is not among them is answered 405 with these as `Allow`.
    static func methods(path: String, console: Bool) -> [String] {
        let segments = Array(path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        var best: (rank: [Bool], pattern: String)?
        for route in all where console || route.surface != .console {
            let parts = Array(route.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
            guard parts.count == segments.count else { continue }
            var rank: [Bool] = []
            for (part, segment) in zip(parts, segments) {
                if part.hasPrefix("{") {
                    rank.append(false)
                } else if part == segment {
                    rank.append(true)
                } else {
                    break
                }
            }
            guard rank.count == parts.count else { continue }
            if let current = best, !Self.outranks(rank, current.rank) { continue }
            best = (rank, route.path)
        }
        guard let pattern = best?.pattern else { return [] }
        return all.filter { $0.path == pattern }.map { "\($0.method)" }.sorted()
    }

    /// Whether a match of constant (`true`) and `{name}` (`false`) segments is preferred to
    /// another: the first segment where they differ is constant.
    private static func outranks(_ rank: [Bool], _ other: [Bool]) -> Bool {
        for (mine, theirs) in zip(rank, other) where mine != theirs { return mine }
        return false
    }

    /// The route the router resolved: `method` and the pattern Hummingbird reports as the
    /// request's endpoint path; nil for a route that is not in the table.
    static func route(_ method: HTTPRequest.Method, endpoint: String?) -> Route? {
        endpoint.flatMap { byEndpoint["\(method) \($0)"] }
    }
}

/// Registers the table's routes on a router, each at most once, and checks at the end that every
/// route of the table has its handler and nothing else was registered.
final class RouteRegistrar {
    private let router: Router<ServiceRequestContext>
    private var registered: [Route] = []

    init(_ router: Router<ServiceRequestContext>) {
        self.router = router
    }

    /// Answers `route` with `handler`.
    func add(
        _ route: Route, _ handler: @escaping @Sendable (Request, ServiceRequestContext) async throws -> Response
    ) {
        precondition(RouteTable.all.contains(route), "\(route) is not in RouteTable.all")
        precondition(!registered.contains(route), "\(route) is registered twice")
        registered.append(route)
        router.on(route.routerPath, method: route.method, use: handler)
    }

    /// Stops the process when a route of the table has no handler: a programming error every
    /// test that starts `serve` catches.
    func checkComplete(console: Bool) {
        let expected = RouteTable.all.filter { console || $0.surface != .console }
        let missing = expected.filter { !registered.contains($0) }
        precondition(missing.isEmpty, "routes without a handler: \(missing)")
    }
}
