import AuditLog
import Foundation
import Hummingbird
import Logging
import Prometheus
import Reprocessor
import StreamModel

/// The HTTP API of `serve`: health, readiness, metrics, and the operator endpoints under `/v1`,
/// answering the same JSON shapes as the command line's `--json` (``AuditJSON``).
struct OperatorAPI: Sendable {
    let auditLog: AuditLog
    let actions: OperatorActions
    /// Reconcile runs started through `POST /v1/reconcile`.
    let reconciliation: Reconciliation?
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry
    let tokens: OperatorTokens
    let logger: Logger

    /// The router with every route; unknown routes and refused requests answer `{"error": …}`.
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        router.get("/healthz") { _, _ in JSONResponse.make(.object(["status": .string("ok")])) }
        router.get("/readyz") { _, _ in
            let (ready, body) = await readiness.check()
            return JSONResponse.make(body, status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in await metrics() }
        router.get("/v1/stats") { request, _ in
            _ = try QueryInput(request, allowed: [])
            return JSONResponse.make(AuditJSON.stats(try await auditLog.stats()))
        }
        router.get("/v1/changes") { request, _ in try await list(request) }
        router.get("/v1/changes/:id") { request, context in try await show(request, context) }
        router.get("/v1/history/:key") { request, context in try await history(request, context) }
        router.get("/v1/audit") { request, _ in try await audit(request) }
        router.get("/v1/errors") { request, _ in try await errors(request) }
        router.get("/v1/quarantined") { request, _ in try await quarantined(request) }
        router.get("/v1/reconcile") { request, _ in try await reconcileRuns(request) }
        router.post("/v1/reconcile") { request, _ in try await startReconcile(request) }
        for command in OperatorActions.Command.allCases {
            router.post(RouterPath("/v1/changes/:id/\(command.rawValue)")) { request, context in
                try await performOne(command, request, context)
            }
            router.post(RouterPath("/v1/changes/\(command.rawValue)")) { request, _ in
                try await performMany(command, request)
            }
        }
        return router
    }

    // MARK: metrics

    /// Prometheus text, with the audit-log gauges read fresh.
    func metrics() async -> Response {
        do {
            ReprocessorMetrics.record(try await auditLog.stats())
        } catch {
            logger.warning("metrics: could not read the audit log's counts: \(error)")
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    // MARK: queries

    /// `GET /v1/changes`: the `list` filters, `limit` (1–1000, default 50) and `cursor`.
    func list(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, allowed: FilterInput.names.union(["limit", "cursor"]))
        let filter = try FilterInput.filter(query)
        let limit = try query.integer("limit", in: 1...1000, default: 50)
        let page = try await auditLog.listChanges(filter, after: query.string("cursor"), limit: limit)
        return JSONResponse.make(AuditJSON.list(page))
    }

    /// `GET /v1/changes/{id}`: one change with its field diff and actions.
    func show(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try QueryInput(request, allowed: [])
        let id = try changeID(context)
        guard let change = try await auditLog.change(id: id) else { throw Self.unknownChange(id) }
        return JSONResponse.make(AuditJSON.show(change, actions: try await auditLog.actions(forChange: id)))
    }

    /// `GET /v1/history/{key}`: every change and action of one artist; `at` gives the document then.
    func history(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = try QueryInput(request, allowed: ["at"])
        let key = context.parameters.get("key").flatMap { $0.removingPercentEncoding } ?? ""
        guard !key.isEmpty else { throw ServiceError(.badRequest, "name an artist: /v1/history/42 or /v1/history/ARTIST%2342") }
        let documentID = OperatorInput.documentID(forKey: key)
        let at = try FilterInput.time(query.string("at"), "at", now: Date())
        let history = try await auditLog.history(documentID: documentID)
        guard let at else {
            return JSONResponse.make(
                AuditJSON.history(documentID: documentID, changes: history.changes, actions: history.actions))
        }
        let state = DocumentTimeline.document(at: at, actions: history.actions)
        return JSONResponse.make(
            .object([
                "documentId": .string(documentID), "at": .string(AuditJSON.time(at)),
                "document": state?.document ?? .null,
                "exists": .bool(state.map { $0.document != .null } ?? false),
                "asOfAction": state.map { AuditJSON.action($0.action) } ?? .null,
            ]))
    }

    /// `GET /v1/audit`: actions by `actor`, `action`, `since`, `until`, a page at a time
    /// (`limit` 1–1000, default 500, and `cursor`).
    func audit(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, allowed: ["actor", "action", "since", "until", "limit", "cursor"])
        var kinds = Set<ActionKind>()
        for text in query.list("action") {
            guard let kind = ActionKind(rawValue: text) else {
                throw ServiceError(
                    .badRequest, "unknown action \"\(text)\"; use \(ActionKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kinds.insert(kind)
        }
        let now = Date()
        let filter = ActionFilter(
            actor: query.string("actor"), actions: kinds, since: try FilterInput.time(query.string("since"), "since", now: now),
            until: try FilterInput.time(query.string("until"), "until", now: now))
        let limit = try query.integer("limit", in: 1...1000, default: 500)
        let page = try await auditLog.listActions(filter, after: query.string("cursor"), limit: limit)
        return JSONResponse.make(
            .object(["actions": .array(page.rows.map(AuditJSON.action)), "next": page.next.map(JSONValue.string) ?? .null]))
    }

    /// `GET /v1/errors`: failures grouped by error text (`status`, default failed, parked, expired).
    func errors(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, allowed: ["status"])
        let filter = try FilterInput.filter(
            statuses: query.list("status"), key: nil, event: nil, since: nil, until: nil, error: nil)
        let statuses = filter.statuses.isEmpty ? Set<ChangeStatus>([.failed, .parked, .expired]) : filter.statuses
        let groups = try await auditLog.errorGroups(statuses: statuses)
        return JSONResponse.make(.object(["errors": .array(groups.map(AuditJSON.errorGroup))]))
    }

    /// `GET /v1/quarantined`: quarantined messages with their reason and raw body, a page at a time
    /// (`limit` 1–1000, default 50, and `cursor`).
    func quarantined(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, allowed: ["limit", "cursor"])
        let limit = try query.integer("limit", in: 1...1000, default: 50)
        let page = try await auditLog.quarantinedMessages(after: query.string("cursor"), limit: limit)
        return JSONResponse.make(
            .object(["messages": .array(page.rows.map(AuditJSON.message)), "next": page.next.map(JSONValue.string) ?? .null]))
    }

    // MARK: helpers

    func changeID(_ context: BasicRequestContext) throws(ServiceError) -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else {
            throw ServiceError(.badRequest, "change id \"\(text.prefix(40))\" is not a positive integer")
        }
        return id
    }

    static func unknownChange(_ id: Int64) -> ServiceError {
        ServiceError(.notFound, "no change with id \(id)")
    }
}

/// Answers every refused request, unknown route and unexpected failure as `{"error": …}`;
/// only failures of the service itself (the audit log, say) are 500.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as ServiceError {
            return JSONResponse.error(error)
        } catch let error as HTTPError {
            let message =
                error.status == .notFound
                ? "no such endpoint: \(request.method) \(request.uri.path)" : error.body ?? "\(error.status)"
            return JSONResponse.make(.object(["error": .string(message)]), status: error.status)
        } catch let error as ReprocessorError where error.code == .invalidRequest {
            return JSONResponse.error(ServiceError(.badRequest, error.description))
        } catch let error as ReprocessorError where error.code == .notFound {
            return JSONResponse.error(ServiceError(.notFound, error.description))
        } catch {
            logger.error("request failed: \(request.method) \(request.uri.path): \(error)")
            return JSONResponse.make(
                .object([
                    "error": .string("internal error: \(String(describing: error).replacingOccurrences(of: "\n", with: " "))")
                ]),
                status: .internalServerError)
        }
    }
}
