import ArgumentParser
import AuditLog
import Foundation
import Logging
import Reprocessor
import StreamModel

/// Options every command takes: where the audit log is and how to log.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Audit store: a SQLite file, or a postgres:// URL for a shared store (env AUDIT_DB; default ./dlq-audit.sqlite3).")
    var db: String?

    @Option(name: .long, help: "File holding the audit chain key, at least 32 bytes (env AUDIT_KEY_FILE).")
    var auditKeyFile: String?

    @Option(name: .long, help: "Secrets Manager secret holding the audit chain key (env AUDIT_KEY_SECRET_ARN).")
    var auditKeySecretArn: String?

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning
}

/// Where the DLQ, OpenSearch and the table are.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "DLQ queue URL or name (env DLQ_URL).")
    var queueURL: String?

    @Option(name: .long, help: "OpenSearch endpoint URL (env OPENSEARCH_ENDPOINT).")
    var opensearch: String?

    @Option(name: .long, help: "OpenSearch auth: none, basic (from the secret) or sigv4 (env OPENSEARCH_AUTH).")
    var opensearchAuth: String?

    @Option(
        name: .long,
        help:
            "Seconds each OpenSearch request may take, its answer included (env OPENSEARCH_TIMEOUT; \(ReprocessorSettings.Bounds.openSearchTimeout.help))."
    )
    var opensearchTimeout: Int?

    @Option(name: .long, help: "OpenSearch index (env OPENSEARCH_INDEX; default artists).")
    var index: String?

    @Option(name: .long, help: "DynamoDB table (env DYNAMODB_TABLE_NAME).")
    var table: String?

    @Option(name: .long, help: "Secrets Manager secret with the OpenSearch username and password (env APP_SECRETS_ARN).")
    var secretsArn: String?

    @Option(name: .long, help: "Failed applies before a change is parked (default \(ReprocessorSettings.Bounds.maxAttempts)).")
    var maxAttempts: Int?

    @Option(
        name: .long,
        help:
            "Seconds a received message stays hidden while it is worked on (env DLQ_VISIBILITY_TIMEOUT; \(ReprocessorSettings.Bounds.visibilityTimeout.help))."
    )
    var visibilityTimeout: Int?
}

/// Selects changes by status, document, event and time.
struct ChangeFilterOptions: ParsableArguments {
    @Option(
        name: .long, parsing: .upToNextOption,
        help: "Status(es): \(ChangeStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
    var status: [ChangeStatus] = []

    @Option(name: .long, help: "Artist key: ARTIST#42 or 42.")
    var key: String?

    @Option(name: .long, help: "Event name: INSERT, MODIFY or REMOVE.")
    var event: EventName?

    @Option(name: .long, help: "Created at or after: ISO-8601 time, a date, or an age such as 2h, 30m, 7d.")
    var since: String?

    @Option(name: .long, help: "Created before: ISO-8601 time, a date, or an age.")
    var until: String?

    @Option(name: .long, help: "Last error contains PATTERN (case-insensitive).")
    var error: String?

    @Option(name: .long, help: "Last error is exactly TEXT, byte for byte.")
    var errorEquals: String?

    @Option(name: .long, help: "One failure group of `errors`: its group id (GROUP column).")
    var group: String?

    /// Whether any filter was given.
    var isEmpty: Bool {
        status.isEmpty && key == nil && event == nil && since == nil && until == nil && error == nil && errorEquals == nil
            && group == nil
    }

    func validate() throws {
        _ = try usage { () throws(InputError) in try filter(now: Date()) }
    }

    /// The audit-log filter, ages counted back from `now`.
    /// - Throws: ``InputError`` for a time out of bounds.
    func filter(now: Date) throws(InputError) -> ChangeFilter {
        ChangeFilter(
            statuses: Set(status), documentID: key.map(OperatorInput.documentID(forKey:)), eventName: event,
            since: try flagTime(since, "--since", now: now), until: try flagTime(until, "--until", now: now), errorPattern: error,
            errorEquals: errorEquals,
            errorGroup: try group.map { (text) throws(InputError) in try OperatorInput.group(text, field: "--group") })
    }
}

/// Log output formats.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension ChangeStatus: ExpressibleByArgument {}
extension EventName: ExpressibleByArgument {}

/// An optional time flag through the input layer (``OperatorInput/time(_:field:now:)``).
func flagTime(_ text: String?, _ flag: String, now: Date) throws(InputError) -> Date? {
    try text.map { (text) throws(InputError) in try OperatorInput.time(text, field: flag, now: now) }
}

/// Runs the input layer on flags in a `validate()`: its refusal becomes a usage error, which
/// exits 2 with its one line (``DLQReprocessor/exit(withMappedError:)``).
func usage<Value>(_ check: () throws(InputError) -> Value) throws(ValidationError) -> Value {
    do {
        return try check()
    } catch {
        throw ValidationError(error.description)
    }
}

/// How the command line names a request's fields when the operations refuse one.
func flagName(_ field: RequestError.Field) -> String {
    switch field {
    case .ids: "<ids>"
    case .filter: "a filter"
    case .reason: "--reason"
    case .force: "--force"
    case .rate: "--rate"
    case .segments: "--segments"
    case .dryRun: "--dry-run"
    }
}

/// Runs one of the operations' request checks (their rules, defaults and bounds), before the
/// store is opened: a refusal is a usage error naming the flag (exit 2).
func checkRequest(_ check: () throws(RequestError) -> Void) throws(ValidationError) {
    do {
        try check()
    } catch {
        throw ValidationError(error.message(naming: flagName))
    }
}

/// A `--cursor` checked by the input layer, then as a `next` of `listing`.
func checkCursor(_ cursor: String?, for listing: AuditLog.PagedListing) throws(ValidationError) {
    guard let cursor else { return }
    _ = try usage { () throws(InputError) in try OperatorInput.cursor(cursor, field: "--cursor") }
    do {
        try AuditLog.checkCursor(cursor, for: listing)
    } catch {
        throw ValidationError("--cursor: \(error.description); pass the \"next\" of the previous page")
    }
}

/// Ids given as arguments, each checked by the input layer.
func checkIDs(_ ids: [Int64], _ name: String) throws(ValidationError) {
    _ = try usage { () throws(InputError) in try ids.map { (id) throws(InputError) in try OperatorInput.id(id, field: name) } }
}

/// The actor a command records: `--actor`, else `DLQ_ACTOR`, else the login name of the user id
/// (`getpwuid(getuid())`, not `USER`, which cron and containers often leave unset or wrong).
/// - Throws: `ValidationError` (exit 2) when there is none, or the one given is not a name.
func operatorActor(_ flag: String?) throws(ValidationError) -> String {
    let actor = try usage { () throws(InputError) in
        try OperatorInput.actor(
            given: flag, field: "--actor", environment: ProcessInfo.processInfo.environment, accountName: accountName())
    }
    guard let actor else {
        throw ValidationError(
            "no actor to record: user id \(getuid()) has no login name; pass --actor NAME or set \(OperatorInput.actorVariable)")
    }
    return actor
}

/// The login name of the process's user id, from the password database.
private func accountName() -> String? {
    guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return nil }
    return String(cString: name)
}
