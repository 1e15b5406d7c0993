import AWSClients
import ArgumentParser
import Foundation
import Reprocessor
import StreamModel

/// Step 2, the product: the reprocessor's own drain (`DLQIngestor` via `Reprocessor`) of a seeded queue.
struct IngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Drain a seeded queue into a new audit log with the reprocessor's DLQIngestor.")

    @Option(help: "The queue (name or URL).") var queue: String
    @Option(help: "The audit database to create (removed first if it exists).") var db: String
    @Option(help: "Messages on the queue (the drain stops after these).") var messages: Int
    @Option(help: "Records each message names.") var recordsPerMessage = 10
    @Option(help: "Receives in flight.") var concurrency = 4

    func run() async throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        let settings = try ReprocessorSettings.resolve(
            .init(queue: queue, auditDatabasePath: db, receiveConcurrency: concurrency))
        let reprocessor = try Reprocessor(settings: settings, logger: Peers.logger)
        let start = ContinuousClock.now
        var summary = IngestSummary()
        // The drain stops after as many receives as messages were sent; SQS delivers at least
        // once (moto too, under concurrent receives), and a copy received twice counts twice, so
        // what a re-delivery took from that budget is drained again.
        repeat {
            let ingestor = try await reprocessor.makeIngestor(
                options: IngestOptions(
                    maxMessages: messages - summary.messagesStored, waitTimeSeconds: 1, concurrency: concurrency))
            let drained = try await ingestor.drain()
            summary.add(drained)
            guard drained.duplicateMessages > 0 else { break }
        } while summary.messagesStored < messages
        summary.add(try await reprocessor.makeIngestor(options: IngestOptions(concurrency: concurrency)).readPendingBatches())
        let seconds = Latencies.seconds(ContinuousClock.now - start)
        guard summary.messagesStored == messages, summary.changesStored == messages * recordsPerMessage,
            summary.batchesRead == messages, summary.deleteFailures == 0
        else {
            throw BenchError(
                "ingest stored \(summary.messagesStored) messages and \(summary.changesStored) changes "
                    + "(\(summary.batchesRead) batches read, \(summary.batchesDelayed) put off, \(summary.expired) expired); "
                    + "expected \(messages) and \(messages * recordsPerMessage)")
        }
        var report = StepReport(step: "ingest")
        report.set("messages", messages)
        report.set("seconds", seconds)
        report.set("messagesPerSecond", Double(messages) / seconds)
        report.set("recordsPerSecond", Double(summary.changesStored) / seconds)
        try report.print()
    }
}

/// Step 2, the baseline: the same SQS and Streams calls with nothing else done — receive (ten, at the
/// same concurrency), read each message's range from the stream, delete — through the project's clients.
struct RawIngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-raw",
        abstract: "Receive, read the named stream records, and delete, with nothing else done (the raw rate).")

    @Option(help: "The queue (name or URL).") var queue: String
    @Option(help: "Messages on the queue (the loop stops after these).") var messages: Int
    @Option(help: "Receives in flight.") var concurrency = 4

    func run() async throws {
        let aws = try Peers.aws()
        let sqs = SQSClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger)
        let streams = DynamoDBStreamsClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger)
        let budget = Budget(messages)
        let queue = queue.hasPrefix("http://") || queue.hasPrefix("https://") ? queue : try await sqs.getQueueURL(name: queue)
        let start = ContinuousClock.now
        let counts = try await withThrowingTaskGroup(of: (messages: Int, records: Int).self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var totals = (messages: 0, records: 0)
                    while true {
                        let claimed = await budget.claim(upTo: SQSClient.maxBatchEntries)
                        if claimed == 0 { return totals }
                        let received = try await sqs.receiveMessages(
                            queueURL: queue, maxMessages: claimed, waitTimeSeconds: 1, visibilityTimeout: 120)
                        await budget.giveBack(claimed - received.count)
                        if received.isEmpty {
                            await budget.markDrained()
                            return totals
                        }
                        let records = try await withThrowingTaskGroup(of: Int.self) { reads in
                            for message in received {
                                reads.addTask { try await Self.readRange(named: message.body, from: streams) }
                            }
                            return try await reads.reduce(0, +)
                        }
                        let deleted = try await sqs.deleteMessageBatch(
                            queueURL: queue,
                            entries: received.enumerated().map {
                                (id: String($0.offset), receiptHandle: $0.element.receiptHandle)
                            })
                        guard deleted.failed.isEmpty else {
                            throw BenchError("DeleteMessageBatch failed for \(deleted.failed.count)")
                        }
                        totals.messages += received.count
                        totals.records += records
                    }
                }
            }
            return try await group.reduce((messages: 0, records: 0)) { ($0.messages + $1.messages, $0.records + $1.records) }
        }
        let seconds = Latencies.seconds(ContinuousClock.now - start)
        guard counts.messages == messages else { throw BenchError("received \(counts.messages) of \(messages) messages") }
        var report = StepReport(step: "ingest-raw")
        report.set("messages", messages)
        report.set("seconds", seconds)
        report.set("messagesPerSecond", Double(messages) / seconds)
        report.set("recordsPerSecond", Double(counts.records) / seconds)
        try report.print()
    }

    /// The Streams calls the reprocessor makes for one format-A body: GetShardIterator at the start, GetRecords
    /// (pages of the batch's size) until the end.
    static func readRange(named body: String, from streams: DynamoDBStreamsClient) async throws -> Int {
        let info = try JSONValue(parsing: body)["DDBStreamBatchInfo"]
        let start = info?["startSequenceNumber"]?.stringValue.flatMap { SequenceNumber($0) }
        let end = info?["endSequenceNumber"]?.stringValue.flatMap { SequenceNumber($0) }
        guard let streamARN = info?["streamArn"]?.stringValue, let shardID = info?["shardId"]?.stringValue,
            let start, let end
        else { throw BenchError("a seeded body lacks its batch info") }
        // The page size the reprocessor's StreamRangeReader asks for: the batch's size.
        let limit = min(
            max(info?["batchSize"]?.numberText.flatMap { Int($0) } ?? DynamoDBStreamsClient.maxRecordsPerCall, 1),
            DynamoDBStreamsClient.maxRecordsPerCall)
        var count = 0
        var iterator: String? = try await streams.getShardIterator(
            streamARN: streamARN, shardID: shardID, type: .atSequenceNumber, sequenceNumber: start)
        while let current = iterator {
            let page = try await streams.getRecords(shardIterator: current, limit: limit)
            if page.records.isEmpty { break }
            let inRange = page.records.prefix { $0.dynamodb.sequenceNumber <= end }.count
            count += inRange
            if inRange < page.records.count || page.records.last?.dynamodb.sequenceNumber == end { break }
            iterator = page.nextShardIterator
        }
        return count
    }
}

/// Messages still to receive, shared by the raw receivers; it behaves as the ingestor's own budget
/// (an empty receive stops every receiver).
actor Budget {
    private var left: Int
    private var drained = false

    init(_ limit: Int) {
        left = limit
    }

    func claim(upTo wanted: Int) -> Int {
        if drained { return 0 }
        let granted = min(left, wanted)
        left -= granted
        return granted
    }

    func giveBack(_ count: Int) {
        left += count
    }

    func markDrained() {
        drained = true
    }
}
