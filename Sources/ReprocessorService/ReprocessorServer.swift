// ReprocessorService: `dlq-reprocessor serve`. One process that drains the DLQ continuously,
// replays due changes on an interval under the run lease, and answers an operator HTTP API
// (health, readiness, Prometheus metrics, and the command line's queries and actions as JSON),
// and the operator console in the browser at /ui.
// It reuses the Reprocessor module for all work; it holds no business rule of its own.
import AuditLog
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import Reprocessor
import ServiceLifecycle
import StreamModel
import Synchronization
import UnixSignals

/// The `serve` process: the reprocessing loop and the HTTP API in one service group that
/// stops gracefully on SIGTERM or SIGINT.
public struct ReprocessorServer: Sendable {
    /// Seconds an HTTP connection may stay idle before the server closes it.
    public static let idleTimeoutSeconds: Int64 = 60

    let reprocessor: Reprocessor
    let options: ServeOptions

    /// Creates the server.
    /// - Parameters:
    ///   - reprocessor: The wired reprocessor (settings, audit log, logger).
    ///   - options: Where to listen, how often to replay, who may change things.
    public init(reprocessor: Reprocessor, options: ServeOptions) {
        self.reprocessor = reprocessor
        self.options = options
    }

    /// Runs until SIGTERM or SIGINT, then stops receiving, finishes the work in flight,
    /// releases the run lease and returns.
    ///
    /// Bootstraps swift-metrics with Prometheus, so call it once per process. Prints
    /// `dlq-reprocessor serving on http://HOST:PORT` on standard output once it listens.
    /// - Throws: Settings errors (queue, OpenSearch, table); ``ServiceError`` (`.cannotListen`) for an
    ///   address it cannot listen on.
    public func run() async throws {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[ReprocessorMetrics.Name.changeLag] = ReprocessorMetrics.changeLagBuckets
        MetricsSystem.bootstrap(factory)
        ReprocessorMetrics.registerAll()

        let logger = reprocessor.logger
        let ingestor = try await reprocessor.makeIngestor(options: options.ingest)
        let holder = reprocessor.holder
        // In a fleet (a shared PostgreSQL store) every write is fenced by the claims of its documents.
        let engine = try await reprocessor.makeWriteEngine()
        let control = LoopControl()
        let reconciliation = Reconciliation(engine: engine, pageSize: reprocessor.settings.bulkDocuments, logger: logger)
        let actions = OperatorActions(auditLog: reprocessor.auditLog, engine: engine, logger: logger)
        let expensive = ExpensiveRequests()
        let api = OperatorAPI(
            auditLog: reprocessor.auditLog, actions: actions, reconciliation: reconciliation,
            readiness: Readiness(
                auditLog: reprocessor.auditLog, ingestor: ingestor, engine: engine, control: control),
            registry: registry, tokens: options.tokens,
            console: try OperatorConsole(
                auditLog: reprocessor.auditLog, actions: actions, engine: engine, ingestor: ingestor, tokens: options.tokens,
                expensive: expensive, logger: logger),
            logger: logger)
        let loop = ReprocessingLoop(
            lease: RunLease(auditLog: reprocessor.auditLog, holder: holder, ttl: options.leaseTTL), control: control,
            auditLog: reprocessor.auditLog, ingestor: ingestor, engine: engine, reconciliation: reconciliation,
            options: options, logger: logger)
        await loop.takeLeaseAtStart()
        if options.tokens.isEmpty {
            logger.notice("no operator tokens configured: the /v1 endpoints answer 403")
        } else {
            logger.notice("operators: \(options.tokens.namesWithRoles.joined(separator: ", "))")
        }
        let host = options.address.host
        let application = Application(
            responder: AccessControl(inner: api.makeRouter().buildResponder(), tokens: options.tokens, expensive: expensive),
            server: .http1(configuration: .init(idleTimeout: .seconds(Self.idleTimeoutSeconds))),
            configuration: ApplicationConfiguration(address: .hostname(host, port: options.address.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shown = host.contains(":") ? "[\(host)]" : host
                FileHandle.standardOutput.write(Data("dlq-reprocessor serving on http://\(shown):\(port)\n".utf8))
            },
            logger: logger)
        // Shut down in reverse order: the loop first (the API keeps answering while it
        // finishes its work), then the HTTP server.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [application, loop], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as IOError {
            // Only binding the listening socket does I/O outside the clients, which report their own errors.
            throw ServiceError(.cannotListen, "cannot listen on \(options.address): \(error)")
        }
    }
}

/// Who may reach what, in front of every route: `/healthz`, `/readyz` and `/metrics` are open;
/// everything under `/v1` needs `Authorization: Bearer <token>` (401 without a known one, 403
/// when no token is configured); a `read` token may only GET (403 for anything else). A
/// request that announces a body larger than ``BodyInput/maxBytes`` is refused with 413
/// before it is read. The expensive endpoints (every POST, `history`, `errors`) run at most
/// ``ExpensiveRequests/limit`` at a time (the console's actions count among them); beyond that
/// they answer 429 with `Retry-After`.
struct AccessControl<Inner: HTTPResponder>: HTTPResponder where Inner.Context == ServiceRequestContext {
    let inner: Inner
    let tokens: OperatorTokens
    /// Shared with the console, whose previews and background actions hold places too.
    let expensive: ExpensiveRequests

    func respond(to request: Request, context: ServiceRequestContext) async throws -> Response {
        if let refusal = refusal(request) { return JSONResponse.error(refusal) }
        guard ExpensiveRequests.isExpensive(request) else { return try await inner.respond(to: request, context: context) }
        guard let permit = expensive.take() else {
            return JSONResponse.error(
                ServiceError(
                    .tooManyRequests,
                    "busy: \(ExpensiveRequests.limit) expensive requests are already running; try again after 1 s",
                    retryAfter: 1))
        }
        var response = try await inner.respond(to: request, context: context)
        // The permit is held until the body (which may stream the work's results) has been
        // written or dropped: the closure owns it, and releasing the closure gives it back.
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            try await body.write(writer)
            withExtendedLifetime(permit) {}
        }
        return response
    }

    /// Why `request` is refused, or nil when it may go on.
    func refusal(_ request: Request) -> ServiceError? {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > BodyInput.maxBytes {
            return ServiceError(.payloadTooLarge, "the request body is larger than \(BodyInput.maxBytes) bytes")
        }
        let path = request.uri.path
        guard path == "/v1" || path.hasPrefix("/v1/") else { return nil }
        guard !tokens.isEmpty else {
            return ServiceError(
                .forbidden, "the /v1 API is off: no operator token is configured (set OPERATOR_TOKENS or --operator-tokens-file)")
        }
        guard let header = request.headers[.authorization] else {
            return ServiceError(.unauthorized, "send Authorization: Bearer <token>")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
            let (name, role) = tokens.operatorPresenting(parts[1].trimmingCharacters(in: .whitespaces))
        else {
            return ServiceError(.unauthorized, "the bearer token matches no operator")
        }
        if role == .read, request.method != .get, request.method != .head {
            return ServiceError(
                .forbidden, "\"\(name)\" has a read token; \(request.method) needs a token with the operate role")
        }
        return nil
    }
}

/// Bounds the expensive work in flight: `/v1`'s expensive requests and the console's previews and
/// background actions share the same places.
final class ExpensiveRequests: Sendable {
    /// The most expensive requests served at once.
    static let limit = 4

    /// A place among the expensive requests in flight; given back when released.
    final class Permit: Sendable {
        private let owner: ExpensiveRequests
        init(owner: ExpensiveRequests) { self.owner = owner }
        deinit { owner.inFlight.withLock { $0 -= 1 } }
    }

    let inFlight = Mutex(0)

    /// Every POST, and the GETs whose answers are not paged: `history` and `errors`.
    static func isExpensive(_ request: Request) -> Bool {
        let path = request.uri.path
        guard path.hasPrefix("/v1/") else { return false }
        return request.method == .post || path.hasPrefix("/v1/history/") || path == "/v1/errors"
    }

    /// A permit, or nil when ``limit`` requests already hold one.
    func take() -> Permit? {
        let granted = inFlight.withLock { count -> Bool in
            guard count < Self.limit else { return false }
            count += 1
            return true
        }
        return granted ? Permit(owner: self) : nil
    }
}
