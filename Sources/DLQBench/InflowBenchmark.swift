import AWSClients
import ArgumentParser
import AuditLog
import Foundation
import OpenSearchClient
import SQLite
import StreamModel

/// Step 6: `serve` during a live outage. The real `dlq-reprocessor serve` runs as its own process
/// (20 s long polls, replay every second) while a producer sends the DLQ a steady inflow at a
/// fixed rate — format-A records naming ten real stream records each and forwarded records
/// (format B) of ten records each, alternating — for a fixed time. Then the step waits until
/// every message is stored, every batch read and every change settled, and reports from the audit
/// store: the lag from each message's sending to its changes being applied (p50, p99, max), the
/// wait from a batch being stored to being read, and `serve`'s peak resident set size.
struct InflowBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inflow",
        abstract: "Run serve under a steady DLQ inflow and report freshness (sent → applied) and batch waits.")

    @Option(help: "The dlq-reprocessor executable to run as serve.") var serve: String
    @Option(help: "The table whose stream the messages name (seeded by seed-stream).") var table: String
    @Option(help: "The queue to create.") var queue: String
    @Option(help: "The index serve writes.") var index: String
    @Option(help: "The audit database serve creates (removed first if it exists).") var db: String
    @Option(help: "Messages sent per second.") var rate: Double
    @Option(help: "Seconds the inflow lasts.") var seconds: Double
    @Option(help: "The ingest capacity measured in the same run (messages/s), reported beside the rate.")
    var capacity: Double
    @Option(help: "Longest wait, after the inflow, for everything to settle (seconds).") var settle: Double = 300

    static let recordsPerMessage = 10

    func run() async throws {
        guard rate > 0, seconds > 0, capacity > 0 else {
            throw BenchError("--rate, --seconds and --capacity must be positive")
        }
        for suffix in ["", "-wal", "-shm", ".lease"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        let aws = try Peers.aws()
        let sqs = SQSClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger)
        let queueURL = try await sqs.createQueue(name: queue, attributes: ["VisibilityTimeout": "120"])
        let records = try await Self.streamRecords(table: table, configuration: aws)
        try await OpenSearchClient(endpoint: try Peers.openSearchEndpoint(), logger: Peers.logger)
            .createIndexIfMissing(index: index)
        let messages = Int((rate * seconds).rounded())
        guard records.records.count >= Self.recordsPerMessage else { throw BenchError("the stream has too few records") }

        let process = try startServe(queueURL: queueURL)
        defer { if process.isRunning { process.terminate() } }

        // The inflow: message i is due at start + i / rate. Messages go ten to a SendMessageBatch
        // call, a call as soon as its first message is due, up to four calls in flight, so the
        // producer keeps its schedule well above the service's capacity (one SendMessage at a
        // time reached about 22 messages/s beside serve's receives).
        let start = ContinuousClock.now
        let perCall = 10
        let callsInFlight = 4
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for first in stride(from: 0, to: messages, by: perCall) {
                let due = start.advanced(by: .seconds(Double(first) / rate))
                if due > ContinuousClock.now { try await Task.sleep(until: due) }
                if running == callsInFlight {
                    try await group.next()
                    running -= 1
                }
                let entries = (first..<min(first + perCall, messages)).map { number in
                    (
                        id: "m\(number)", body: records.body(number, recordsPerMessage: Self.recordsPerMessage),
                        attributes: [String: String]()
                    )
                }
                group.addTask {
                    let result = try await sqs.sendMessageBatch(queueURL: queueURL, entries: entries)
                    guard result.failed.isEmpty else {
                        throw BenchError("SendMessageBatch refused \(result.failed.count) of messages \(first)…")
                    }
                }
                running += 1
            }
            try await group.waitForAll()
        }
        let inflowSeconds = Latencies.seconds(ContinuousClock.now - start)

        // Settled: every message stored, no batch waiting, no change due.
        let settleStart = ContinuousClock.now
        while true {
            guard process.isRunning else { throw BenchError("serve exited during the inflow (see \(db).serve.log)") }
            if try Self.settled(db: db, messages: messages) { break }
            if Latencies.seconds(ContinuousClock.now - settleStart) > settle {
                throw BenchError("not settled \(settle) s after the inflow (see \(db).serve.log)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let settleSeconds = Latencies.seconds(ContinuousClock.now - settleStart)
        let peakRSS = try PeakMemory.residentSetBytes(pid: process.processIdentifier)
        process.terminate()
        process.waitUntilExit()

        let figures = try Self.figures(db: db)
        var report = StepReport(step: "inflow")
        report.set("messages", messages)
        report.set("inflowRate", rate)
        report.set("capacity", capacity)
        report.set("load", rate / capacity)
        report.set("inflowSeconds", inflowSeconds)
        report.set("settleSeconds", settleSeconds)
        report.set("messagesPerSecond", Double(messages) / (inflowSeconds + settleSeconds))
        report.set("changesApplied", figures.lags.count)
        report.set("lagP50Seconds", Latencies.percentile(0.5, of: figures.lags) ?? 0)
        report.set("lagP99Seconds", Latencies.percentile(0.99, of: figures.lags) ?? 0)
        report.set("lagMaxSeconds", figures.lags.max() ?? 0)
        report.set("batches", figures.batchWaits.count)
        report.set("batchWaitP50Seconds", Latencies.percentile(0.5, of: figures.batchWaits) ?? 0)
        report.set("batchWaitMaxSeconds", figures.batchWaits.max() ?? 0)
        report.set("lagGrowth", figures.lagGrowth)
        report.set("batchOvertakeMax", figures.batchOvertakeMax)
        report.set("servePeakRSSBytes", peakRSS)
        try report.print()
    }

    /// Starts `serve` on a free port with the peers' settings; its output goes to `<db>.serve.log`.
    func startServe(queueURL: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: serve)
        process.arguments = ["serve", "--http", "127.0.0.1:0", "--interval", "1", "--wait", "20", "--log-level", "notice"]
        var environment = ProcessInfo.processInfo.environment
        environment["DLQ_URL"] = queueURL
        environment["AUDIT_DB"] = db
        environment["OPENSEARCH_INDEX"] = index
        environment["DYNAMODB_TABLE_NAME"] = table
        environment["DLQ_BATCH_RETRY_SECONDS"] = "1"
        process.environment = environment
        FileManager.default.createFile(atPath: db + ".serve.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: db + ".serve.log"))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    /// Whether serve has stored `messages` messages, read every batch and settled every change.
    static func settled(db: String, messages: Int) throws -> Bool {
        guard FileManager.default.fileExists(atPath: db) else { return false }
        let connection = try Connection(path: db)
        let stored: Int = try connection.queryOne("SELECT count(*) FROM messages") { $0.column(0) } ?? 0
        let waiting: Int = try connection.queryOne("SELECT count(*) FROM batches WHERE status = 'pending'") { $0.column(0) } ?? 0
        let due: Int =
            try connection.queryOne("SELECT count(*) FROM changes WHERE status IN ('pending', 'failed')") { $0.column(0) }
            ?? 0
        return stored >= messages && waiting == 0 && due == 0
    }

    /// What the audit store says of freshness after a run.
    struct Figures {
        /// Sent → applied lag of every applied change, in seconds.
        var lags: [Double]
        /// Stored → read wait of every read batch, in seconds.
        var batchWaits: [Double]
        /// How fast the lag grew over the inflow: the least-squares slope of each applied change's
        /// lag against when its message was sent (seconds of lag per second of inflow). Steady
        /// service keeps it near 0; above capacity C, an inflow R served oldest first grows it
        /// by (R − C) / C.
        var lagGrowth: Double
        /// The most batches read ahead of an older one: for each read batch, how many batches
        /// stored after it, whose ranges reached the stream later, finished reading before it.
        /// Reads run a few at once, so up to that many may finish first; more means newer work
        /// overtook the batch nearest its retention.
        var batchOvertakeMax: Int
    }

    static func figures(db: String) throws -> Figures {
        let connection = try Connection(path: db)
        var lags: [Double] = []
        var sent: [Double] = []
        try connection.forEachRow(
            """
            SELECT a.at - m.sent_at, m.sent_at FROM actions a JOIN changes c ON c.id = a.change_id
            JOIN messages m ON m.message_id = c.message_id WHERE a.action = 'applied' AND m.sent_at IS NOT NULL
            """
        ) { row in
            lags.append(Double(row.column(0) as Int64) / 1000)
            sent.append(Double(row.column(1) as Int64) / 1000)
        }
        var waits: [Double] = []
        try connection.forEachRow("SELECT updated_at - created_at FROM batches WHERE status = 'read'") { row in
            waits.append(Double(row.column(0) as Int64) / 1000)
        }
        let overtakes: Int =
            try connection.queryOne(
                """
                SELECT ifnull(max(overtaken), 0) FROM (
                    SELECT (SELECT count(*) FROM batches newer WHERE newer.status = 'read'
                            AND newer.last_record_at > older.last_record_at
                            AND newer.updated_at < older.updated_at
                            AND older.created_at <= newer.created_at) AS overtaken
                    FROM batches older WHERE older.status = 'read')
                """
            ) { $0.column(0) } ?? 0
        return Figures(lags: lags, batchWaits: waits, lagGrowth: slope(of: lags, against: sent), batchOvertakeMax: overtakes)
    }

    /// The least-squares slope of `values` against `times` (0 for fewer than two distinct times).
    static func slope(of values: [Double], against times: [Double]) -> Double {
        guard values.count == times.count, values.count > 1 else { return 0 }
        let count = Double(values.count)
        let meanTime = times.reduce(0, +) / count
        let meanValue = values.reduce(0, +) / count
        var covariance = 0.0
        var variance = 0.0
        for (time, value) in zip(times, values) {
            covariance += (time - meanTime) * (value - meanValue)
            variance += (time - meanTime) * (time - meanTime)
        }
        return variance > 0 ? covariance / variance : 0
    }

    /// The records of the table's stream, in order, with what a body needs.
    struct StreamRecords {
        var streamARN: String
        var shardID: String
        var records: [StreamRecord]

        /// Message `number`: format A for even numbers, forwarded records (format B) for odd ones,
        /// each of `recordsPerMessage` records of its own (wrapping around the stream when the
        /// inflow outlasts it: the repeats are then known changes).
        func body(_ number: Int, recordsPerMessage: Int) -> String {
            let groups = records.count / recordsPerMessage
            let first = (number % groups) * recordsPerMessage
            let group = Array(records[first..<first + recordsPerMessage])
            if number % 2 == 0 {
                return BenchData.failedBatchBody(
                    streamARN: streamARN, shardID: shardID, start: group[0].dynamodb.sequenceNumber,
                    end: group[group.count - 1].dynamodb.sequenceNumber, count: group.count,
                    requestID: "inflow-\(number)", arrivedAt: Date())
            }
            return JSONValue.object([
                "Records": .array(group.map(\.json)), "errorMessage": .string("mapper_parsing_exception"),
                "errorType": .string("ResponseError"), "correlationId": .string("inflow-\(number)"),
            ]).serialized
        }
    }

    /// Reads the whole stream of `table` (one shard, as moto makes it).
    static func streamRecords(table: String, configuration: AWSConfiguration) async throws -> StreamRecords {
        let streams = DynamoDBStreamsClient(configuration: configuration, httpClient: Peers.httpClient, logger: Peers.logger)
        let dynamoDB = DynamoDBClient(configuration: configuration, httpClient: Peers.httpClient, logger: Peers.logger)
        guard let streamARN = try await dynamoDB.latestStreamARN(tableName: table) else {
            throw BenchError("table \(table) has no stream")
        }
        guard let shard = try await streams.describeStream(streamARN: streamARN).first else {
            throw BenchError("stream \(streamARN) has no shard")
        }
        var records: [StreamRecord] = []
        var iterator: String? = try await streams.getShardIterator(
            streamARN: streamARN, shardID: shard.shardID, type: .trimHorizon)
        while let current = iterator {
            let page = try await streams.getRecords(shardIterator: current)
            if page.records.isEmpty { break }
            records += page.records
            iterator = page.nextShardIterator
        }
        return StreamRecords(streamARN: streamARN, shardID: shard.shardID, records: records)
    }
}
