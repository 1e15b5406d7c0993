import AWSClients
import AsyncHTTPClient
import Foundation
import Logging
import OpenSearchClient
import StreamModel
import SyncTransform

/// A failure setting up a world.
public struct WorldError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
}

/// A whole world for end-to-end tests: moto and osmem on free ports, a table
/// with a stream, a DLQ, an index, and a scratch folder for the audit log.
/// The built `dlq-reprocessor` runs against it as a separate process.
public final class ReprocessorWorld: Sendable {
    /// The AWS peer.
    public let moto: MotoServer
    /// The OpenSearch peer.
    public let openSearchServer: OSMemServer
    /// AWS settings pointing at ``moto``.
    public let configuration: AWSConfiguration
    /// The table (with a NEW_AND_OLD_IMAGES stream).
    public let tableName: String
    /// The DLQ.
    public let queueURL: String
    /// The table's stream.
    public let streamARN: String
    /// The OpenSearch index.
    public let index = "artists"
    /// A scratch folder, removed with the world.
    public let directory: URL
    /// The DLQ's visibility timeout. When given to ``start(visibilityTimeoutSeconds:)`` the
    /// executable also asks for it on receive (`DLQ_VISIBILITY_TIMEOUT`), so a crashed ingest's
    /// messages come back after it; otherwise the executable keeps its own default (120 s).
    public let visibilityTimeoutSeconds: Int
    private let receiveVisibilityTimeout: Int?
    let logger = Logger(label: "world", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Where the executable keeps its audit log.
    public var auditDatabasePath: String { directory.appendingPathComponent("audit.sqlite3").path }

    private init(
        moto: MotoServer, openSearchServer: OSMemServer, configuration: AWSConfiguration, tableName: String,
        queueURL: String, streamARN: String, directory: URL, visibilityTimeoutSeconds: Int,
        receiveVisibilityTimeout: Int?
    ) {
        self.moto = moto
        self.openSearchServer = openSearchServer
        self.configuration = configuration
        self.tableName = tableName
        self.queueURL = queueURL
        self.streamARN = streamARN
        self.directory = directory
        self.visibilityTimeoutSeconds = visibilityTimeoutSeconds
        self.receiveVisibilityTimeout = receiveVisibilityTimeout
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts both peers and creates the table, the queue and the index.
    /// - Parameter visibilityTimeoutSeconds: The queue's visibility timeout (30 s when nil), also
    ///   given to the executable when set; crash tests make it short so a killed ingest's
    ///   messages come back soon.
    public static func start(visibilityTimeoutSeconds: Int? = nil) async throws -> ReprocessorWorld {
        async let moto = MotoServer.start()
        async let openSearch = OSMemServer.start()
        let (motoServer, openSearchServer) = try await (moto, openSearch)
        let configuration = AWSFixtures.configuration(motoURL: motoServer.url)
        let tableName = AWSFixtures.uniqueName("tattoo-directory")
        let streamARN = try await AWSFixtures.createTableWithStream(named: tableName, configuration: configuration)
        let queueURL = try await AWSFixtures.createQueue(
            named: AWSFixtures.uniqueName("dlq"), attributes: ["VisibilityTimeout": String(visibilityTimeoutSeconds ?? 30)],
            configuration: configuration)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("world-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let world = ReprocessorWorld(
            moto: motoServer, openSearchServer: openSearchServer, configuration: configuration, tableName: tableName,
            queueURL: queueURL, streamARN: streamARN, directory: directory,
            visibilityTimeoutSeconds: visibilityTimeoutSeconds ?? 30, receiveVisibilityTimeout: visibilityTimeoutSeconds)
        try await world.openSearch.createIndexIfMissing(index: world.index)
        return world
    }

    // MARK: clients

    /// A DynamoDB client for ``moto``.
    public var dynamoDB: DynamoDBClient { DynamoDBClient(configuration: configuration, logger: logger) }
    /// A DynamoDB Streams client for ``moto``.
    public var streams: DynamoDBStreamsClient { DynamoDBStreamsClient(configuration: configuration, logger: logger) }
    /// An SQS client for ``moto``.
    public var sqs: SQSClient { SQSClient(configuration: configuration, logger: logger) }
    /// An OpenSearch client (no retries) for the peer.
    public var openSearch: OpenSearchClient {
        OpenSearchClient(endpoint: openSearchServer.url, retryPolicy: .none, logger: logger)
    }

    // MARK: running the executable

    /// The environment the executable runs with (nothing inherited but PATH and HOME).
    public func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": directory.path,
            "USER": "test-operator",
            "AWS_ACCESS_KEY_ID": AWSFixtures.testCredentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": AWSFixtures.testCredentials.secretAccessKey,
            "AWS_REGION": configuration.region,
            "AWS_ENDPOINT_URL": moto.url.absoluteString,
            "DLQ_URL": queueURL,
            "AUDIT_DB": auditDatabasePath,
            "OPENSEARCH_ENDPOINT": openSearchServer.url.absoluteString,
            "OPENSEARCH_INDEX": index,
            "DYNAMODB_TABLE_NAME": tableName,
        ]
        if let receiveVisibilityTimeout { environment["DLQ_VISIBILITY_TIMEOUT"] = String(receiveVisibilityTimeout) }
        environment.merge(extra) { $1 }
        return environment
    }

    /// Runs `dlq-reprocessor` with `arguments`.
    public func cli(_ arguments: String..., environment extra: [String: String] = [:]) async throws -> CommandRunner.Output {
        try await CommandRunner.run(ReprocessorExecutable.path, arguments, environment: environment(extra))
    }

    /// Runs `dlq-reprocessor … --json` and parses its output.
    public func cliJSON(_ arguments: String...) async throws -> (CommandRunner.Output, JSONValue?) {
        let output = try await CommandRunner.run(
            ReprocessorExecutable.path, arguments + ["--json"], environment: environment())
        return (output, try? JSONValue(parsing: output.stdout))
    }

    // MARK: the table

    /// The keys of artist `id`.
    public static func artistKeys(_ id: String) -> Item {
        ["PK": .string("ARTIST#\(id)"), "SK": .string("METADATA")]
    }

    /// An artist item with every attribute type the transform handles.
    public static func artist(_ id: String, name: String, rating: String = "4.5", styles: [String] = ["blackwork"]) -> Item {
        [
            "PK": .string("ARTIST#\(id)"), "SK": .string("METADATA"), "GSI1PK": .string("CITY#London"),
            "name": .string(name), "rating": .number(rating), "styles": .stringSet(styles),
            "location": .map(["city": .string("London"), "lat": .number("51.5072178")]),
            "portfolio": .list([.string("https://example.com/1.jpg")]), "bookable": .bool(true),
            "followers": .number("48213"), "hourlyRate": .number("120.50"),
        ]
    }

    /// Writes an artist (an INSERT or MODIFY in the stream).
    public func putArtist(_ id: String, name: String, rating: String = "4.5", styles: [String] = ["blackwork"]) async throws {
        try await dynamoDB.putItem(tableName: tableName, item: Self.artist(id, name: name, rating: rating, styles: styles))
    }

    /// Writes any item.
    public func put(_ item: Item) async throws {
        try await dynamoDB.putItem(tableName: tableName, item: item)
    }

    /// Writes many items, 25 a `BatchWriteItem` call, resending what the service leaves unprocessed.
    public func putAll(_ items: [Item]) async throws {
        let client = AWSJSONClient(service: .dynamodb, configuration: configuration, logger: logger)
        for start in stride(from: 0, to: items.count, by: 25) {
            var requests = items[start..<min(start + 25, items.count)].map { item in
                JSONValue.object(["PutRequest": .object(["Item": item.dynamoJSON])])
            }
            while !requests.isEmpty {
                let response = try await client.call(
                    "BatchWriteItem", .object(["RequestItems": .object([tableName: .array(requests)])]))
                requests = response["UnprocessedItems"]?[tableName]?.arrayValue ?? []
            }
        }
    }

    /// Deletes an artist (a REMOVE in the stream).
    public func deleteArtist(_ id: String) async throws {
        try await dynamoDB.deleteItem(tableName: tableName, key: Self.artistKeys(id))
    }

    /// The artist as the table holds it now.
    public func currentArtist(_ id: String) async throws -> Item? {
        try await dynamoDB.getItem(tableName: tableName, key: Self.artistKeys(id), consistentRead: true)
    }

    /// Every record in the stream so far, with its shard, in order.
    public func streamRecords() async throws -> [(shardID: String, record: StreamRecord)] {
        var all: [(String, StreamRecord)] = []
        for shard in try await streams.describeStream(streamARN: streamARN) {
            var iterator: String? = try await streams.getShardIterator(
                streamARN: streamARN, shardID: shard.shardID, type: .trimHorizon)
            while let current = iterator {
                let page = try await streams.getRecords(shardIterator: current)
                if page.records.isEmpty { break }
                all += page.records.map { (shard.shardID, $0) }
                iterator = page.nextShardIterator
            }
        }
        return all
    }

    // MARK: the DLQ

    /// The body the Lambda's on-failure destination sends for a batch (format A).
    /// - Parameters:
    ///   - records: The batch's records, in order; the range runs from the first to the last (or `end`).
    ///   - requestID: `requestContext.requestId`.
    ///   - end: The range's end, when it is not the last record's (a forged range, say).
    ///   - batchSize: `batchSize`, when it is not the number of records.
    ///   - arrivedAt: When the records reached the stream (and the failure was reported); a fixed
    ///     day in the past (2026-11-24) when nil.
    public func failedBatchBody(
        _ records: [(shardID: String, record: StreamRecord)], requestID: String, end: SequenceNumber? = nil,
        batchSize: Int? = nil, arrivedAt: Date? = nil
    ) -> String {
        let first = records[0], last = records[records.count - 1]
        let formatter = ISO8601DateFormatter()
        let arrival = arrivedAt.map { formatter.string(from: $0) }
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
                "shardId": .string(first.shardID),
                "startSequenceNumber": .string(first.record.dynamodb.sequenceNumber.digits),
                "endSequenceNumber": .string((end ?? last.record.dynamodb.sequenceNumber).digits),
                "approximateArrivalOfFirstRecord": .string(arrival ?? "2026-11-24T10:00:00Z"),
                "approximateArrivalOfLastRecord": .string(arrival ?? "2026-11-24T10:00:01Z"),
                "batchSize": .number(String(batchSize ?? records.count)),
                "streamArn": .string(streamARN),
            ]),
        ]).serialized
    }

    /// Puts artists 1…`artists` in the table and returns the format-A bodies naming their stream
    /// records in order, `perBatch` records a body, each body's request id `requestPrefix` and
    /// the index of its first record.
    /// - Parameter arrivedAt: When the records reached the stream (see ``failedBatchBody(_:requestID:end:batchSize:arrivedAt:)``).
    public func seedFailedBatches(
        artists: Int, perBatch: Int = 2, requestPrefix: String = "req-", arrivedAt: Date? = nil
    ) async throws -> [String] {
        for id in 1...artists { try await putArtist("\(id)", name: "Artist \(id)") }
        let records = try await streamRecords()
        return stride(from: 0, to: records.count, by: perBatch).map { start in
            failedBatchBody(
                Array(records[start..<min(start + perBatch, records.count)]), requestID: "\(requestPrefix)\(start)",
                arrivedAt: arrivedAt)
        }
    }

    /// Forwarded records (format B).
    public func forwardedBody(_ records: [StreamRecord], correlationID: String? = nil) -> String {
        var fields: [String: JSONValue] = [
            "Records": .array(records.map(\.json)),
            "errorMessage": .string("connect ECONNREFUSED"), "errorType": .string("ConnectionError"),
        ]
        if let correlationID { fields["correlationId"] = .string(correlationID) }
        return JSONValue.object(fields).serialized
    }

    /// Sends bodies to the DLQ, ten at a time.
    public func send(_ bodies: [String], attributes: [String: String] = [:]) async throws {
        for start in stride(from: 0, to: bodies.count, by: 10) {
            let chunk = bodies[start..<min(start + 10, bodies.count)]
            let result = try await sqs.sendMessageBatch(
                queueURL: queueURL,
                entries: chunk.enumerated().map { (id: "m\($0.offset)", body: $0.element, attributes: attributes) })
            if !result.failed.isEmpty { throw WorldError(description: "SendMessageBatch failed: \(result.failed)") }
        }
    }

    /// Messages visible and in flight.
    public func queueDepth() async throws -> Int {
        let counts = try await sqs.approximateMessageCounts(queueURL: queueURL)
        return counts.visible + counts.inFlight
    }

    // MARK: search

    /// The artist's document in search.
    public func liveDocument(_ id: String) async throws -> OpenSearchDocument? {
        try await openSearch.get(index: index, id: id)
    }

    /// A document without its `sync` stamp, for comparing content.
    public static func content(_ document: JSONValue) -> JSONValue {
        guard case .object(var fields) = document else { return document }
        fields["sync"] = nil
        return .object(fields)
    }

    /// The content the sync handler would write for `item`.
    public func expectedContent(_ item: Item) -> JSONValue {
        let stamp = SyncStamp(
            sequenceNumber: SequenceNumber("1")!, eventName: .modify, approximateCreationTime: nil, appliedAt: Date())
        return Self.content(SyncTransform(index: index).document(for: item, stamp: stamp))
    }
}
