import AuditLog
import Foundation
import Logging
import Reprocessor
import StreamModel
import Synchronization

/// Builds what a command needs from its options, once per process.
enum CommandContext {
    /// Bootstraps logging and opens the reprocessor.
    ///
    /// Only the commands that write (`ingest`, `run`, `serve`, `reconcile`; `migrate-store` makes
    /// its target itself) create a store: for every other command a `--db` that names no store is a usage
    /// error (exit 2) naming it, so a mistyped path never leaves a new, empty store behind.
    /// - Parameters:
    ///   - global: Database and logging options.
    ///   - connection: Connection options, when the command has them.
    ///   - creatingStore: Whether a missing store is created.
    ///   - readOnly: Whether the command only reads: a SQLite store is opened read-only, so it answers
    ///     on a full disk or from a file it may not write.
    static func open(
        _ global: GlobalOptions, _ connection: ConnectionOptions? = nil, creatingStore: Bool = false, readOnly: Bool = false
    ) async throws -> Reprocessor {
        bootstrapLogging(global)
        var overrides = ReprocessorSettings.Overrides(
            queue: connection?.queueURL, auditDatabasePath: global.db, openSearchEndpoint: connection?.opensearch,
            openSearchAuth: connection?.opensearchAuth, index: connection?.index, secretsARN: connection?.secretsArn,
            tableName: connection?.table, maxAttempts: connection?.maxAttempts,
            visibilityTimeoutSeconds: connection?.visibilityTimeout, auditKeyFile: global.auditKeyFile,
            auditKeySecretARN: global.auditKeySecretArn)
        overrides.openSearchTimeoutSeconds = connection?.opensearchTimeout
        let settings = try ReprocessorSettings.resolve(overrides)
        do {
            return try await Reprocessor.open(
                settings: settings, logger: Logger(label: "dlq-reprocessor"), creatingStore: creatingStore, readOnly: readOnly)
        } catch let error as AuditLogError where error.code == .missingStore {
            throw UsageError(
                message: "\(error) (only ingest, run, serve and reconcile create a store: check --db / AUDIT_DB)")
        }
    }

    /// Sends logs to standard error in `--log-format`, at `--log-level` and above.
    static func bootstrapLogging(_ global: GlobalOptions) {
        let format = global.logFormat
        let level = global.logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes one JSON object per log line to standard error.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: JSONValue] = [
            "time": .string(AuditJSON.time(Date())),
            "level": .string(event.level.rawValue),
            "label": .string(label),
            "message": .string(event.message.description),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = .string(value.description)
        }
        FileHandle.standardError.write(Data((JSONValue.object(fields).serialized + "\n").utf8))
    }
}

/// Printing helpers: one JSON document, or an aligned table.
enum Output {
    /// Prints `value` as one line of JSON.
    static func json(_ value: JSONValue) {
        print(value.serialized)
    }

    /// Prints one line to stderr.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data("error: \(line)\n".utf8))
    }

    /// Prints an aligned table with a header row.
    static func table(_ headers: [String], _ rows: [[String]]) {
        for line in tableLines(headers, rows) { print(line) }
    }

    /// The lines of an aligned table: the header row, then one line per row.
    static func tableLines(_ headers: [String], _ rows: [[String]]) -> [String] {
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return [line(headers)] + rows.map(line)
    }

    /// The width text is wrapped to: `COLUMNS` when set, else the terminal's width when standard
    /// output is one; nil (no wrapping) otherwise.
    static func terminalWidth() -> Int? {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            return columns
        }
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// `text` on lines of at most `width` characters (a line break in the text starts a new
    /// line), each starting with `indent`; broken between words where it can be, never losing a
    /// character; one line per line of the text when `width` is nil.
    static func wrapped(_ text: String, width: Int?, indent: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let width else { return lines.map { indent + $0 } }
        let room = max(20, width - indent.count)
        var wrapped: [String] = []
        for line in lines {
            var current: String?
            for part in line.split(separator: " ", omittingEmptySubsequences: false) {
                var word = Substring(part)
                if let text = current {
                    if text.count + 1 + word.count <= room {
                        current = text + " " + word
                        continue
                    }
                    wrapped.append(text)
                }
                while word.count > room {
                    wrapped.append(String(word.prefix(room)))
                    word = word.dropFirst(room)
                }
                current = String(word)
            }
            wrapped.append(current ?? "")
        }
        return wrapped.map { indent + $0 }
    }

    /// A time for tables: `2026-11-24 10:00:05`.
    static func shortTime(_ date: Date?) -> String {
        guard let date else { return "-" }
        return String(AuditJSON.time(date).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    /// Cuts `text` to `limit` characters on one line.
    static func clip(_ text: String?, _ limit: Int = 60) -> String {
        guard let text else { return "-" }
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count > limit ? String(flat.prefix(limit - 1)) + "…" : flat
    }
}

/// A progress line on standard error, only when it is a terminal, redrawn in place at most four
/// times a second.
final class ProgressLine: Sendable {
    private let enabled = isatty(STDERR_FILENO) == 1
    /// The first count shown under the current label and when (the rate counts from there, so a
    /// resumed run's earlier work does not inflate it), and when the line was last drawn.
    private let state = Mutex<(first: (label: String, done: Int, at: ContinuousClock.Instant)?, drawn: ContinuousClock.Instant?)>(
        (nil, nil))
    private static let interval = Duration.milliseconds(250)

    /// Shows `done` (of about `estimate`, when known), `detail`, and the rate since the first call
    /// with this label.
    func show(_ label: String, done: Int, estimate: Int? = nil, detail: String? = nil) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let rate: Double? = state.withLock { state in
            if let drawn = state.drawn, now - drawn < Self.interval { return nil }
            state.drawn = now
            guard let first = state.first, first.label == label else {
                state.first = (label, done, now)
                return 0
            }
            let seconds = (now - first.at) / .seconds(1)
            return seconds > 0 ? Double(done - first.done) / seconds : 0
        }
        guard let rate else { return }
        var text = "\(label): \(done)"
        if let estimate, estimate > 0 {
            text += " of ~\(estimate) (\(min(100, done * 100 / estimate))%)"
        }
        if let detail { text += ", \(detail)" }
        text += String(format: ", %.1f/s", rate)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    /// Ends the line.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// Prints whole lines on standard output from several tasks at once, one line never cut by another.
final class LinePrinter: Sendable {
    private let lock = Mutex(())

    /// Prints `line`.
    func print(_ line: String) {
        lock.withLock { _ in Swift.print(line) }
    }
}
