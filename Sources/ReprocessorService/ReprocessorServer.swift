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
        let wiring = try await wire(registry: registry)
        let loop = wiring.loop
        if options.tokens.isEmpty {
            logger.warning(
                "no operator token is configured (OPERATOR_TOKENS or --operator-tokens-file): /v1 answers 403 and nobody can log in to /ui"
            )
        } else {
            logger.notice("operators: \(options.tokens.namesWithRoles.joined(separator: ", "))")
        }
        let (listening, serverListens) = AsyncStream<Int>.makeStream()
        let application = Application(
            responder: wiring.responder,
            server: .http1(configuration: .init(idleTimeout: .seconds(Self.idleTimeoutSeconds))),
            configuration: ApplicationConfiguration(address: .hostname(options.address.host, port: options.address.port)),
            onServerRunning: { channel in serverListens.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        // Shut down in reverse order: the loop first (the API keeps answering while it
        // finishes its work), then the HTTP server.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    application,
                    LoopAfterListening(listening: listening, stopWaiting: serverListens, host: options.address.host, loop: loop),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as IOError {
            // Only binding the listening socket does I/O outside the clients, which report their own errors.
            throw ServiceError(.cannotListen, "cannot listen on \(options.address): \(error)")
        }
    }
}

extension ReprocessorServer {
    /// What `serve` is made of: the HTTP responder (every route behind ``RequestGate``) and the
    /// reprocessing loop, over one ``Operations``.
    struct Wiring {
        /// Answers every request: the gate, then the router of ``RouteTable``.
        let responder: RequestGate<RouterResponder<ServiceRequestContext>>
        /// The loop that drains, reads batches and replays.
        let loop: ReprocessingLoop
    }

    /// Builds the parts of `serve` without starting anything, so tests can answer requests in
    /// process (HummingbirdTesting's `.router`) with the same responder the server listens with.
    /// - Parameter registry: Where `/metrics` reads from.
    /// - Throws: Settings errors (queue, OpenSearch, table); a template error.
    func wire(registry: PrometheusCollectorRegistry) async throws -> Wiring {
        let logger = reprocessor.logger
        let ingestor = try await reprocessor.makeIngestor(options: options.ingest)
        let holder = reprocessor.holder
        // In a fleet (a shared PostgreSQL store) every write is fenced by the claims of its documents.
        let engine = try await reprocessor.makeWriteEngine()
        let control = LoopControl()
        let operations = Operations(
            auditLog: reprocessor.auditLog, engine: engine, transform: reprocessor.transform,
            reconcilePageSize: reprocessor.settings.bulkDocuments, logger: logger)
        let expensive = ExpensiveRequests()
        let api = OperatorAPI(
            auditLog: reprocessor.auditLog, operations: operations,
            readiness: Readiness(
                auditLog: reprocessor.auditLog, ingestor: ingestor, engine: engine, control: control,
                apiEnabled: !options.tokens.isEmpty),
            registry: registry, tokens: options.tokens,
            console: try OperatorConsole(
                auditLog: reprocessor.auditLog, operations: operations, ingestor: ingestor, tokens: options.tokens,
                expensive: expensive, logger: logger),
            logger: logger)
        let loop = ReprocessingLoop(
            lease: RunLease(auditLog: reprocessor.auditLog, holder: holder, ttl: options.leaseTTL), control: control,
            auditLog: reprocessor.auditLog, ingestor: ingestor, engine: engine, operations: operations,
            options: options, batchPriorityShare: reprocessor.settings.batchPriorityShare, logger: logger)
        return Wiring(responder: RequestGate(inner: api.makeRouter(expensive: expensive).buildResponder()), loop: loop)
    }
}

/// Runs the reprocessing loop once the HTTP server listens, so a server that cannot listen (its
/// address in use) starts no work and its error is all `serve` says. Once the server listens it
/// takes the run lease, then prints `dlq-reprocessor serving on http://HOST:PORT`, so a lone
/// `serve` holds the lease by the time it says it serves.
struct LoopAfterListening: Service {
    /// Yields the port once the server listens.
    let listening: AsyncStream<Int>
    /// Ends the wait when the service group stops before the server listens.
    let stopWaiting: AsyncStream<Int>.Continuation
    let host: String
    let loop: ReprocessingLoop

    func run() async {
        var port: Int?
        await withGracefulShutdownHandler {
            // Cancelled when the server fails to start: the wait ends with no port.
            for await listened in listening {
                port = listened
                break
            }
        } onGracefulShutdown: {
            stopWaiting.finish()
        }
        guard let port, !Task.isCancelled else { return }
        await loop.takeLeaseAtStart()
        let shown = host.contains(":") ? "[\(host)]" : host
        FileHandle.standardOutput.write(Data("dlq-reprocessor serving on http://\(shown):\(port)\n".utf8))
        await loop.run()
    }
}

/// Bounds the expensive work in flight: `/v1`'s expensive routes (``Route/expensive``: every POST,
/// `history` and `errors`) and the console's previews and background actions share the same places.
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
