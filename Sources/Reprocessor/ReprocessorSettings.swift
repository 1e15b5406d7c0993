import AWSClients
import AuditLog
import Foundation

/// Everything the reprocessor is configured with, resolved from flags first,
/// then the environment, then defaults (docs/operations.md, "Configuration").
public struct ReprocessorSettings: Sendable {
    /// How the reprocessor authenticates to OpenSearch.
    public enum OpenSearchAuthMode: String, Sendable, CaseIterable {
        /// No authentication (local osmem, a VPC domain behind a proxy).
        case none
        /// HTTP basic with `{"username", "password"}` from the `APP_SECRETS_ARN` secret.
        case basic
        /// AWS SigV4 for service `es`, with the AWS credentials.
        case sigV4 = "sigv4"
    }

    /// The DLQ: a queue URL, or a queue name looked up with GetQueueUrl.
    public var queue: String?
    /// Where the audit log is: a SQLite file's path, or a shared PostgreSQL store's
    /// `postgres://` URL (``isSharedStore``).
    public var auditDatabasePath: String
    /// OpenSearch base URL.
    public var openSearchEndpoint: URL?
    /// How to authenticate to OpenSearch.
    public var openSearchAuth: OpenSearchAuthMode
    /// The index documents go to.
    public var index: String
    /// Secrets Manager secret with the OpenSearch username and password.
    public var secretsARN: String?
    /// The DynamoDB table, read with consistent GetItem before re-creating a missing document.
    public var tableName: String?
    /// Failed applies before a change is parked.
    public var maxAttempts: Int
    /// Backoff between automatic tries of a failed apply.
    public var applyBackoff: RetryPolicy
    /// Receives in flight at once while draining the DLQ.
    public var receiveConcurrency: Int
    /// Visibility timeout asked for on receive; extended while a message is worked on.
    public var visibilityTimeoutSeconds: Int
    /// Documents decided and written per round of the write engine (one `_mget`, one `_bulk`).
    public var bulkDocuments: Int
    /// How long the run lease counts as held without a renewal (renewed at a third of it). A dead
    /// holder's lease is free at once (a kernel lock); this only frees the lease of a holder that
    /// is stopped or hung.
    public var leaseTTL: Duration
    /// Backoff of a batch whose stream failed, from this delay doubling to 15 minutes.
    public var batchBackoff: RetryPolicy
    /// How long a stored batch may wait to be read before a pass calls for an operator
    /// (`run --once` exits 3): its stream keeps its records for 24 hours only.
    public var batchWaitAlert: Duration = .seconds(3600)
    /// The limit on each OpenSearch request (one try, its whole answer included); a request that
    /// takes more than half of it is logged as slow.
    public var openSearchTimeout: Duration = .seconds(30)
    /// The share of its stream's 24-hour retention past which a due batch takes priority over
    /// draining in `serve`: the drain stops receiving until no due batch is that old (0: always,
    /// 1: never, since a batch that old has expired).
    public var batchPriorityShare: Double = 0.5
    /// A file holding the audit chain key (see ``Reprocessor/loadAuditKey(settings:environment:logger:)``).
    public var auditKeyFile: String?
    /// A Secrets Manager secret whose `SecretString` is the audit chain key.
    public var auditKeySecretARN: String?
    /// A Secrets Manager secret holding the PostgreSQL store's password (`AUDIT_DB_SECRET_ARN`).
    public var auditDatabaseSecretARN: String? = nil

    /// Whether the audit log is a shared PostgreSQL store (a `postgres://` URL) rather than a SQLite file.
    public var isSharedStore: Bool {
        AuditLog.isSharedLocation(auditDatabasePath)
    }

    /// Flag and environment variable names of each setting, for error messages.
    public enum Source {
        /// `--queue-url` / `DLQ_URL`.
        public static let queue = ("--queue-url", "DLQ_URL")
        /// `--db` / `AUDIT_DB`.
        public static let database = ("--db", "AUDIT_DB")
        /// `--opensearch` / `OPENSEARCH_ENDPOINT`.
        public static let openSearch = ("--opensearch", "OPENSEARCH_ENDPOINT")
        /// `--opensearch-auth` / `OPENSEARCH_AUTH`.
        public static let openSearchAuth = ("--opensearch-auth", "OPENSEARCH_AUTH")
        /// `--index` / `OPENSEARCH_INDEX`.
        public static let index = ("--index", "OPENSEARCH_INDEX")
        /// `--secrets-arn` / `APP_SECRETS_ARN`.
        public static let secrets = ("--secrets-arn", "APP_SECRETS_ARN")
        /// `--table` / `DYNAMODB_TABLE_NAME`.
        public static let table = ("--table", "DYNAMODB_TABLE_NAME")
        /// `--visibility-timeout` / `DLQ_VISIBILITY_TIMEOUT`.
        public static let visibilityTimeout = ("--visibility-timeout", "DLQ_VISIBILITY_TIMEOUT")
        /// `DLQ_BATCH_DOCUMENTS` (no flag).
        public static let batchDocuments = "DLQ_BATCH_DOCUMENTS"
        /// `DLQ_LEASE_TTL` (seconds; no flag).
        public static let leaseTTL = "DLQ_LEASE_TTL"
        /// `DLQ_BATCH_RETRY_SECONDS` (no flag).
        public static let batchRetry = "DLQ_BATCH_RETRY_SECONDS"
        /// `DLQ_BATCH_WAIT_ALERT` (seconds; no flag).
        public static let batchWaitAlert = "DLQ_BATCH_WAIT_ALERT"
        /// `--opensearch-timeout` / `OPENSEARCH_TIMEOUT` (seconds).
        public static let openSearchTimeout = ("--opensearch-timeout", "OPENSEARCH_TIMEOUT")
        /// `DLQ_BATCH_PRIORITY_SHARE` (a share of the stream's retention, 0 to 1; no flag).
        public static let batchPriorityShare = "DLQ_BATCH_PRIORITY_SHARE"
        /// `--audit-key-file` / `AUDIT_KEY_FILE`.
        public static let auditKeyFile = ("--audit-key-file", "AUDIT_KEY_FILE")
        /// `--audit-key-secret-arn` / `AUDIT_KEY_SECRET_ARN`.
        public static let auditKeySecret = ("--audit-key-secret-arn", "AUDIT_KEY_SECRET_ARN")
        /// `AUDIT_DB_SECRET_ARN` (no flag): the Secrets Manager secret holding a PostgreSQL store's password.
        public static let auditDatabaseSecret = "AUDIT_DB_SECRET_ARN"
    }

    /// The defaults and bounds of the settings with numbers, which help texts quote.
    public enum Bounds {
        /// Failed applies before a change is parked, when `--max-attempts` is not given.
        public static let maxAttempts = 5
        /// Seconds a received message stays hidden (SQS allows 0 to 43,200; 0 would let another
        /// receiver take a message while it is worked on).
        public static let visibilityTimeout = OperatorInput.Count(allowed: 1...43_200, standard: 120)
        /// Seconds each OpenSearch request may take.
        public static let openSearchTimeout = OperatorInput.Count(allowed: 1...300, standard: 30)
    }

    /// Values given on the command line (or by an HTTP request); `nil` means "not given".
    public struct Overrides: Sendable {
        /// `--queue-url`.
        public var queue: String?
        /// `--db`.
        public var auditDatabasePath: String?
        /// `--opensearch`.
        public var openSearchEndpoint: String?
        /// `--opensearch-auth`.
        public var openSearchAuth: String?
        /// `--index`.
        public var index: String?
        /// `--secrets-arn`.
        public var secretsARN: String?
        /// `--table`.
        public var tableName: String?
        /// `--max-attempts`.
        public var maxAttempts: Int?
        /// `--concurrency`.
        public var receiveConcurrency: Int?
        /// `--visibility-timeout`, in seconds.
        public var visibilityTimeoutSeconds: Int?
        /// `--opensearch-timeout`, in seconds.
        public var openSearchTimeoutSeconds: Int? = nil
        /// `--audit-key-file`.
        public var auditKeyFile: String?
        /// `--audit-key-secret-arn`.
        public var auditKeySecretARN: String?

        /// Creates overrides; every value defaults to "not given".
        public init(
            queue: String? = nil, auditDatabasePath: String? = nil, openSearchEndpoint: String? = nil,
            openSearchAuth: String? = nil, index: String? = nil, secretsARN: String? = nil, tableName: String? = nil,
            maxAttempts: Int? = nil, receiveConcurrency: Int? = nil, visibilityTimeoutSeconds: Int? = nil,
            auditKeyFile: String? = nil, auditKeySecretARN: String? = nil
        ) {
            self.auditKeyFile = auditKeyFile
            self.auditKeySecretARN = auditKeySecretARN
            self.queue = queue
            self.auditDatabasePath = auditDatabasePath
            self.openSearchEndpoint = openSearchEndpoint
            self.openSearchAuth = openSearchAuth
            self.index = index
            self.secretsARN = secretsARN
            self.tableName = tableName
            self.maxAttempts = maxAttempts
            self.receiveConcurrency = receiveConcurrency
            self.visibilityTimeoutSeconds = visibilityTimeoutSeconds
        }
    }

    /// Resolves settings: a flag wins over the environment, which wins over the default.
    ///
    /// Only values that are present are checked here; a command asks for what
    /// it needs through ``requireQueue()`` and friends, so `list` works without
    /// an OpenSearch endpoint.
    /// - Parameters:
    ///   - overrides: What the command line gave.
    ///   - environment: The process environment.
    /// - Throws: ``ReprocessorError`` naming the flag and variable of a bad value.
    public static func resolve(
        _ overrides: Overrides, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ReprocessorError) -> ReprocessorSettings {
        func value(_ flagValue: String?, _ variable: String) -> String? {
            if let flagValue, !flagValue.isEmpty { return flagValue }
            if let fromEnvironment = environment[variable], !fromEnvironment.isEmpty { return fromEnvironment }
            return nil
        }
        var endpoint: URL?
        if let text = value(overrides.openSearchEndpoint, Source.openSearch.1) {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                url.host != nil
            else {
                throw ReprocessorError(
                    .invalidSetting,
                    "invalid OpenSearch endpoint \"\(text)\": give an http(s) URL with --opensearch or OPENSEARCH_ENDPOINT")
            }
            endpoint = url
        }
        let secretsARN = value(overrides.secretsARN, Source.secrets.1)
        let authMode: OpenSearchAuthMode
        if let text = value(overrides.openSearchAuth, Source.openSearchAuth.1) {
            guard let mode = OpenSearchAuthMode(rawValue: text.lowercased()) else {
                throw ReprocessorError(
                    .invalidSetting,
                    "invalid OpenSearch auth \"\(text)\": use none, basic or sigv4 with --opensearch-auth or OPENSEARCH_AUTH")
            }
            authMode = mode
        } else {
            authMode = secretsARN == nil ? .none : .basic
        }
        let index = value(overrides.index, Source.index.1) ?? "artists"
        guard !index.isEmpty, !index.contains("/"), index == index.lowercased() else {
            throw ReprocessorError(
                .invalidSetting, "invalid index name \"\(index)\": lowercase, no '/'; set --index or OPENSEARCH_INDEX")
        }
        let maxAttempts = overrides.maxAttempts ?? Bounds.maxAttempts
        guard maxAttempts >= 1 else {
            throw ReprocessorError(.invalidSetting, "invalid --max-attempts \(maxAttempts): must be at least 1")
        }
        let concurrency: Int
        do {
            concurrency = try OperatorInput.receiveConcurrency.resolve(overrides.receiveConcurrency, field: "--concurrency")
        } catch {
            throw ReprocessorError(.invalidSetting, "invalid \(error)")
        }
        var visibilityTimeout = overrides.visibilityTimeoutSeconds ?? Bounds.visibilityTimeout.standard
        if overrides.visibilityTimeoutSeconds == nil, let text = value(nil, Source.visibilityTimeout.1) {
            guard let seconds = Int(text) else {
                throw ReprocessorError(
                    .invalidSetting, "invalid \(Source.visibilityTimeout.1) \"\(text)\": give whole seconds")
            }
            visibilityTimeout = seconds
        }
        guard Bounds.visibilityTimeout.allowed.contains(visibilityTimeout) else {
            throw ReprocessorError(
                .invalidSetting,
                "invalid visibility timeout \(visibilityTimeout): must be \(Bounds.visibilityTimeout.allowed.lowerBound) to \(Bounds.visibilityTimeout.allowed.upperBound) seconds "
                    + "(--visibility-timeout or DLQ_VISIBILITY_TIMEOUT)")
        }
        var batchDocuments = 500
        if let text = value(nil, Source.batchDocuments) {
            guard let documents = Int(text), (1...10_000).contains(documents) else {
                throw ReprocessorError(
                    .invalidSetting, "invalid \(Source.batchDocuments) \"\(text)\": give 1 to 10000 documents")
            }
            batchDocuments = documents
        }
        func seconds(_ variable: String, default fallback: Int, allowed: ClosedRange<Int>) throws(ReprocessorError) -> Int {
            guard let text = value(nil, variable) else { return fallback }
            guard let seconds = Int(text), allowed.contains(seconds) else {
                throw ReprocessorError(
                    .invalidSetting,
                    "invalid \(variable) \"\(text)\": give whole seconds, \(allowed.lowerBound) to \(allowed.upperBound)")
            }
            return seconds
        }
        let leaseTTL = try seconds(Source.leaseTTL, default: 60, allowed: 3...3600)
        let batchRetry = try seconds(Source.batchRetry, default: 30, allowed: 0...3600)
        let batchWaitAlert = try seconds(Source.batchWaitAlert, default: 3600, allowed: 1...86_400)
        var openSearchTimeout = overrides.openSearchTimeoutSeconds
        if openSearchTimeout == nil, let text = value(nil, Source.openSearchTimeout.1) {
            guard let seconds = Int(text) else {
                throw ReprocessorError(
                    .invalidSetting,
                    "invalid \(Source.openSearchTimeout.1) \"\(text)\": give whole seconds, \(Bounds.openSearchTimeout.allowed.lowerBound) to \(Bounds.openSearchTimeout.allowed.upperBound)"
                )
            }
            openSearchTimeout = seconds
        }
        if let openSearchTimeout, !Bounds.openSearchTimeout.allowed.contains(openSearchTimeout) {
            throw ReprocessorError(
                .invalidSetting,
                "invalid OpenSearch timeout \(openSearchTimeout): must be \(Bounds.openSearchTimeout.allowed.lowerBound) to \(Bounds.openSearchTimeout.allowed.upperBound) seconds (\(Source.openSearchTimeout.0) / \(Source.openSearchTimeout.1))"
            )
        }
        var batchPriorityShare = 0.5
        if let text = value(nil, Source.batchPriorityShare) {
            guard let share = Double(text), share.isFinite, (0...1).contains(share) else {
                throw ReprocessorError(
                    .invalidSetting,
                    "invalid \(Source.batchPriorityShare) \"\(text)\": give a share of the stream's retention from 0 to 1, such as 0.5"
                )
            }
            batchPriorityShare = share
        }
        let auditKeyFile = value(overrides.auditKeyFile, Source.auditKeyFile.1)
        let auditKeySecretARN = value(overrides.auditKeySecretARN, Source.auditKeySecret.1)
        if auditKeyFile != nil, auditKeySecretARN != nil {
            throw ReprocessorError(
                .invalidSetting,
                "give the audit key once: either \(Source.auditKeyFile.0) / \(Source.auditKeyFile.1) "
                    + "or \(Source.auditKeySecret.0) / \(Source.auditKeySecret.1), not both")
        }
        var settings = ReprocessorSettings(
            queue: value(overrides.queue, Source.queue.1),
            auditDatabasePath: value(overrides.auditDatabasePath, Source.database.1) ?? "./dlq-audit.sqlite3",
            openSearchEndpoint: endpoint,
            openSearchAuth: authMode,
            index: index,
            secretsARN: secretsARN,
            tableName: value(overrides.tableName, Source.table.1),
            maxAttempts: maxAttempts,
            applyBackoff: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .seconds(30), maxDelay: .seconds(3600)),
            receiveConcurrency: concurrency,
            visibilityTimeoutSeconds: visibilityTimeout,
            bulkDocuments: batchDocuments,
            leaseTTL: .seconds(leaseTTL),
            batchBackoff: RetryPolicy(
                maxAttempts: Int.max, baseDelay: .seconds(batchRetry), maxDelay: .seconds(max(batchRetry, 900))),
            auditKeyFile: auditKeyFile,
            auditKeySecretARN: auditKeySecretARN,
            auditDatabaseSecretARN: value(nil, Source.auditDatabaseSecret)
        )
        settings.batchWaitAlert = .seconds(batchWaitAlert)
        settings.batchPriorityShare = batchPriorityShare
        settings.openSearchTimeout = .seconds(openSearchTimeout ?? Bounds.openSearchTimeout.standard)
        return settings
    }

    /// The DLQ setting, or an error naming `--queue-url` and `DLQ_URL`.
    public func requireQueue() throws(ReprocessorError) -> String {
        guard let queue else { throw .missing("DLQ queue URL", flag: Source.queue.0, variable: Source.queue.1) }
        return queue
    }

    /// The OpenSearch endpoint, or an error naming `--opensearch` and `OPENSEARCH_ENDPOINT`.
    public func requireOpenSearchEndpoint() throws(ReprocessorError) -> URL {
        guard let openSearchEndpoint else {
            throw .missing("OpenSearch endpoint", flag: Source.openSearch.0, variable: Source.openSearch.1)
        }
        return openSearchEndpoint
    }

    /// The table name, or an error naming `--table` and `DYNAMODB_TABLE_NAME`.
    public func requireTableName() throws(ReprocessorError) -> String {
        guard let tableName else {
            throw .missing("DynamoDB table name", flag: Source.table.0, variable: Source.table.1)
        }
        return tableName
    }
}
