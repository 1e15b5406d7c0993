// ReprocessorService: `dlq-reprocessor serve`. One process that drains the DLQ continuously,
// replays due changes on an interval under the run lease, and answers an operator HTTP API
// (health, readiness, Prometheus metrics, and the command line's queries and actions as JSON).
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
import UnixSignals

/// The `serve` process: the reprocessing loop and the HTTP API in one service group that
/// stops gracefully on SIGTERM or SIGINT.
public struct ReprocessorServer: Sendable {
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
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        ReprocessorMetrics.registerAll()

        let logger = reprocessor.logger
        let ingestor = try await reprocessor.makeIngestor(options: options.ingest)
        let engine = try await reprocessor.makeWriteEngine()
        let holder = RunLease.makeHolderID()
        let control = LoopControl()
        let reconciliation = Reconciliation(engine: engine, pageSize: reprocessor.settings.bulkDocuments, logger: logger)
        let api = OperatorAPI(
            auditLog: reprocessor.auditLog,
            actions: OperatorActions(auditLog: reprocessor.auditLog, engine: engine, logger: logger),
            reconciliation: reconciliation,
            readiness: Readiness(
                auditLog: reprocessor.auditLog, ingestor: ingestor, engine: engine, control: control, holder: holder),
            registry: registry, tokens: options.tokens, logger: logger)
        let loop = ReprocessingLoop(
            lease: RunLease(auditLog: reprocessor.auditLog, holder: holder, ttl: options.leaseTTL), control: control,
            auditLog: reprocessor.auditLog, ingestor: ingestor, engine: engine, reconciliation: reconciliation,
            options: options, logger: logger)
        await loop.takeLeaseAtStart()
        if options.tokens.isEmpty {
            logger.notice("no operator tokens configured: the mutating endpoints answer 403")
        } else {
            logger.notice("operators allowed to change things: \(options.tokens.names.joined(separator: ", "))")
        }
        let host = options.address.host
        let application = Application(
            router: api.makeRouter(),
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
