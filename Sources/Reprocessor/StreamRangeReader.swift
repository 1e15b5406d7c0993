import AWSClients
import Logging
import StreamModel

/// Reads the records of a failed batch back from its DynamoDB stream.
///
/// A format-A DLQ message names a shard and a sequence-number range; the
/// records themselves must be fetched before the stream's 24-hour retention
/// trims them (DESIGN §2).
public struct StreamRangeReader: Sendable {
    /// What reading a range gave.
    public enum RangeRead: Sendable, Hashable {
        /// The records from start to end, in sequence order.
        case records([StreamRecord])
        /// The records are gone; the reason says why (trimmed, missing shard, expired iterators).
        case expired(reason: String)
    }

    let client: DynamoDBStreamsClient
    let logger: Logger
    /// Empty pages in a row after which an open shard is taken to hold nothing more of the range.
    let emptyPageLimit = 3
    /// New iterators asked for after `ExpiredIteratorException` before giving up.
    let iteratorRenewals = 5

    /// Creates a reader.
    /// - Parameters:
    ///   - client: The DynamoDB Streams client.
    ///   - logger: The logger.
    public init(client: DynamoDBStreamsClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Reads the records of `batch`: `GetShardIterator` at the start sequence
    /// number, then `GetRecords` until a record passes the end.
    ///
    /// Each `GetRecords` asks for the batch's `batchSize` records (the whole batch when
    /// the size is right), not the 1,000 the service allows: a batch is ten records or so,
    /// and the records after it are of no use here but cost the stream, the network and
    /// the parser up to a megabyte a message. A wrong or missing size only costs more pages.
    ///
    /// - Parameter batch: The failed batch's info.
    /// - Returns: The records, or ``RangeRead/expired(reason:)`` when the stream no longer has them.
    /// - Throws: `AWSError` for failures that may pass (throttling after retries, connection errors):
    ///   the message then stays on the queue and is tried again.
    public func read(_ batch: FailedBatch) async throws -> RangeRead {
        var records: [StreamRecord] = []
        var lastRead: SequenceNumber?
        var renewals = 0
        var emptyPages = 0
        do {
            var iterator: String? = try await client.getShardIterator(
                streamARN: batch.streamARN, shardID: batch.shardID, type: .atSequenceNumber,
                sequenceNumber: batch.startSequenceNumber)
            while let current = iterator {
                let page: (records: [StreamRecord], nextShardIterator: String?)
                do {
                    page = try await client.getRecords(shardIterator: current, limit: Self.pageLimit(for: batch))
                } catch {
                    guard error.code == .expiredIterator, renewals < iteratorRenewals else { throw error }
                    renewals += 1
                    logger.debug("shard iterator expired; renewing", metadata: ["shard": "\(batch.shardID)"])
                    iterator = try await client.getShardIterator(
                        streamARN: batch.streamARN, shardID: batch.shardID,
                        type: lastRead == nil ? .atSequenceNumber : .afterSequenceNumber,
                        sequenceNumber: lastRead ?? batch.startSequenceNumber)
                    continue
                }
                var passedEnd = false
                for record in page.records {
                    let sequence = record.dynamodb.sequenceNumber
                    lastRead = sequence
                    if sequence > batch.endSequenceNumber {
                        passedEnd = true
                        break
                    }
                    if sequence >= batch.startSequenceNumber { records.append(record) }
                }
                if passedEnd || lastRead == batch.endSequenceNumber { break }
                emptyPages = page.records.isEmpty ? emptyPages + 1 : 0
                if emptyPages >= emptyPageLimit { break }
                iterator = page.nextShardIterator
            }
        } catch let error as AWSError {
            switch error.code {
            case .trimmedDataAccess:
                return .expired(reason: "records trimmed from the stream (TrimmedDataAccessException)")
            case .resourceNotFound:
                return .expired(reason: "stream or shard not found (ResourceNotFoundException): \(error.message)")
            case .expiredIterator:
                return .expired(reason: "shard iterator kept expiring after \(renewals) renewals")
            default:
                throw error
            }
        }
        if records.isEmpty {
            return .expired(
                reason:
                    "no records between \(batch.startSequenceNumber) and \(batch.endSequenceNumber) left in shard \(batch.shardID)"
            )
        }
        return .records(records)
    }

    /// Records asked for per `GetRecords`: the batch's size, within what the service allows.
    static func pageLimit(for batch: FailedBatch) -> Int {
        min(max(batch.batchSize ?? DynamoDBStreamsClient.maxRecordsPerCall, 1), DynamoDBStreamsClient.maxRecordsPerCall)
    }
}
