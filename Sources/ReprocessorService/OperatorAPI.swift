import AuditLog
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import Reprocessor
import StreamModel

/// The HTTP API of `serve`: health, readiness, metrics, the operator endpoints under `/v1`,
/// answering the same JSON shapes as the command line's `--json` (``AuditJSON``), and the
/// console's pages under `/ui`.
struct OperatorAPI: Sendable {
    let auditLog: AuditLog
    /// What every operator endpoint calls.
    let operations: Operations
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry
    let tokens: OperatorTokens
    /// The operator console served at `/ui`.
    let console: OperatorConsole?
    let logger: Logger

    /// The router with every route of ``RouteTable``, each behind ``RouteAccess``; unknown routes and
    /// refused requests answer problem details (``ProblemDetails``; the console's pages answer their
    /// own refusals as pages). Every POST action runs through ``idempotent(_:_:_:_:)``.
    func makeRouter(expensive: ExpensiveRequests) -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        router.add(middleware: RouteAccess(tokens: tokens, expensive: expensive, console: console))
        let routes = RouteRegistrar(router)
        console?.register(on: routes)
        routes.add(RouteTable.health) { _, _ in JSONResponse.make(.object(["status": .string("ok")])) }
        routes.add(RouteTable.readiness) { _, _ in
            let (ready, body) = await readiness.check()
            var response = JSONResponse.make(body, status: ready ? .ok : .serviceUnavailable)
            // Readiness is checked again once a second.
            if !ready { response.headers[.retryAfter] = "1" }
            return response
        }
        routes.add(RouteTable.metrics) { _, _ in await metrics() }
        routes.add(RouteTable.stats) { request, _ in
            _ = try QueryInput(request, route: RouteTable.stats)
            let (stats, recentLags) = try await queries.stats()
            return JSONResponse.make(AuditJSON.stats(stats, recentLags: recentLags))
        }
        routes.add(RouteTable.changes) { request, _ in try await list(request) }
        routes.add(RouteTable.change) { request, context in try await show(request, context) }
        routes.add(RouteTable.history) { request, context in try await history(request, context) }
        routes.add(RouteTable.audit) { request, _ in try await audit(request) }
        routes.add(RouteTable.auditExport) { request, _ in try await exportAudit(request) }
        routes.add(RouteTable.errors) { request, _ in try await errors(request) }
        routes.add(RouteTable.quarantined) { request, _ in try await quarantined(request) }
        routes.add(RouteTable.batches) { request, _ in try await batches(request) }
        routes.add(RouteTable.reconcileRuns) { request, _ in try await reconcileRuns(request) }
        routes.add(RouteTable.startReconcile) { request, context in
            try await idempotent(RouteTable.startReconcile, request, context) { request in try await startReconcile(request) }
        }
        for command in OperatorActions.Command.allCases {
            routes.add(RouteTable.actOnOne(command)) { request, context in
                try await idempotent(RouteTable.actOnOne(command), request, context) { request in
                    try await performOne(command, request, context)
                }
            }
            routes.add(RouteTable.actOnMany(command)) { request, context in
                try await idempotent(RouteTable.actOnMany(command), request, context) { request in
                    try await performMany(command, request)
                }
            }
        }
        registerQuarantineActions(on: routes)
        routes.checkComplete(console: console != nil)
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
        let query = try QueryInput(request, route: RouteTable.changes)
        let filter = try FilterInput.filter(query)
        let limit = try query.count("limit", AuditQueries.changesPage)
        let page = try await queries.changes(filter, cursor: query.string("cursor"), limit: limit)
        return JSONResponse.make(AuditJSON.list(page))
    }

    /// `GET /v1/changes/{id}`: one change with its field diff and actions.
    func show(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        _ = try QueryInput(request, route: RouteTable.change)
        let (change, actions) = try await queries.change(id: try changeID(context))
        return JSONResponse.make(AuditJSON.show(change, actions: actions))
    }

    /// `GET /v1/history/{key}`: every change and action of one artist; `at` gives the document then.
    func history(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let query = try QueryInput(request, route: RouteTable.history)
        let key = context.parameters.get("key").flatMap { $0.removingPercentEncoding } ?? ""
        _ = try FilterInput.artistKey(key, "key")
        guard let at = try query.time("at", now: Date()) else {
            return JSONResponse.make(try await queries.history(key: key).json)
        }
        return JSONResponse.make(try await queries.document(key: key, at: at).json)
    }

    /// `GET /v1/audit`: actions by `actor`, `action`, `since`, `until`, a page at a time
    /// (`limit` 1–1000, default 500, and `cursor`).
    func audit(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, route: RouteTable.audit)
        let filter = try FilterInput.actionFilter(query)
        let limit = try query.count("limit", AuditQueries.actionsPage)
        let page = try await queries.actions(filter, cursor: query.string("cursor"), limit: limit)
        return JSONResponse.make(AuditQueries.json(actions: page))
    }

    /// `GET /v1/audit/export?format=csv|ndjson`: every action matching `actor`, `action`, `since`,
    /// `until`, streamed a page at a time (as `audit --format csv|ndjson` prints them).
    func exportAudit(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, route: RouteTable.auditExport)
        let format = try FilterInput.exportFormat(query)
        return Self.export(try FilterInput.actionFilter(query), format: format, queries: queries, logger: logger)
    }

    /// A streamed export of the actions matching `filter`: memory holds one page, however long the log.
    static func export(_ filter: ActionFilter, format: ActionExportFormat, queries: AuditQueries, logger: Logger) -> Response {
        let body = ResponseBody { writer in
            do {
                try await queries.exportActions(filter, format: format) { lines in
                    try await writer.write(ByteBuffer(string: lines))
                }
            } catch {
                // The status line is gone by now: the export ends short, and the log says why.
                logger.error("audit export stopped part-way: \(error)")
            }
            try await writer.finish(nil)
        }
        let file = "audit.\(format.rawValue)"
        return Response(
            status: .ok,
            headers: [.contentType: format.contentType, .contentDisposition: "attachment; filename=\"\(file)\""],
            body: body)
    }

    /// `GET /v1/errors`: failures grouped by error text (`status`, default failed, parked, expired).
    func errors(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, route: RouteTable.errors)
        let filter = try FilterInput.filter(
            statuses: query.list("status"), key: nil, event: nil, since: nil, until: nil, error: nil)
        return JSONResponse.make(AuditQueries.json(errorGroups: try await queries.errorGroups(statuses: filter.statuses)))
    }

    /// `GET /v1/quarantined`: quarantined messages with their reason and raw body, a page at a time
    /// (`limit` 1–1000, default 50, and `cursor`).
    func quarantined(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, route: RouteTable.quarantined)
        let limit = try query.count("limit", AuditQueries.quarantinedPage)
        let page = try await queries.quarantined(cursor: query.string("cursor"), limit: limit)
        return JSONResponse.make(AuditQueries.json(quarantined: page))
    }

    /// `GET /v1/batches`: failed batches by `status` (repeated or comma-separated: pending, read,
    /// expired, skipped), a page at a time (`limit` 1–1000, default 50, and `cursor`), as `batches --json`.
    func batches(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, route: RouteTable.batches)
        var statuses = Set<BatchStatus>()
        for text in query.list("status") {
            guard let status = BatchStatus(rawValue: text) else {
                throw ServiceError(
                    .invalidInput, "unknown batch status \"\(text.prefix(40))\": use pending, read, expired or skipped",
                    field: "status")
            }
            statuses.insert(status)
        }
        let limit = try query.count("limit", AuditQueries.batchesPage)
        let page = try await auditLog.listBatches(statuses: statuses, limit: limit, cursor: query.string("cursor"))
        return JSONResponse.make(AuditJSON.batches(page))
    }

    // MARK: helpers

    /// The query façade every read goes through.
    var queries: AuditQueries { AuditQueries(auditLog: auditLog) }

    func changeID(_ context: ServiceRequestContext) throws(ServiceError) -> Int64 {
        do {
            return try OperatorInput.id(context.parameters.get("id") ?? "", field: "change id")
        } catch {
            throw ServiceError(error)
        }
    }

    static func unknownChange(_ id: Int64) -> ServiceError {
        ServiceError(.notFound, "no change with id \(id)")
    }
}

/// Answers every refused request, unknown route and unexpected failure as problem details
/// (``ProblemDetails``); only failures of the service itself are 500, answered as `internal error`
/// with the request's id (in the body and in `X-Request-Id`, as every problem has it), which the log
/// line saying what failed carries too: a 500 never shows internals.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let logger: Logger

    /// The header a problem carries its request id in, as its body does.
    static let requestIDHeader = ProblemDetails.requestIDHeader

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return ProblemDetails.response(serviceError(error, request, context), requestID: context.id)
        }
    }

    /// What a failure is answered as.
    func serviceError(_ error: any Error, _ request: Request, _ context: Context) -> ServiceError {
        switch error {
        case let error as ServiceError:
            return error
        case let error as HTTPError where error.status == .notFound:
            return ServiceError(.notFound, "no such endpoint: \(request.method) \(request.uri.path.prefix(200))")
        case let error as HTTPError where (400..<500).contains(error.status.code):
            return ServiceError(.badRequest, error.body ?? "\(error.status)")
        case let error as RequestError:
            return ServiceError(.invalidInput, error.description, field: error.field.rawValue)
        case let error as ReprocessorError where error.code == .invalidRequest:
            return ServiceError(.invalidInput, error.description)
        case let error as ReprocessorError where error.code == .notFound:
            return ServiceError(.notFound, error.description)
        case let error as AuditLogError where error.code == .invalidCursor:
            return ServiceError(.invalidInput, error.description, field: "cursor")
        case let error as AuditLogError where [.storage, .leaseHeld].contains(error.code):
            // The database is busy or failing: the client may try again; not the request's fault.
            logger.warning("request could not be served: \(request.method) \(request.uri.path): \(error)")
            return ServiceError(.unavailable, "unavailable: the audit database did not answer; try again", retryAfter: 1)
        default:
            // What failed is for the log, not the client: the answer names the request, the log line too.
            logger.error(
                "request \(context.id) failed: \(request.method) \(request.uri.path): \(error)",
                metadata: ["requestID": "\(context.id)"])
            return ServiceError(.internalError, "internal error (request id \(context.id)): the log says what failed")
        }
    }
}
