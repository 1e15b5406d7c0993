// The reprocessor: drains the DLQ into the audit log, replays changes into
// OpenSearch without going back in time, and carries out operator requests.
// It wires the shared modules together; it does not parse command lines or
// print (the executable does), and it never talks to SQLite directly (the
// audit log does).
import AWSClients
import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel
import SyncTransform

/// The wired reprocessor: settings, the audit log and the clients built from them.
///
/// Clients are made on demand, so a command that only reads the audit log
/// (`list`, `history`) needs no AWS or OpenSearch settings.
public struct Reprocessor: Sendable {
    /// The resolved settings.
    public let settings: ReprocessorSettings
    /// The audit log.
    public let auditLog: AuditLog
    /// The shared transform (index name from the settings).
    public let transform: SyncTransform
    /// The logger every part logs to.
    public let logger: Logger
    /// This process's holder id (``RunLease/makeHolderID()``): the run lease's holder, and on a
    /// shared store the holder of the documents its write engine claims.
    public let holder: String
    private let environment: [String: String]

    /// Opens the audit log's SQLite file (creating and migrating it when new); a shared
    /// PostgreSQL store is opened with ``open(settings:environment:logger:)``.
    /// - Parameters:
    ///   - settings: Resolved settings.
    ///   - environment: Where AWS settings are read from.
    ///   - logger: The logger.
    ///   - chainKey: The audit chain key (from ``loadAuditKey(settings:environment:logger:)``), or nil.
    /// - Throws: `AuditLogError` when the database cannot be opened or migrated, or is keyed with another key.
    public init(
        settings: ReprocessorSettings, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger,
        chainKey: AuditChainKey? = nil
    )
        throws
    {
        self.init(
            settings: settings, auditLog: try AuditLog(path: settings.auditDatabasePath, chainKey: chainKey),
            environment: environment, logger: logger)
    }

    private init(settings: ReprocessorSettings, auditLog: AuditLog, environment: [String: String], logger: Logger) {
        self.settings = settings
        self.environment = environment
        self.logger = logger
        self.transform = SyncTransform(index: settings.index)
        self.auditLog = auditLog
        self.holder = RunLease.makeHolderID()
    }

    /// Loads the audit chain key the settings name (if any), then opens the audit log with it:
    /// a SQLite file, or a shared PostgreSQL store for a `postgres://` location, whose password
    /// comes from the URL, else from the `AUDIT_DB_SECRET_ARN` secret, else from `PGPASSWORD`.
    /// - Parameters:
    ///   - settings: Resolved settings.
    ///   - environment: Where AWS settings are read from.
    ///   - logger: The logger.
    ///   - creatingStore: Whether a missing store is created (commands that write); when false it
    ///     is refused with `AuditLogError` `.missingStore`.
    ///   - readOnly: Opens a SQLite store read-only (commands that only read; see `AuditLog`).
    /// - Throws: Errors of ``loadAuditKey(settings:environment:logger:)`` and
    ///   ``loadDatabasePassword(settings:environment:logger:)``; `AuditLogError` when the store
    ///   is missing (and may not be created), cannot be opened or migrated, or is keyed with another key.
    public static func open(
        settings: ReprocessorSettings, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger,
        creatingStore: Bool = true, readOnly: Bool = false
    ) async throws -> Reprocessor {
        let key = try await loadAuditKey(settings: settings, environment: environment, logger: logger)
        var storeEnvironment = environment
        if let password = try await loadDatabasePassword(settings: settings, environment: environment, logger: logger) {
            storeEnvironment["PGPASSWORD"] = password
        }
        let auditLog = try await AuditLog(
            location: settings.auditDatabasePath, chainKey: key, creating: creatingStore, environment: storeEnvironment,
            readOnly: readOnly)
        return Reprocessor(settings: settings, auditLog: auditLog, environment: environment, logger: logger)
    }

    /// The PostgreSQL password the `AUDIT_DB_SECRET_ARN` secret holds, when it is set and the
    /// store is PostgreSQL: the secret's `password` member when it is a JSON object (as RDS
    /// and its rotation write it), else its whole text.
    /// - Returns: The password, or nil when no secret is set.
    /// - Throws: ``ReprocessorError`` `.invalidSetting` when the secret is set for a SQLite store
    ///   or holds no password; AWS errors when it cannot be read.
    public static func loadDatabasePassword(
        settings: ReprocessorSettings, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) async throws -> String? {
        guard let arn = settings.auditDatabaseSecretARN else { return nil }
        let variable = ReprocessorSettings.Source.auditDatabaseSecret
        guard settings.isSharedStore else {
            throw ReprocessorError(
                .invalidSetting, "\(variable) is set, but the audit store \(settings.auditDatabasePath) is not a postgres:// URL")
        }
        let secrets = SecretsManagerClient(
            configuration: try AWSConfiguration.fromEnvironment(environment), httpClient: SharedHTTPClient.client, logger: logger)
        let text = try await secrets.getSecretString(secretID: arn)
        if let object = try? JSONValue(parsing: text), case .object = object {
            guard let password = object["password"]?.stringValue, !password.isEmpty else {
                throw ReprocessorError(
                    .invalidSetting,
                    "the database secret \(arn) (\(variable)) is a JSON object without a string \"password\" (value not shown)")
            }
            return password
        }
        let password = text.trimmingCharacters(in: .newlines)
        guard !password.isEmpty else {
            throw ReprocessorError(.invalidSetting, "the database secret \(arn) (\(variable)) is empty")
        }
        return password
    }

    /// Whether the audit log is a shared PostgreSQL store, where many processes work as a fleet
    /// (documents are claimed; the run lease only elects who reads batches and reconciles).
    public var isFleet: Bool {
        auditLog.isShared
    }

    /// AWS region, credentials and endpoints from the environment.
    /// - Throws: `AWSError` naming the missing variables.
    public func awsConfiguration() throws -> AWSConfiguration {
        try AWSConfiguration.fromEnvironment(environment)
    }

    /// An ingestor for the configured DLQ.
    /// - Parameter options: Limits of this drain.
    /// - Throws: A missing queue setting, AWS configuration errors, or a queue name that does not resolve.
    public func makeIngestor(options: IngestOptions) async throws -> DLQIngestor {
        let queue = try settings.requireQueue()
        let configuration = try awsConfiguration()
        let sqs = SQSClient(configuration: configuration, httpClient: SharedHTTPClient.client, logger: logger)
        let queueURL = queue.hasPrefix("http://") || queue.hasPrefix("https://") ? queue : try await sqs.getQueueURL(name: queue)
        return DLQIngestor(
            queueURL: queueURL,
            sqs: sqs,
            streams: StreamRangeReader(
                client: DynamoDBStreamsClient(configuration: configuration, httpClient: SharedHTTPClient.client, logger: logger),
                logger: logger),
            auditLog: auditLog,
            transform: transform,
            options: options,
            visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
            batchBackoff: settings.batchBackoff,
            logger: logger
        )
    }

    /// The write engine, writing to the configured OpenSearch index and checking the configured
    /// table; it claims the documents it decides as ``holder`` (``WriteEngine/claiming(as:ttl:)``,
    /// for `DLQ_LEASE_TTL`), whoever uses it: replay, operator actions, reconcile repairs. On
    /// every store: on SQLite too, where operator commands write beside the one replayer.
    /// - Throws: Missing settings (endpoint, table), AWS configuration errors, or an unreadable secret.
    public func makeWriteEngine() async throws -> WriteEngine {
        let endpoint = try settings.requireOpenSearchEndpoint()
        let tableName = try settings.requireTableName()
        let configuration = try awsConfiguration()
        let auth = try await openSearchAuth(configuration: configuration)
        let openSearch = OpenSearchClient(
            endpoint: endpoint, auth: auth, httpClient: SharedHTTPClient.client,
            retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(200), maxDelay: .seconds(2)),
            requestTimeout: settings.openSearchTimeout, maxBulkOperations: settings.bulkDocuments, logger: logger)
        let engine = WriteEngine(
            auditLog: auditLog,
            openSearch: openSearch,
            table: TableReader(
                client: DynamoDBClient(configuration: configuration, httpClient: SharedHTTPClient.client, logger: logger),
                tableName: tableName),
            planner: WritePlanner(transform: transform, maxAttempts: settings.maxAttempts, backoff: settings.applyBackoff),
            batchDocuments: settings.bulkDocuments,
            logger: logger
        )
        if isFleet { await warnIfClockSkewed() }
        // On SQLite the kernel frees this process's claims the moment it dies.
        try await auditLog.holdClaimantLock(for: holder)
        return engine.claiming(as: holder, ttl: settings.leaseTTL)
    }

    /// On a shared store, warns when this machine's clock is off the database's by more than a
    /// tenth of `DLQ_LEASE_TTL` (at least a second): a worker whose clock runs ahead takes
    /// others' claims and leases early, one behind keeps its own too long.
    func warnIfClockSkewed() async {
        guard let offset = try? await auditLog.databaseClockOffset() else { return }
        let limit = max(.seconds(1), settings.leaseTTL / 10)
        guard offset > limit || offset < .zero - limit else { return }
        logger.warning(
            "this machine's clock is \(offset) off the audit database's (more than \(limit)); document claims and the run lease expire by each worker's clock: keep the fleet's clocks in step (NTP)",
            metadata: ["clockOffsetMs": "\(offset / .milliseconds(1))"])
    }

    /// A reconcile of the configured table with the configured index, through the write engine's clients and rules.
    /// - Throws: As ``makeWriteEngine()``.
    public func makeReconciliation() async throws -> Reconciliation {
        Reconciliation(engine: try await makeWriteEngine(), pageSize: settings.bulkDocuments, logger: logger)
    }

    private func openSearchAuth(configuration: AWSConfiguration) async throws -> OpenSearchAuth {
        switch settings.openSearchAuth {
        case .none:
            return .none
        case .sigV4:
            return .sigV4(credentials: configuration.credentialProvider, region: configuration.region)
        case .basic:
            guard let secretsARN = settings.secretsARN else {
                throw ReprocessorError.missing(
                    "OpenSearch credentials secret", flag: ReprocessorSettings.Source.secrets.0,
                    variable: ReprocessorSettings.Source.secrets.1)
            }
            let secrets = SecretsManagerClient(configuration: configuration, httpClient: SharedHTTPClient.client, logger: logger)
            let text = try await secrets.getSecretString(secretID: secretsARN)
            guard let object = try? JSONValue(parsing: text),
                let username = object["username"]?.stringValue,
                let password = object["password"]?.stringValue
            else {
                throw ReprocessorError(
                    .invalidSetting,
                    "secret \(secretsARN) is not a JSON object with string \"username\" and \"password\" (value not shown)")
            }
            return .basic(username: username, password: password)
        }
    }
}
