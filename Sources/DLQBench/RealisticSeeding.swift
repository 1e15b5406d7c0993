import AWSClients
import ArgumentParser
import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform

/// Creates the table the realistic replay reads for documents missing from search, holding each
/// artist's final item (removed artists absent).
struct SeedRealisticTable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-realistic-table",
        abstract: "Create a table and write the final item of every artist of the realistic workload that is not removed.")

    @Option(help: "The table to create.") var table: String
    @Option(help: "Documents of the largest realistic workload to serve (the table serves every smaller one).")
    var documents: Int
    @Option(help: "BatchWriteItem calls in flight.") var concurrency = 4

    func run() async throws {
        let aws = try Peers.aws()
        let dynamoDB = DynamoDBClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger)
        _ = try await dynamoDB.createTableWithStream(tableName: table)
        let writer = TableWriter(configuration: aws, table: table)
        let present = (0..<documents).filter { !RealisticWorkload.isRemoved($0) }
        let concurrency = concurrency
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    let share = stride(from: worker * 25, to: present.count, by: concurrency * 25).flatMap {
                        present[$0..<min($0 + 25, present.count)]
                    }
                    try await writer.put(share.map { BenchData.artist($0, revision: 3) })
                }
            }
            try await group.waitForAll()
        }
        var report = StepReport(step: "seed-realistic-table")
        report.set("documents", documents)
        report.set("items", present.count)
        try report.print()
    }
}

/// Puts the realistic replay's starting state in search (in the product's index and each
/// baseline's: the INSERTs the sync handler wrote) and its backlog in a new audit log, through
/// `AuditLog.ingest`, message by message in arrival order.
struct SeedRealisticReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-replay-realistic",
        abstract: "Index the realistic workload's starting state and ingest its changes, out of order, into a new audit log.")

    @Option(help: "The audit database to create (a SQLite file, removed first if it exists, or an empty postgres:// database).")
    var db: String
    @Option(help: "Documents whose changes the backlog holds.") var documents: Int
    @Option(name: .customLong("index"), help: "An index to create and fill (repeat for more).") var indices: [String]

    func run() async throws {
        if !AuditLog.isSharedLocation(db) {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        }
        let workload = RealisticWorkload(documents: documents)
        let openSearch = try BestCaseWorkload.openSearch(maxBulkOperations: 1000)
        let inSearch = (0..<documents).filter(RealisticWorkload.isInSearch)
        for index in indices {
            try await openSearch.createIndexIfMissing(index: index)
            let transform = SyncTransform(index: index)
            for first in stride(from: 0, to: inSearch.count, by: 1000) {
                let operations = inSearch[first..<min(first + 1000, inSearch.count)].map { document in
                    BulkOperation.index(
                        id: String(document),
                        document: RealisticWorkload.document(
                            .init(document: document, step: 0), revision: 1, transform: transform),
                        condition: nil)
                }
                let items = try await openSearch.bulk(index: index, operations: operations)
                guard items.allSatisfy(\.isSuccess) else { throw BenchError("seeding \(index): a _bulk item failed") }
            }
            try await openSearch.refresh(index: index)
        }
        let auditLog = try await AuditLog(location: db)
        let now = Date()
        let messages = workload.messagesInArrivalOrder()
        // Per document, the change ids in sequence order: out of order where they are not increasing.
        var changeIDs: [RealisticWorkload.Change: Int64] = [:]
        for first in stride(from: 0, to: messages.count, by: 100) {
            let group = (first..<min(first + 100, messages.count)).map { number in
                let changes = messages[number]
                let sequences = changes.map(RealisticWorkload.sequence)
                return NewMessage(
                    messageID: "realistic-message-\(number)",
                    body: BenchData.failedBatchBody(
                        streamARN: BenchData.streamARN, shardID: BenchData.shardID, start: sequences.min()!,
                        end: sequences.max()!, count: changes.count, requestID: "realistic-\(number)"),
                    format: .failedBatch, receivedAt: now,
                    disposition: .changes(changes.map { RealisticWorkload.newChange($0, receivedAt: now) }))
            }
            let outcomes = try await auditLog.ingest(group, at: now)
            for (number, outcome) in zip(first..., outcomes) {
                guard outcome.storedChangeIDs.count == messages[number].count else {
                    throw BenchError(
                        "message \(number): stored \(outcome.storedChangeIDs.count) of \(messages[number].count) changes")
                }
                for (change, id) in zip(messages[number], outcome.storedChangeIDs) { changeIDs[change] = id }
            }
        }
        let outOfOrder = (0..<documents).filter { document in
            let ids = (0..<RealisticWorkload.steps(document)).map { changeIDs[.init(document: document, step: $0)]! }
            return ids != ids.sorted()
        }.count
        var report = StepReport(step: "seed-replay-realistic")
        report.set("documents", documents)
        report.set("changes", workload.changeCount)
        report.set("messages", messages.count)
        report.set("documentsInSearch", inSearch.count)
        report.set("documentsRemoved", (0..<documents).filter(RealisticWorkload.isRemoved).count)
        report.set("documentsOutOfOrder", outOfOrder)
        try report.print()
    }
}
