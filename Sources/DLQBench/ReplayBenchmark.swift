import AWSClients
import ArgumentParser
import AuditLog
import Foundation
import OpenSearchClient
import Reprocessor
import StreamModel
import SyncTransform

/// The documents and changes of the replay step: artist `d` is in search at revision 0 (with
/// sequence number 2d) and has one pending MODIFY to revision 1 (sequence number 2d + 1), the
/// steady state of a DLQ whose changes failed while the documents already existed.
enum ReplayWorkload {
    static func oldSequence(_ document: Int) -> SequenceNumber { BenchData.sequenceNumber(2 * document) }
    static func newSequence(_ document: Int) -> SequenceNumber { BenchData.sequenceNumber(2 * document + 1) }

    /// The document as the sync handler wrote it before the change failed.
    static func liveDocument(_ document: Int, transform: SyncTransform) -> JSONValue {
        transform.document(
            for: BenchData.artist(document, revision: 0),
            stamp: SyncStamp(
                sequenceNumber: oldSequence(document), eventName: .insert, approximateCreationTime: nil, appliedAt: Date()))
    }

    /// The document the change makes.
    static func changedDocument(_ document: Int, transform: SyncTransform) -> JSONValue {
        transform.document(
            for: BenchData.artist(document, revision: 1),
            stamp: SyncStamp(
                sequenceNumber: newSequence(document), eventName: .modify, approximateCreationTime: nil, appliedAt: Date()))
    }

    static func openSearch(maxBulkOperations: Int) throws -> OpenSearchClient {
        // The replayer's own settings (Reprocessor.makeWriteEngine): retries and bulk size.
        OpenSearchClient(
            endpoint: try Peers.openSearchEndpoint(), httpClient: Peers.httpClient,
            retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(200), maxDelay: .seconds(2)),
            maxBulkOperations: maxBulkOperations, logger: Peers.logger)
    }
}

/// Puts the replay step's documents in search (in the product's index and the baseline's) and its
/// pending changes in a new audit log, through `AuditLog.ingest`.
struct SeedReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-replay",
        abstract: "Index the documents' old revisions and ingest one pending MODIFY per document into a new audit log.")

    @Option(help: "The audit database to create (removed first if it exists).") var db: String
    @Option(help: "Pending changes (one per document).") var changes: Int
    @Option(name: .customLong("index"), help: "An index to create and fill (repeat for more).") var indices: [String]

    func run() async throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        let openSearch = try ReplayWorkload.openSearch(maxBulkOperations: 1000)
        for index in indices {
            try await openSearch.createIndexIfMissing(index: index)
            let transform = SyncTransform(index: index)
            for first in stride(from: 0, to: changes, by: 1000) {
                let operations = (first..<min(first + 1000, changes)).map { document in
                    BulkOperation.index(
                        id: String(document), document: ReplayWorkload.liveDocument(document, transform: transform),
                        condition: nil)
                }
                let items = try await openSearch.bulk(index: index, operations: operations)
                guard items.allSatisfy(\.isSuccess) else { throw BenchError("seeding \(index): a _bulk item failed") }
            }
            try await openSearch.refresh(index: index)
        }
        let auditLog = try AuditLog(path: db)
        let now = Date()
        for first in stride(from: 0, to: changes, by: 1000) {
            var messages: [NewMessage] = []
            for start in stride(from: first, to: min(first + 1000, changes), by: 10) {
                let range = start..<min(start + 10, changes)
                let pending = range.map { document in
                    NewChange(
                        streamARN: BenchData.streamARN, shardID: BenchData.shardID,
                        sequenceNumber: ReplayWorkload.newSequence(document), eventID: "replay-\(document)",
                        eventName: .modify, keys: BenchData.artistKeys(document), documentID: String(document),
                        oldImage: BenchData.artist(document, revision: 0), newImage: BenchData.artist(document, revision: 1),
                        approximateCreationTime: now)
                }
                messages.append(
                    NewMessage(
                        messageID: "replay-message-\(start / 10)",
                        body: BenchData.failedBatchBody(
                            streamARN: BenchData.streamARN, shardID: BenchData.shardID,
                            start: ReplayWorkload.newSequence(range.lowerBound),
                            end: ReplayWorkload.newSequence(range.upperBound - 1),
                            count: range.count, requestID: "replay-\(start / 10)"),
                        format: .failedBatch, receivedAt: now, disposition: .changes(pending)))
            }
            _ = try await auditLog.ingest(messages, at: now)
        }
        var report = StepReport(step: "seed-replay")
        report.set("changes", changes)
        try report.print()
    }
}

/// Step 3, the product: `WriteEngine.replayDue` (via `Reprocessor`) of the seeded pending changes.
struct ReplayBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay every pending change of a seeded audit log with the write engine.")

    @Option(help: "The seeded audit database.") var db: String
    @Option(help: "Pending changes in it.") var changes: Int
    @Option(help: "The index the documents are in.") var index: String
    @Option(help: "The table name the replayer is configured with (read only for documents missing from search).")
    var table = "tattoo-directory-bench"

    func run() async throws {
        let settings = try ReprocessorSettings.resolve(
            .init(
                auditDatabasePath: db, openSearchEndpoint: try Peers.openSearchEndpoint().absoluteString, index: index,
                tableName: table))
        let reprocessor = try Reprocessor(settings: settings, logger: Peers.logger)
        let engine = try await reprocessor.makeWriteEngine()
        let start = ContinuousClock.now
        let summary = try await engine.replayDue()
        let seconds = Latencies.seconds(ContinuousClock.now - start)
        guard summary.applied == changes else {
            throw BenchError(
                "replay applied \(summary.applied) of \(changes) changes (\(summary.superseded) superseded, "
                    + "\(summary.failed) failed, \(summary.deferred) deferred)")
        }
        var report = StepReport(step: "replay")
        report.set("changes", changes)
        report.set("seconds", seconds)
        report.set("documentsPerSecond", Double(changes) / seconds)
        try report.print()
    }
}

/// Step 3, the baseline: the same documents written with plain `_bulk` requests of the replayer's
/// size, one after another, with nothing else done.
struct RawBulkBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulk-raw",
        abstract: "Index the replay step's new documents with plain _bulk requests (the raw rate).")

    @Option(help: "Documents.") var changes: Int
    @Option(help: "The index (seeded like the product's).") var index: String
    @Option(help: "Documents per _bulk request (the replayer's batch).") var batch = 500

    func run() async throws {
        let openSearch = try ReplayWorkload.openSearch(maxBulkOperations: batch)
        let transform = SyncTransform(index: index)
        var writing = Duration.zero
        for first in stride(from: 0, to: changes, by: batch) {
            let operations = (first..<min(first + batch, changes)).map { document in
                BulkOperation.index(
                    id: String(document), document: ReplayWorkload.changedDocument(document, transform: transform), condition: nil
                )
            }
            let start = ContinuousClock.now
            let items = try await openSearch.bulk(index: index, operations: operations)
            writing += ContinuousClock.now - start
            guard items.allSatisfy(\.isSuccess) else { throw BenchError("a _bulk item failed") }
        }
        var report = StepReport(step: "bulk-raw")
        report.set("changes", changes)
        report.set("seconds", Latencies.seconds(writing))
        report.set("documentsPerSecond", Double(changes) / Latencies.seconds(writing))
        try report.print()
    }
}
