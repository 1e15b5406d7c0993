import AWSClients
import Foundation
import SQLite
import StreamModel
import TestSupport

/// Sizes of the reliability suite. The defaults keep CI within a couple of minutes;
/// `RELIABILITY_SCALE=N` multiplies them (kill cycles, malformed bodies) for a longer soak.
enum ReliabilityScale {
    /// The factor from `RELIABILITY_SCALE` (default 1, never below 1).
    static let factor: Double = {
        guard let text = ProcessInfo.processInfo.environment["RELIABILITY_SCALE"], let value = Double(text) else { return 1 }
        return max(value, 1)
    }()

    /// `base` scaled, rounded up.
    static func scaled(_ base: Int) -> Int { Int((Double(base) * factor).rounded(.up)) }

    /// The seed for a test's random choices: `RELIABILITY_SEED` to replay a failure, else a fresh one.
    static func seed() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["RELIABILITY_SEED"], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 1...UInt64.max)
    }
}

/// Read-only SQL over an audit database file, for checks the AuditLog API does not offer
/// (every stored message, raw bytes) and for tampering. Each call opens its own
/// connection on a plain thread, so blocking SQLite work never runs on the cooperative pool.
enum AuditDatabase {
    /// A stored message: id, raw body bytes, format letter, quarantine reason.
    struct MessageRow: Sendable {
        var messageID: String
        var body: [UInt8]
        var format: String
        var quarantineReason: String?
    }

    /// A stored change's identity and status.
    struct ChangeRow: Sendable {
        var id: Int64
        var streamARN: String?
        var sequenceNumber: String
        var eventID: String?
        var documentID: String?
        var status: String
    }

    /// Runs `body` with a fresh connection to `path` on a thread of its own.
    static func withConnection<T: Sendable>(
        _ path: String, _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result {
                        let connection = try Connection(path: path)
                        return try body(connection)
                    })
            }.start()
        }
    }

    /// Every stored message, body as the bytes SQLite holds; none while the executable has not
    /// yet created and migrated the file (it may have been killed before it did).
    static func messages(_ path: String) async throws -> [MessageRow] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try await withConnection(path) { db in
            let migrated = try db.queryOne("SELECT 1 FROM sqlite_master WHERE name = 'messages'") { _ in true } ?? false
            guard migrated else { return [] }
            return try db.query(
                "SELECT message_id, CAST(body AS BLOB), format, quarantine_reason FROM messages ORDER BY message_id"
            ) {
                MessageRow(
                    messageID: $0.column(0), body: $0.column(1) as [UInt8], format: $0.column(2),
                    quarantineReason: $0.column(3))
            }
        }
    }

    /// Every stored change.
    static func changes(_ path: String) async throws -> [ChangeRow] {
        try await withConnection(path) { db in
            try db.query("SELECT id, stream_arn, sequence_number, event_id, document_id, status FROM changes ORDER BY id") {
                ChangeRow(
                    id: $0.column(0), streamARN: $0.column(1), sequenceNumber: $0.column(2), eventID: $0.column(3),
                    documentID: $0.column(4), status: $0.column(5))
            }
        }
    }

    /// Per message: how many changes and batches it stored, and how many of its records or batches were already stored.
    static func carried(_ path: String) async throws -> [String: (changes: Int, batches: Int, duplicates: Int)] {
        let (changes, batches, duplicates) = try await withConnection(path) { db in
            (
                try db.query("SELECT message_id, count(*) FROM changes GROUP BY 1") {
                    ($0.column(0) as String, $0.column(1) as Int)
                },
                try db.query("SELECT message_id, count(*) FROM batches GROUP BY 1") {
                    ($0.column(0) as String, $0.column(1) as Int)
                },
                try db.query("SELECT message_id, count(*) FROM actions WHERE action = 'duplicate' GROUP BY 1") {
                    ($0.column(0) as String, $0.column(1) as Int)
                }
            )
        }
        var carried: [String: (changes: Int, batches: Int, duplicates: Int)] = [:]
        for (message, count) in changes { carried[message, default: (0, 0, 0)].changes = count }
        for (message, count) in batches { carried[message, default: (0, 0, 0)].batches = count }
        for (message, count) in duplicates { carried[message, default: (0, 0, 0)].duplicates = count }
        return carried
    }

    /// How many actions of each kind each change has.
    static func actionCounts(_ path: String) async throws -> [Int64: [String: Int]] {
        let rows = try await withConnection(path) { db in
            try db.query("SELECT change_id, action, count(*) FROM actions WHERE change_id IS NOT NULL GROUP BY 1, 2") {
                ($0.column(0) as Int64, $0.column(1) as String, $0.column(2) as Int)
            }
        }
        var counts: [Int64: [String: Int]] = [:]
        for (change, action, count) in rows { counts[change, default: [:]][action] = count }
        return counts
    }
}

extension Array where Element == UInt8 {
    /// A short printable form for failure messages.
    var preview: String {
        let text = String(decoding: prefix(60), as: UTF8.self).unicodeScalars.map {
            $0.properties.generalCategory == .control ? "\\u{\(String($0.value, radix: 16))}" : String($0)
        }.joined()
        return "\"\(text)\"" + (count > 60 ? "… (\(count) bytes)" : "")
    }
}

/// Waits until `condition` holds, checking every `interval`, for at most `timeout`.
/// - Returns: Whether it held in time (the caller asserts, with its own message).
func eventually(
    timeout: Duration, interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

extension ReprocessorWorld {
    /// The number of messages on the queue (visible and in flight) while nothing receives,
    /// read until it reaches `expected` (at most ten reads).
    ///
    /// moto counts visible and in-flight messages at two instants, so a message whose
    /// visibility timeout ends in between is in neither count: each read is a lower bound of
    /// the true, constant number. The largest read is returned; a loss shows in every read.
    func queueDepth(readingUntil expected: Int) async throws -> Int {
        var largest = 0
        for attempt in 0..<10 {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(50)) }
            largest = max(largest, try await queueDepth())
            if largest >= expected { break }
        }
        return largest
    }

    /// Waits until no message is in flight (a killed ingest's messages are visible again).
    /// - Returns: Whether that happened within the visibility timeout plus a margin.
    func waitUntilNothingInFlight() async throws -> Bool {
        try await eventually(timeout: .seconds(visibilityTimeoutSeconds + 15), interval: .milliseconds(250)) {
            try await sqs.approximateMessageCounts(queueURL: queueURL).inFlight == 0
        }
    }
}

/// A test setup step that could not be done.
struct ReliabilityError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
