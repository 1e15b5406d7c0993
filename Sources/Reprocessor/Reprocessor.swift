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
    private let environment: [String: String]

    /// Opens the audit log (creating and migrating it when new).
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
        self.settings = settings
        self.environment = environment
        self.logger = logger
        self.transform = SyncTransform(index: settings.index)
        self.auditLog = try AuditLog(path: settings.auditDatabasePath, chainKey: chainKey)
    }

    /// Loads the audit chain key the settings name (if any), then opens the reprocessor with it.
    /// - Parameters:
    ///   - settings: Resolved settings.
    ///   - environment: Where AWS settings are read from.
    ///   - logger: The logger.
    /// - Throws: Errors of ``loadAuditKey(settings:environment:logger:)`` and of ``init(settings:environment:logger:chainKey:)``.
    public static func open(
        settings: ReprocessorSettings, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) async throws -> Reprocessor {
        let key = try await loadAuditKey(settings: settings, environment: environment, logger: logger)
        return try Reprocessor(settings: settings, environment: environment, logger: logger, chainKey: key)
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

    /// The write engine, writing to the configured OpenSearch index and checking the configured table.
    /// - Throws: Missing settings (endpoint, table), AWS configuration errors, or an unreadable secret.
    public func makeWriteEngine() async throws -> WriteEngine {
        let endpoint = try settings.requireOpenSearchEndpoint()
        let tableName = try settings.requireTableName()
        let configuration = try awsConfiguration()
        let auth = try await openSearchAuth(configuration: configuration)
        let openSearch = OpenSearchClient(
            endpoint: endpoint, auth: auth, httpClient: SharedHTTPClient.client,
            retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(200), maxDelay: .seconds(2)),
            maxBulkOperations: settings.bulkDocuments, logger: logger)
        return WriteEngine(
            auditLog: auditLog,
            openSearch: openSearch,
            table: TableReader(
                client: DynamoDBClient(configuration: configuration, httpClient: SharedHTTPClient.client, logger: logger),
                tableName: tableName),
            planner: WritePlanner(transform: transform, maxAttempts: settings.maxAttempts, backoff: settings.applyBackoff),
            batchDocuments: settings.bulkDocuments,
            logger: logger
        )
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
