import AWSClients
import AsyncHTTPClient
import AuditLog
import Foundation
import Logging
import NIOCore
import NIOPosix
import StreamModel

/// The data every step uses: artist items like the sync handler's table holds,
/// their changes, and the bodies the Lambda's on-failure destination sends.
enum BenchData {
    /// The stream ARN of changes the audit and replay steps store (they do not read a stream).
    static let streamARN =
        "arn:aws:dynamodb:eu-west-2:123456789012:table/tattoo-directory-local/stream/2026-11-24T09:00:00.000"
    /// The shard of those changes.
    static let shardID = "shardId-00000001573689847184-864758bb"

    /// The keys of artist `id`.
    static func artistKeys(_ id: Int) -> Item {
        ["PK": .string("ARTIST#\(id)"), "SK": .string("METADATA")]
    }

    /// Artist `id` at `revision`: every attribute type the transform handles, about 400 bytes of DynamoDB JSON.
    static func artist(_ id: Int, revision: Int) -> Item {
        [
            "PK": .string("ARTIST#\(id)"), "SK": .string("METADATA"), "GSI1PK": .string("CITY#London"),
            "name": .string("Artist \(id)"), "bio": .string("Fine-line and blackwork, revision \(revision)"),
            "rating": .number("4.\(revision % 10)"), "styles": .stringSet(["blackwork", "fine-line"]),
            "location": .map(["city": .string("London"), "lat": .number("51.5072178"), "lon": .number("-0.1275862")]),
            "portfolio": .list([.string("https://example.com/\(id)/1.jpg"), .string("https://example.com/\(id)/2.jpg")]),
            "bookable": .bool(revision % 2 == 0), "followers": .number(String(48_213 + revision)),
            "hourlyRate": .number("120.50"),
        ]
    }

    /// A stream sequence number: 21 digits or more, numeric order = `ordinal` order.
    static func sequenceNumber(_ ordinal: Int) -> SequenceNumber {
        let digits = String(ordinal)
        // Cannot fail: "1" followed by decimal digits is a valid sequence number.
        return SequenceNumber("1" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits)!
    }

    /// What the Lambda's on-failure destination sends for a batch of `count` records (format A).
    static func failedBatchBody(
        streamARN: String, shardID: String, start: SequenceNumber, end: SequenceNumber, count: Int, requestID: String,
        arrivedAt: Date? = nil
    ) -> String {
        let arrival = arrivedAt.map { ISO8601DateFormatter().string(from: $0) }
        return JSONValue.object([
            "requestContext": .object([
                "requestId": .string(requestID),
                "functionArn": .string("arn:aws:lambda:eu-west-2:123456789012:function:dynamodb-sync-handler"),
                "condition": .string("RetryAttemptsExhausted"), "approximateInvokeCount": .number("3"),
            ]),
            "responseContext": .object([
                "statusCode": .number("200"), "executedVersion": .string("$LATEST"), "functionError": .string("Unhandled"),
            ]),
            "version": .string("1.0"),
            "timestamp": .string(arrival ?? "2026-11-24T10:00:05.000Z"),
            "DDBStreamBatchInfo": .object([
                "shardId": .string(shardID),
                "startSequenceNumber": .string(start.digits),
                "endSequenceNumber": .string(end.digits),
                "approximateArrivalOfFirstRecord": .string(arrival ?? "2026-11-24T10:00:00Z"),
                "approximateArrivalOfLastRecord": .string(arrival ?? "2026-11-24T10:00:01Z"),
                "batchSize": .number(String(count)),
                "streamArn": .string(streamARN),
            ]),
        ]).serialized
    }

    /// The messages of changes `first..<first + count` of the audit workload, ten changes a message.
    ///
    /// Change `i` belongs to document `i % documents`, so a document's changes are spread over the
    /// whole database as they would be over months; its first change is an INSERT, the rest MODIFYs
    /// with the previous revision as old image. Every tenth revision is of a studio record instead
    /// (not an artist record: stored as filtered), so one change in ten is filtered.
    static func auditMessages(first: Int, count: Int, documents: Int, at date: Date) -> [NewMessage] {
        var messages: [NewMessage] = []
        var index = first
        while index < first + count {
            let end = min(index + 10, first + count)
            var changes: [NewChange] = []
            for ordinal in index..<end {
                let document = ordinal % documents
                let revision = ordinal / documents
                let sequence = sequenceNumber(ordinal)
                if revision % 10 == 9 {
                    let keys: Item = ["PK": .string("STUDIO#\(document)"), "SK": .string("METADATA")]
                    changes.append(
                        NewChange(
                            streamARN: streamARN, shardID: shardID, sequenceNumber: sequence, eventID: "event-\(ordinal)",
                            eventName: .modify, keys: keys, newImage: keys, approximateCreationTime: date,
                            status: .filtered, reason: "not an artist METADATA record"))
                } else {
                    changes.append(
                        NewChange(
                            streamARN: streamARN, shardID: shardID, sequenceNumber: sequence, eventID: "event-\(ordinal)",
                            eventName: revision == 0 ? .insert : .modify, keys: artistKeys(document),
                            documentID: String(document),
                            oldImage: revision == 0 ? nil : artist(document, revision: revision - 1),
                            newImage: artist(document, revision: revision), approximateCreationTime: date))
                }
            }
            let body = failedBatchBody(
                streamARN: streamARN, shardID: shardID, start: sequenceNumber(index), end: sequenceNumber(end - 1),
                count: end - index, requestID: "request-\(index / 10)")
            messages.append(
                NewMessage(
                    messageID: "message-\(index / 10)", body: body, format: .failedBatch, correlationID: "request-\(index / 10)",
                    errorText: "RetryAttemptsExhausted after 3 invocations (Unhandled)", receivedAt: date,
                    disposition: .changes(changes)))
            index = end
        }
        return messages
    }
}

/// Clients for the peers, configured from the environment as the product is.
enum Peers {
    /// An HTTP client set up like the product's process-wide one (Reprocessor's `SharedHTTPClient`:
    /// 5 s connect timeout, no hidden connection retries, 16 connections per host), so the raw
    /// baselines travel the same road as the product.
    static let httpClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// Warnings and errors to stderr, as `dlq-reprocessor` logs by default; `DLQ_BENCH_LOG_LEVEL`
    /// (e.g. `debug`) lowers the level and prefixes each line with the milliseconds elapsed, to see
    /// where a step's time goes.
    static let logger: Logger = {
        let level = ProcessInfo.processInfo.environment["DLQ_BENCH_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        guard let level else {
            var logger = Logger(label: "dlq-bench") { label in StreamLogHandler.standardError(label: label) }
            logger.logLevel = .warning
            return logger
        }
        return Logger(label: "dlq-bench") { _ in ElapsedLogHandler(logLevel: level) }
    }()

    /// AWS settings from the environment (`AWS_ENDPOINT_URL` points at moto).
    static func aws() throws -> AWSConfiguration {
        try AWSConfiguration.fromEnvironment()
    }

    /// `OPENSEARCH_ENDPOINT`.
    static func openSearchEndpoint() throws -> URL {
        guard let text = ProcessInfo.processInfo.environment["OPENSEARCH_ENDPOINT"], let url = URL(string: text) else {
            throw BenchError("set OPENSEARCH_ENDPOINT to the OpenSearch peer's URL")
        }
        return url
    }
}
