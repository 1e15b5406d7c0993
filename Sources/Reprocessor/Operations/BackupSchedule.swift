import AuditLog
import Foundation
import Metrics

/// Scheduled backups of a SQLite store (`serve --backup-dir DIR --backup-every 1h --backup-keep N`):
/// every interval a verified copy (``StoreBackup/copy(to:)``) named by its time goes into the folder,
/// and only the newest copies are kept.
public struct BackupSchedule: Sendable, Hashable {
    /// The folder the copies go into.
    public var directory: String
    /// Time between copies.
    public var interval: Duration
    /// How many copies are kept (the newest).
    public var keep: Int

    /// Flag and environment variable of each setting.
    public enum Source {
        /// `--backup-dir` / `DLQ_BACKUP_DIR`.
        public static let directory = ("--backup-dir", "DLQ_BACKUP_DIR")
        /// `--backup-every` / `DLQ_BACKUP_EVERY`.
        public static let every = ("--backup-every", "DLQ_BACKUP_EVERY")
        /// `--backup-keep` / `DLQ_BACKUP_KEEP`.
        public static let keep = ("--backup-keep", "DLQ_BACKUP_KEEP")
    }

    /// The interval when none is given.
    public static let defaultInterval = Duration.seconds(3600)
    /// How many copies are kept when no number is given.
    public static let defaultKeep = 24
    /// The names of the copies: `dlq-audit-<UTC time>.sqlite3`.
    static let prefix = "dlq-audit-"
    static let suffix = ".sqlite3"

    /// Metric names.
    public enum Metric {
        /// Gauge: when the last scheduled backup succeeded (seconds since 1970).
        public static let lastSuccess = "dlq_backup_last_success_timestamp_seconds"
        /// Counter: scheduled backups that failed.
        public static let failures = "dlq_backup_failures_total"
    }

    /// Resolves the schedule from flags, then the environment, then defaults.
    /// - Parameters:
    ///   - directory: `--backup-dir` (else `DLQ_BACKUP_DIR`); without one there is no schedule.
    ///   - every: `--backup-every`: an interval such as `90s`, `30m`, `1h`, `1d` (1 s to 7 d; default 1h).
    ///   - keep: `--backup-keep`: copies kept, 1–10,000 (default 24).
    ///   - environment: Where the variables are read.
    /// - Returns: The schedule, or nil when no folder is given.
    /// - Throws: ``InputError`` naming the flag (and variable) of a bad value.
    public static func resolve(
        directory: String?, every: String?, keep: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(InputError) -> BackupSchedule? {
        func value(_ flag: String?, _ variable: String) -> String? {
            if let flag, !flag.isEmpty { return flag }
            if let text = environment[variable], !text.isEmpty { return text }
            return nil
        }
        guard let folder = value(directory, Source.directory.1) else { return nil }
        var interval = defaultInterval
        if let text = value(every, Source.every.1) {
            let seconds = OperatorInput.ageSeconds(text) ?? Double(text)
            guard let seconds, seconds.isFinite else {
                throw InputError(
                    field: "\(Source.every.0) / \(Source.every.1)", value: text, problem: .malformed,
                    accepted: "an interval such as 90s, 30m, 1h or 1d")
            }
            guard (1...604_800).contains(seconds) else {
                throw InputError(
                    field: "\(Source.every.0) / \(Source.every.1)", value: text, problem: .outOfRange,
                    accepted: "1s to 7d")
            }
            interval = .milliseconds(Int64(seconds * 1000))
        }
        var count = defaultKeep
        if let text = value(keep, Source.keep.1) {
            guard let number = Int(text) else {
                throw InputError(
                    field: "\(Source.keep.0) / \(Source.keep.1)", value: text, problem: .malformed, accepted: "a whole number")
            }
            guard (1...10_000).contains(number) else {
                throw InputError(
                    field: "\(Source.keep.0) / \(Source.keep.1)", value: text, problem: .outOfRange, accepted: "1 to 10000")
            }
            count = number
        }
        return BackupSchedule(directory: folder, interval: interval, keep: count)
    }

    /// Takes one copy into the folder (created if missing, mode 0700) and removes the oldest copies
    /// beyond ``keep``.
    /// - Returns: The copy and the copies removed.
    /// - Throws: ``AuditLogError`` from the copy; a folder that cannot be created.
    public func takeBackup(with backup: StoreBackup, now: Date = Date()) async throws -> (
        report: BackupReport, removed: [String]
    ) {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let name = Self.prefix + Self.stamp(now) + Self.suffix
        let report = try await backup.copy(to: (directory as NSString).appendingPathComponent(name))
        return (report, try prune())
    }

    /// The copies in the folder, oldest first (their names sort by time).
    public func copies() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix(Self.prefix) && $0.hasSuffix(Self.suffix) }
            .sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Removes the oldest copies beyond ``keep``.
    private func prune() throws -> [String] {
        let existing = try copies()
        let removed = Array(existing.dropLast(keep))
        for path in removed {
            for file in [path, path + "-wal", path + "-shm"] { unlink(file) }
        }
        return removed
    }

    /// `20261207T153000.123Z`: sorts by time, unique at a millisecond.
    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        return formatter.string(from: date)
    }

    /// Creates the failure counter at zero, so a scrape lists it before anything happened.
    public static func registerMetrics() {
        Counter(label: Metric.failures).increment(by: 0)
    }

    /// Records a scheduled backup that succeeded at `date`.
    public static func recordSuccess(at date: Date) {
        Gauge(label: Metric.lastSuccess).record(date.timeIntervalSince1970)
    }

    /// Counts a scheduled backup that failed.
    public static func recordFailure() {
        Counter(label: Metric.failures).increment()
    }
}
