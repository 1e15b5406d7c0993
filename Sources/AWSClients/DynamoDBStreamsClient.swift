import AsyncHTTPClient
import Foundation
import Logging
import StreamModel

/// Where a shard iterator starts reading.
public enum ShardIteratorType: String, Sendable {
    /// At the record with the given sequence number.
    case atSequenceNumber = "AT_SEQUENCE_NUMBER"
    /// Just after the record with the given sequence number.
    case afterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
    /// At the oldest record still in the shard.
    case trimHorizon = "TRIM_HORIZON"
    /// After the newest record.
    case latest = "LATEST"
}

/// A shard of a DynamoDB stream.
public struct StreamShard: Sendable, Hashable {
    /// The shard id.
    public var shardID: String
    /// The shard it split from, if any.
    public var parentShardID: String?
    /// The first sequence number in the shard.
    public var startingSequenceNumber: SequenceNumber?
    /// The last sequence number, once the shard is closed.
    public var endingSequenceNumber: SequenceNumber?

    /// Creates a shard description.
    public init(
        shardID: String, parentShardID: String? = nil, startingSequenceNumber: SequenceNumber? = nil,
        endingSequenceNumber: SequenceNumber? = nil
    ) {
        self.shardID = shardID
        self.parentShardID = parentShardID
        self.startingSequenceNumber = startingSequenceNumber
        self.endingSequenceNumber = endingSequenceNumber
    }
}

/// Amazon DynamoDB Streams: shards, iterators and records.
///
/// Records past retention fail with ``AWSError/Code/trimmedDataAccess``, an
/// iterator older than 15 minutes with ``AWSError/Code/expiredIterator``, a
/// missing stream or shard with ``AWSError/Code/resourceNotFound``.
public struct DynamoDBStreamsClient: Sendable {
    /// The most records one GetRecords call returns.
    public static let maxRecordsPerCall = 1000

    private let client: AWSJSONClient

    /// The endpoint calls go to (an override, or the region's public endpoint), for messages.
    public var endpoint: URL { client.configuration.endpoint(for: .dynamodbStreams) }

    /// Creates a client.
    /// - Parameters:
    ///   - configuration: Region, credentials and endpoints.
    ///   - httpClient: The HTTP client.
    ///   - retryPolicy: How throttling, 5xx and connection failures are retried.
    ///   - logger: Where calls and retries are logged.
    ///   - requestTimeout: How long one attempt may take.
    public init(
        configuration: AWSConfiguration, httpClient: HTTPClient = .shared, retryPolicy: RetryPolicy = .standard,
        logger: Logger, requestTimeout: Duration = .seconds(30)
    ) {
        client = AWSJSONClient(
            service: .dynamodbStreams, configuration: configuration, httpClient: httpClient,
            retryPolicy: retryPolicy, requestTimeout: requestTimeout, logger: logger)
    }

    /// Every shard of the stream, paging through DescribeStream.
    /// - Parameter streamARN: The stream.
    /// - Returns: The shards in the order the service lists them.
    public func describeStream(streamARN: String) async throws(AWSError) -> [StreamShard] {
        var shards: [StreamShard] = []
        var exclusiveStart: String?
        repeat {
            var input: [String: JSONValue] = ["StreamArn": .string(streamARN)]
            if let exclusiveStart { input["ExclusiveStartShardId"] = .string(exclusiveStart) }
            let response = try await client.call("DescribeStream", .object(input))
            guard let description = response["StreamDescription"] else {
                throw invalid("response has no StreamDescription", operation: "DescribeStream")
            }
            for shard in description["Shards"]?.arrayValue ?? [] {
                guard let shardID = shard["ShardId"]?.stringValue else {
                    throw invalid("a shard has no ShardId", operation: "DescribeStream")
                }
                let range = shard["SequenceNumberRange"]
                let starting = range?["StartingSequenceNumber"]?.stringValue.flatMap { SequenceNumber($0) }
                let ending = range?["EndingSequenceNumber"]?.stringValue.flatMap { SequenceNumber($0) }
                shards.append(
                    StreamShard(
                        shardID: shardID, parentShardID: shard["ParentShardId"]?.stringValue,
                        startingSequenceNumber: starting, endingSequenceNumber: ending))
            }
            let next = description["LastEvaluatedShardId"]?.stringValue
            if let next, next == exclusiveStart {
                throw invalid("LastEvaluatedShardId repeats \(next)", operation: "DescribeStream")
            }
            exclusiveStart = next
        } while exclusiveStart != nil
        return shards
    }

    /// A shard iterator.
    /// - Parameters:
    ///   - streamARN: The stream.
    ///   - shardID: The shard.
    ///   - type: Where to start.
    ///   - sequenceNumber: Required for `atSequenceNumber` and `afterSequenceNumber`, ignored otherwise.
    /// - Returns: The iterator, valid for 15 minutes.
    public func getShardIterator(
        streamARN: String, shardID: String, type: ShardIteratorType, sequenceNumber: SequenceNumber? = nil
    ) async throws(AWSError) -> String {
        var input: [String: JSONValue] = [
            "StreamArn": .string(streamARN), "ShardId": .string(shardID), "ShardIteratorType": .string(type.rawValue),
        ]
        switch type {
        case .atSequenceNumber, .afterSequenceNumber:
            guard let sequenceNumber else {
                throw AWSError(
                    code: .clientError, service: AWSService.dynamodbStreams.displayName, operation: "GetShardIterator",
                    message: "\(type.rawValue) needs a sequence number")
            }
            input["SequenceNumber"] = .string(sequenceNumber.digits)
        case .trimHorizon, .latest:
            break
        }
        let response = try await client.call("GetShardIterator", .object(input))
        guard let iterator = response["ShardIterator"]?.stringValue else {
            throw invalid("response has no ShardIterator", operation: "GetShardIterator")
        }
        return iterator
    }

    /// One page of records.
    /// - Parameters:
    ///   - shardIterator: From ``getShardIterator(streamARN:shardID:type:sequenceNumber:)`` or the previous page.
    ///   - limit: Clamped to 1...1000.
    /// - Returns: The records and the iterator for the next page (`nil` once a closed shard is exhausted).
    public func getRecords(shardIterator: String, limit: Int = 1000) async throws(AWSError) -> (
        records: [StreamRecord], nextShardIterator: String?
    ) {
        let response = try await client.call(
            "GetRecords",
            .object([
                "ShardIterator": .string(shardIterator),
                "Limit": .number(String(min(max(limit, 1), Self.maxRecordsPerCall))),
            ]))
        var records: [StreamRecord] = []
        for (index, json) in (response["Records"]?.arrayValue ?? []).enumerated() {
            do {
                records.append(try StreamRecord(json: json))
            } catch {
                throw invalid("record \(index) is not a stream record: \(error)", operation: "GetRecords")
            }
        }
        return (records, response["NextShardIterator"]?.stringValue)
    }

    private func invalid(_ message: String, operation: String) -> AWSError {
        AWSError(
            code: .invalidResponse, service: AWSService.dynamodbStreams.displayName, operation: operation,
            message: message)
    }
}
