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

    @Option(name: .long, help: "OpenSearch index (env OPENSEARCH_INDEX; default artists).")
    var index: String?

    @Option(name: .long, help: "DynamoDB table (env DYNAMODB_TABLE_NAME).")
    var table: String?

    @Option(name: .long, help: "Secrets Manager secret with the OpenSearch username and password (env APP_SECRETS_ARN).")
    var secretsArn: String?

    @Option(name: .long, help: "Failed applies before a change is parked (default 5).")
    var maxAttempts: Int?

    @Option(
        name: .long,
        help: "Seconds a received message stays hidden while it is worked on (env DLQ_VISIBILITY_TIMEOUT; default 120).")
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
    var since: TimeArgument?

    @Option(name: .long, help: "Created before: ISO-8601 time, a date, or an age.")
    var until: TimeArgument?

    @Option(name: .long, help: "Last error contains PATTERN (case-insensitive).")
    var error: String?

    @Option(name: .long, help: "Last error is exactly TEXT: one group of `errors`.")
    var errorEquals: String?

    /// Whether any filter was given.
    var isEmpty: Bool {
        status.isEmpty && key == nil && event == nil && since == nil && until == nil && error == nil && errorEquals == nil
    }

    /// The audit-log filter.
    var filter: ChangeFilter {
        ChangeFilter(
            statuses: Set(status), documentID: key.map(OperatorInput.documentID(forKey:)), eventName: event,
            since: since?.date, until: until?.date, errorPattern: error, errorEquals: errorEquals)
    }
}

/// Log output formats.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension ChangeStatus: ExpressibleByArgument {}
extension EventName: ExpressibleByArgument {}

/// A time given as ISO-8601 (`2026-11-24T10:00:00Z`), a date (`2026-11-24`, UTC) or an age (`90s`, `30m`, `2h`, `7d`).
struct TimeArgument: ExpressibleByArgument, Sendable {
    let date: Date

    init?(argument: String) {
        guard let date = Self.parse(argument, now: Date()) else { return nil }
        self.date = date
    }

    static func parse(_ text: String, now: Date) -> Date? {
        OperatorInput.time(text, now: now)
    }
}

/// The login name, for `--actor`'s default.
func loginName() -> String {
    let environment = ProcessInfo.processInfo.environment
    if let user = environment["USER"] ?? environment["LOGNAME"], !user.isEmpty { return user }
    if let name = getlogin() { return String(cString: name) }
    return "operator"
}
