import AWSClients
import ArgumentParser
import Foundation
import StreamModel

/// Creates the table with its stream and writes the artist items whose stream records the DLQ messages name.
struct SeedStream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-stream",
        abstract: "Create a table with a NEW_AND_OLD_IMAGES stream and write artists into it (one stream record each).")

    @Option(help: "The table to create.") var table: String
    @Option(help: "Items to write (= stream records).") var records: Int

    func run() async throws {
        let aws = try Peers.aws()
        let dynamoDB = DynamoDBClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger)
        let streamARN = try await dynamoDB.createTableWithStream(tableName: table)
        // Half as many artists as records: the first write of an artist is an INSERT, the second a MODIFY.
        let artists = max(1, records / 2)
        // One call at a time: moto numbers a stream record by the stream's length when it is added, so
        // writes in flight together can get the same sequence number (and one of them would be lost
        // as a duplicate). In one call, no key twice.
        let writer = TableWriter(configuration: aws, table: table)
        let items = (0..<records).map { BenchData.artist($0 % artists, revision: $0 / artists) }
        let perCall = min(25, artists)
        for first in stride(from: 0, to: records, by: perCall) {
            try await writer.put(Array(items[first..<min(first + perCall, records)]))
        }
        var report = StepReport(step: "seed-stream")
        report.set("streamArn", streamARN)
        report.set("records", records)
        try report.print()
    }
}

/// Creates queues and fills each with the same format-A messages, each naming ten consecutive records of the stream.
struct SeedQueues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-queues",
        abstract: "Create queues and SendMessageBatch the same format-A bodies (10 stream records each) into each.")

    @Option(help: "The table whose stream the messages name.") var table: String
    @Option(help: "Messages per queue.") var messages: Int
    @Option(help: "Records each message names.") var recordsPerMessage = 10
    @Option(name: .customLong("queue"), help: "A queue to create and fill (repeat the option for more).") var queues: [String]

    func run() async throws {
        let aws = try Peers.aws()
        let streams = DynamoDBStreamsClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger)
        let sqs = SQSClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger)
        let dynamoDB = DynamoDBClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger)
        guard let streamARN = try await dynamoDB.latestStreamARN(tableName: table) else {
            throw BenchError("table \(table) has no stream")
        }
        guard let shard = try await streams.describeStream(streamARN: streamARN).first else {
            throw BenchError("stream \(streamARN) has no shard")
        }
        let wanted = messages * recordsPerMessage
        var sequences: [SequenceNumber] = []
        var iterator: String? = try await streams.getShardIterator(
            streamARN: streamARN, shardID: shard.shardID, type: .trimHorizon)
        while let current = iterator, sequences.count < wanted {
            let page = try await streams.getRecords(shardIterator: current)
            if page.records.isEmpty { break }
            sequences += page.records.map(\.dynamodb.sequenceNumber)
            iterator = page.nextShardIterator
        }
        guard sequences.count >= wanted else {
            throw BenchError("the stream holds \(sequences.count) records; \(wanted) needed (seed-stream more)")
        }
        var queueURLs: [String] = []
        for queue in queues {
            let url = try await sqs.createQueue(name: queue, attributes: ["VisibilityTimeout": "120"])
            queueURLs.append(url)
            for first in stride(from: 0, to: messages, by: 10) {
                let entries = (first..<min(first + 10, messages)).map { message in
                    let start = message * recordsPerMessage
                    let body = BenchData.failedBatchBody(
                        streamARN: streamARN, shardID: shard.shardID, start: sequences[start],
                        end: sequences[start + recordsPerMessage - 1], count: recordsPerMessage,
                        requestID: "\(queue)-\(message)")
                    return (id: "m\(message - first)", body: body, attributes: [String: String]())
                }
                let result = try await sqs.sendMessageBatch(queueURL: url, entries: entries)
                guard result.failed.isEmpty else { throw BenchError("SendMessageBatch refused \(result.failed.count) messages") }
            }
        }
        var report = StepReport(step: "seed-queues")
        report.set("queueUrls", queueURLs.joined(separator: " "))
        report.set("messages", messages)
        try report.print()
    }
}
