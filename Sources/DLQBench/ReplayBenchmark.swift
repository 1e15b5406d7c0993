import AWSClients
import ArgumentParser
import AuditLog
import Foundation
import OpenSearchClient
import Reprocessor
import StreamModel
import SyncTransform
import Synchronization

/// The shape of backlog a replay step runs on.
enum ReplayShape: String, ExpressibleByArgument, CaseIterable {
    /// ``BestCaseWorkload``: one MODIFY per document search already has.
    case bestCase = "best-case"
    /// ``RealisticWorkload``: an outage's INSERTs, MODIFYs and REMOVEs, out of order.
    case realistic

    /// Pending changes of a backlog of `documents` documents.
    func changes(documents: Int) -> Int {
        switch self {
        case .bestCase: documents
        case .realistic: RealisticWorkload(documents: documents).changeCount
        }
    }
}

/// The documents and changes of the best-case replay step: artist `d` is in search at revision 0
/// (with sequence number 2d) and has one pending MODIFY to revision 1 (sequence number 2d + 1), the
/// steady state of a DLQ whose changes failed while the documents already existed.
enum BestCaseWorkload {
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
        let openSearch = try BestCaseWorkload.openSearch(maxBulkOperations: 1000)
        for index in indices {
            try await openSearch.createIndexIfMissing(index: index)
            let transform = SyncTransform(index: index)
            for first in stride(from: 0, to: changes, by: 1000) {
                let operations = (first..<min(first + 1000, changes)).map { document in
                    BulkOperation.index(
                        id: String(document), document: BestCaseWorkload.liveDocument(document, transform: transform),
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
                        sequenceNumber: BestCaseWorkload.newSequence(document), eventID: "replay-\(document)",
                        eventName: .modify, keys: BenchData.artistKeys(document), documentID: String(document),
                        oldImage: BenchData.artist(document, revision: 0), newImage: BenchData.artist(document, revision: 1),
                        approximateCreationTime: now)
                }
                messages.append(
                    NewMessage(
                        messageID: "replay-message-\(start / 10)",
                        body: BenchData.failedBatchBody(
                            streamARN: BenchData.streamARN, shardID: BenchData.shardID,
                            start: BestCaseWorkload.newSequence(range.lowerBound),
                            end: BestCaseWorkload.newSequence(range.upperBound - 1),
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
    @Option(help: "The backlog it was seeded with.") var workload = ReplayShape.bestCase
    @Option(help: "Documents whose changes it holds.") var documents: Int
    @Option(help: "The index the documents are in.") var index: String
    @Option(help: "The table name the replayer is configured with (read only for documents missing from search).")
    var table = "tattoo-directory-bench"
    @Option(help: "Workers replaying at once, each claiming its documents (a postgres:// store only).") var workers = 1
    @Option(help: "The step name to report (default: replay, or replay-postgres on a postgres:// store).")
    var reportAs: String?

    func validate() throws {
        guard (1...32).contains(workers) else { throw ValidationError("--workers must be 1 to 32") }
        guard workers == 1 || AuditLog.isSharedLocation(db) else {
            throw ValidationError("--workers above 1 needs a postgres:// store")
        }
    }

    func run() async throws {
        let settings = try ReprocessorSettings.resolve(
            .init(
                auditDatabasePath: db, openSearchEndpoint: try Peers.openSearchEndpoint().absoluteString, index: index,
                tableName: table))
        // On PostgreSQL each worker is a fleet member: its own connection, claiming documents as its own holder.
        var engines: [(engine: WriteEngine, log: AuditLog)] = []
        for _ in 0..<workers {
            let reprocessor = try await Reprocessor.open(settings: settings, logger: Peers.logger)
            engines.append((try await reprocessor.makeWriteEngine(), reprocessor.auditLog))
        }
        var before: [StoreCounters] = []
        for (_, log) in engines { before.append(await log.storeCounters()) }
        let start = ContinuousClock.now
        // Per worker: what it replayed, and its rounds (the engine reports progress once a round).
        let parts = try await withThrowingTaskGroup(of: (Int, ReplaySummary, Int).self) { group in
            for (worker, (engine, _)) in engines.enumerated() {
                group.addTask {
                    let rounds = RoundCounter()
                    let summary = try await engine.replayDue(progress: { _ in rounds.count.withLock { $0 += 1 } })
                    return (worker, summary, rounds.count.withLock { $0 })
                }
            }
            var parts: [(Int, ReplaySummary, Int)] = []
            for try await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }
        }
        let seconds = Latencies.seconds(ContinuousClock.now - start)
        var summary = ReplaySummary()
        for (_, part, _) in parts { summary.add(part) }
        // Each document's newest change is applied (written, or already true); the rest are coalesced into it.
        let changes = workload.changes(documents: documents)
        guard summary.applied == documents, summary.superseded == changes - documents, summary.failed == 0,
            summary.deferred == 0, summary.conflict == 0, summary.unavailable == 0, summary.pausedReason == nil
        else {
            let paused = summary.pausedReason.map { "; paused: \($0)" } ?? ""
            throw BenchError(
                "replay of \(changes) changes of \(documents) documents: \(summary.applied) applied, "
                    + "\(summary.superseded) superseded, \(summary.failed) failed, \(summary.deferred) deferred, "
                    + "\(summary.conflict) conflict, \(summary.unavailable) unavailable\(paused)")
        }
        var report = StepReport(step: reportAs ?? (AuditLog.isSharedLocation(db) ? "replay-postgres" : "replay"))
        report.setReplayRates(workload: workload, documents: documents, changes: changes, seconds: seconds)
        report.set("writes", summary.writes)
        report.set("workers", workers)
        // Where each worker's time went on the store: round trips (each one network wait on
        // PostgreSQL) per round, and time in the statement that takes the write lock.
        for (worker, part, rounds) in parts {
            let counters = await engines[worker].log.storeCounters()
            let roundTrips = counters.roundTrips - before[worker].roundTrips
            report.set("worker\(worker)Applied", part.applied)
            report.set("worker\(worker)Rounds", rounds)
            report.set("worker\(worker)RoundTrips", roundTrips)
            report.set("worker\(worker)RoundTripsPerRound", rounds == 0 ? 0 : Double(roundTrips) / Double(rounds))
            report.set(
                "worker\(worker)LockSeconds", Latencies.seconds(counters.chainLockWaiting - before[worker].chainLockWaiting))
            report.set("worker\(worker)Transactions", counters.transactions - before[worker].transactions)
            report.setStoreTimes("worker\(worker)", counters.since(before[worker]))
        }
        try report.print()
    }
}

/// The rounds one worker has finished (its engine reports progress once a round).
private final class RoundCounter: Sendable {
    let count = Mutex(0)
}

/// Step 3, the first baseline: the documents' final state written with plain `_bulk` requests of
/// the replayer's size, one after another, with nothing else done.
struct RawBulkBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulk-raw",
        abstract: "Write the replay step's final documents with plain _bulk requests (the raw rate).")

    @Option(help: "The backlog whose final documents to write.") var workload = ReplayShape.bestCase
    @Option(help: "Documents.") var documents: Int
    @Option(help: "The index (seeded like the product's).") var index: String
    @Option(help: "Documents per _bulk request (the replayer's batch).") var batch = 500

    func run() async throws {
        let openSearch = try BestCaseWorkload.openSearch(maxBulkOperations: batch)
        let transform = SyncTransform(index: index)
        let operations: (Range<Int>) -> [BulkOperation] =
            switch workload {
            case .bestCase:
                {
                    $0.map { document in
                        BulkOperation.index(
                            id: String(document), document: BestCaseWorkload.changedDocument(document, transform: transform),
                            condition: nil)
                    }
                }
            case .realistic:
                { $0.compactMap { RealisticWorkload.finalOperation($0, transform: transform) } }
            }
        var writing = Duration.zero
        var written = 0
        for first in stride(from: 0, to: documents, by: batch) {
            let batchOperations = operations(first..<min(first + batch, documents))
            let start = ContinuousClock.now
            let items = try await openSearch.bulk(index: index, operations: batchOperations)
            writing += ContinuousClock.now - start
            guard items.allSatisfy(\.isSuccess) else { throw BenchError("a _bulk item failed") }
            written += items.count
        }
        let seconds = Latencies.seconds(writing)
        let changes = workload.changes(documents: documents)
        var report = StepReport(step: "bulk-raw")
        report.setReplayRates(workload: workload, documents: documents, changes: changes, seconds: seconds)
        report.set("writes", written)
        try report.print()
    }
}

/// Step 3, the second baseline: a naive script that PUTs one document per change — each INSERT
/// and MODIFY indexed, each REMOVE deleted, one request at a time, in stream order (so in
/// sequence order per document), unconditionally.
struct SequentialPutBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put-sequential",
        abstract: "Write every change of the realistic backlog with one request each, in sequence (the naive rate).")

    @Option(help: "Documents of the realistic workload.") var documents: Int
    @Option(help: "The index (seeded like the product's).") var index: String

    func run() async throws {
        let openSearch = try BestCaseWorkload.openSearch(maxBulkOperations: 500)
        let transform = SyncTransform(index: index)
        let changes = RealisticWorkload(documents: documents).streamOrder()
        var writing = Duration.zero
        for change in changes {
            let id = String(change.document)
            let start = ContinuousClock.now
            if let revision = RealisticWorkload.revision(afterStep: change.step) {
                let document = RealisticWorkload.document(change, revision: revision, transform: transform)
                _ = try await openSearch.index(index: index, id: id, document: document)
            } else {
                _ = try await openSearch.delete(index: index, id: id)
            }
            writing += ContinuousClock.now - start
        }
        let seconds = Latencies.seconds(writing)
        var report = StepReport(step: "put-sequential")
        report.setReplayRates(workload: .realistic, documents: documents, changes: changes.count, seconds: seconds)
        report.set("writes", changes.count)
        try report.print()
    }
}

/// Step 3, the floor: only the table reads the realistic replay must make (DESIGN §5: a document
/// missing from search is re-created only after a consistent read of the table's item), with the
/// product's `TableReader` in rounds of the replayer's size, 100 keys a call, a round's calls
/// sent together. No replay of these documents, by any client, can take less time than these
/// reads on the same peer.
struct RawTableReadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table-reads-raw",
        abstract: "Read, with consistent BatchGetItem calls, the items the realistic replay must read (the floor).")

    @Option(help: "Documents of the realistic workload.") var documents: Int
    @Option(help: "The table the realistic replay reads.") var table = "tattoo-directory-realistic"
    @Option(help: "Documents per round (the replayer's batch).") var batch = 500

    func run() async throws {
        let aws = try Peers.aws()
        let reader = TableReader(
            client: DynamoDBClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger), tableName: table)
        // Missing from search with an INSERT or MODIFY newest: the replay reads the table for exactly these.
        let needsRead = { (document: Int) in
            !RealisticWorkload.isInSearch(document) && !RealisticWorkload.isRemoved(document)
        }
        var reading = Duration.zero
        var reads = 0
        var found = 0
        for first in stride(from: 0, to: documents, by: batch) {
            let keys = (first..<min(first + batch, documents)).filter(needsRead).map(BenchData.artistKeys)
            let start = ContinuousClock.now
            found += try await reader.currentItems(keys: keys).count
            reading += ContinuousClock.now - start
            reads += keys.count
        }
        guard found == reads else { throw BenchError("read \(found) items of \(reads)") }
        let seconds = Latencies.seconds(reading)
        var report = StepReport(step: "table-reads-raw")
        report.setReplayRates(workload: .realistic, documents: documents, changes: nil, seconds: seconds)
        report.set("reads", reads)
        try report.print()
    }
}
