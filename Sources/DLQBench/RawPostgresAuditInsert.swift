import ArgumentParser
import AuditLog
import Foundation
import PostgresStore
import SQLite
import StreamModel

/// The PostgreSQL audit step's baseline: the same rows `audit-postgres` stores (each message,
/// and each change with its keys and images as the same DynamoDB JSON text) inserted into bare
/// tables that have nothing but their primary key, at the same durability (the server's
/// default: `synchronous_commit = on`, one commit per batch). As a competent raw client
/// writes them: per batch one transaction, each table's rows in multi-row `INSERT … VALUES`
/// statements of up to 65,535 parameters. What is left of the audit log's time beyond this is
/// the cost of its indexes, its audit trail and its checks.
struct RawPostgresAuditBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-postgres-raw",
        abstract: "Insert the audit-postgres step's rows into bare PostgreSQL tables (the raw rate).")

    @Option(help: "The empty PostgreSQL database (postgres://…).") var url: String
    @Option(help: "Changes to insert.") var changes = 100_000
    @Option(help: "Changes per transaction (as audit-postgres's --batch).") var batch = 1000
    @Option(help: "Changes per document, on average.") var changesPerDocument = 10

    func validate() throws {
        guard changes >= 10, batch >= 10, changesPerDocument >= 1 else {
            throw ValidationError("--changes and --batch must be at least 10")
        }
    }

    func run() async throws {
        // The bare tables, made by the store's migration runner (as one migration).
        let session = try await PostgresSession.open(
            PostgresURL(url), migrations: [Migration(version: 1, name: "raw_tables", sql: Self.tables)],
            checksum: { String($0.utf8.count) })
        let documents = max(1, changes / changesPerDocument)
        let batches = stride(from: 0, to: changes, by: batch).map { ($0, min(batch, changes - $0)) }
        let start = ContinuousClock.now
        var inserted = 0
        for (first, count) in batches {
            let messages = BenchData.auditMessages(first: first, count: count, documents: documents, at: Date())
            inserted += try insert(messages, at: Date(), on: session)
        }
        let seconds = Latencies.seconds(ContinuousClock.now - start)
        session.close()
        guard inserted == changes else { throw BenchError("inserted \(inserted) changes of \(changes)") }
        var report = StepReport(step: "audit-postgres-raw")
        report.set("changes", changes)
        report.set("batch", batch)
        report.set("insertChangesPerSecond", Double(changes) / seconds)
        try report.print()
    }

    /// Inserts `messages` and their changes in one transaction; returns how many changes.
    private func insert(_ messages: [NewMessage], at date: Date, on session: PostgresSession) throws -> Int {
        let now = SQLValue.integer(Self.milliseconds(date))
        var messageRows: [SQLValue] = []
        var changeRows: [SQLValue] = []
        for message in messages {
            messageRows += [
                .text(message.messageID), .text(message.body), .text(message.format.rawValue), message.correlationID.sqlValue,
                message.errorText.sqlValue, .integer(Self.milliseconds(message.receivedAt)),
                .integer(Int64(message.receiveCount)), message.sentAt.map { .integer(Self.milliseconds($0)) } ?? .null,
            ]
            guard case .changes(let changes) = message.disposition else { continue }
            for change in changes {
                changeRows += [
                    .text(message.messageID), change.streamARN.sqlValue, change.shardID.sqlValue,
                    .text(change.sequenceNumber.sortKey), .text(change.sequenceNumber.digits), change.eventID.sqlValue,
                    change.eventName?.rawValue.sqlValue ?? .null, change.keys?.dynamoJSON.serialized.sqlValue ?? .null,
                    change.documentID.sqlValue, change.oldImage?.dynamoJSON.serialized.sqlValue ?? .null,
                    change.newImage?.dynamoJSON.serialized.sqlValue ?? .null,
                    change.approximateCreationTime.map { .integer(Self.milliseconds($0)) } ?? .null,
                    .text(change.status.rawValue), change.reason.sqlValue, change.batchInfo?.serialized.sqlValue ?? .null, now,
                    now,
                ]
            }
        }
        _ = try session.run("BEGIN", inTransaction: false)
        do {
            try insertRows("raw_messages", Self.messageColumns, messageRows, on: session)
            try insertRows("raw_changes", Self.changeColumns, changeRows, on: session)
            _ = try session.run("COMMIT", inTransaction: true)
        } catch {
            _ = try? session.run("ROLLBACK", inTransaction: true)
            throw error
        }
        return changeRows.count / Self.changeColumns.count
    }

    /// `INSERT INTO table (columns) VALUES ($1, …), …`, as many rows a statement as 65,535 parameters allow.
    private func insertRows(_ table: String, _ columns: [String], _ values: [SQLValue], on session: PostgresSession) throws {
        let rowsPerStatement = 65535 / columns.count
        var first = 0
        let rowCount = values.count / columns.count
        while first < rowCount {
            let rows = min(rowsPerStatement, rowCount - first)
            var placeholders: [String] = []
            placeholders.reserveCapacity(rows)
            for row in 0..<rows {
                let base = row * columns.count
                placeholders.append("(" + (1...columns.count).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(placeholders.joined(separator: ", "))"
            _ = try session.run(
                sql, Array(values[(first * columns.count)..<((first + rows) * columns.count)]), inTransaction: true)
            first += rows
        }
    }

    private static let messageColumns = [
        "message_id", "body", "format", "correlation_id", "error_text", "received_at", "receive_count", "sent_at",
    ]
    private static let changeColumns = [
        "message_id", "stream_arn", "shard_id", "sequence_key", "sequence_number", "event_id", "event_name", "keys_json",
        "document_id", "old_image_json", "new_image_json", "approximate_creation_at", "status", "last_error",
        "batch_info_json", "created_at", "updated_at",
    ]

    /// The bare tables: the columns `RawAuditInsert` gives SQLite's, with PostgreSQL's types.
    private static let tables = """
        CREATE TABLE raw_messages (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, message_id TEXT, body TEXT, format TEXT,
            correlation_id TEXT, error_text TEXT, received_at BIGINT, receive_count BIGINT, sent_at BIGINT
        );
        CREATE TABLE raw_changes (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, message_id TEXT, stream_arn TEXT, shard_id TEXT,
            sequence_key TEXT, sequence_number TEXT, event_id TEXT, event_name TEXT, keys_json TEXT, document_id TEXT,
            old_image_json TEXT, new_image_json TEXT, approximate_creation_at BIGINT, status TEXT, last_error TEXT,
            batch_info_json TEXT, created_at BIGINT, updated_at BIGINT
        );
        """

    /// Milliseconds since 1970, as the audit log stores times.
    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}
