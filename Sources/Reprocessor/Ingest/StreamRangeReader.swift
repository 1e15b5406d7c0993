import AWSClients
import Foundation
import Logging
import StreamModel

/// Reads the records of a failed batch back from its DynamoDB stream, a page at a time.
///
/// A format-A DLQ message names a shard and a sequence-number range; the records
/// themselves must be fetched before the stream's 24-hour retention trims them
/// (docs/design.md, "What arrives on the DLQ"). The reader follows `NextShardIterator` through empty pages (the service
/// documents them as normal) until a record at or past the end of the range is read or
/// the shard ends, and hands each page to its caller as it comes, so memory stays flat
/// whatever range a message claims. One call reads at most ``pageBudget`` pages and
/// ``emptyPageBudget`` empty pages in a row; the caller keeps the last sequence number read
/// and a later call resumes after it.
public struct StreamRangeReader: Sendable {
    /// The range to read, and where to resume.
    public struct Range: Sendable, Hashable {
        /// The stream.
        public var streamARN: String
        /// The shard.
        public var shardID: String
        /// First sequence number of the range.
        public var start: SequenceNumber
        /// Last sequence number of the range.
        public var end: SequenceNumber
        /// The last sequence number read by an earlier call (nil: start at ``start``).
        public var lastRead: SequenceNumber?
        /// Records asked for per `GetRecords` (the batch's size, see ``pageLimit(batchSize:)``).
        public var pageLimit: Int

        /// Makes a range.
        public init(
            streamARN: String, shardID: String, start: SequenceNumber, end: SequenceNumber, lastRead: SequenceNumber?,
            pageLimit: Int
        ) {
            self.streamARN = streamARN
            self.shardID = shardID
            self.start = start
            self.end = end
            self.lastRead = lastRead
            self.pageLimit = pageLimit
        }
    }

    /// One page of the range.
    public struct Page: Sendable, Hashable {
        /// The records of the page inside the range (after the resume point), in sequence order.
        public var records: [StreamRecord]
        /// The last sequence number the page read, past the range's end possibly; nil when empty.
        public var lastRead: SequenceNumber?
        /// Whether the range is now read to its end.
        public var complete: Bool
    }

    /// How a call ended, when it did not throw.
    public enum Ending: Sendable, Hashable {
        /// The whole range is read: a record at or past its end was read, or the shard ended.
        case complete
        /// The stream no longer has the records: it answered for the range's stream ARN and
        /// showed them trimmed, or no longer lists the range's shard.
        case expired(reason: String)
        /// The stream cannot be found or described at all (`ResourceNotFoundException` for the
        /// stream itself): a wrong endpoint, region, account or permissions, not proof that the
        /// records are gone. The range waits for the configuration to be fixed.
        case streamUnavailable(reason: String)
        /// ``emptyPageBudget`` empty pages in a row: the reader caught up with the shard before the range's end.
        case caughtUp
        /// ``pageBudget`` pages read; the range goes on.
        case budgetSpent
    }

    let client: DynamoDBStreamsClient
    let logger: Logger
    /// Most pages one call reads.
    let pageBudget: Int
    /// Empty pages in a row after which a call stops (the range is not taken as complete).
    let emptyPageBudget: Int
    /// New iterators asked for after `ExpiredIteratorException` in one call before giving up (the error is thrown).
    let iteratorRenewals = 5

    /// Creates a reader.
    /// - Parameters:
    ///   - client: The DynamoDB Streams client.
    ///   - logger: The logger.
    ///   - pageBudget: Most pages one call reads.
    ///   - emptyPageBudget: Empty pages in a row after which one call stops.
    public init(client: DynamoDBStreamsClient, logger: Logger, pageBudget: Int = 100, emptyPageBudget: Int = 10) {
        self.client = client
        self.logger = logger
        self.pageBudget = max(pageBudget, 1)
        self.emptyPageBudget = max(emptyPageBudget, 1)
    }

    /// Reads `range` from its resume point, handing every page with records to `onPage`
    /// before asking for the next.
    ///
    /// `GetShardIterator` is `AT_SEQUENCE_NUMBER` the start, or `AFTER_SEQUENCE_NUMBER` the last
    /// record read (also when an iterator expires on the way). Each `GetRecords` asks for
    /// ``Range/pageLimit`` records: a batch is ten records or so, and the records after it cost
    /// the stream, the network and the parser; a wrong size only costs more pages.
    /// - Parameters:
    ///   - range: What to read and where to resume.
    ///   - onPage: Stores a page; a throw stops the read (and is rethrown).
    /// - Returns: How the read ended.
    /// - Throws: `AWSError` for failures that may pass (throttling after retries, 5xx, access
    ///   denied, expired credentials, connection errors), and whatever `onPage` throws.
    public func read(_ range: Range, onPage: (Page) async throws -> Void) async throws -> Ending {
        var lastRead = range.lastRead
        var renewals = 0
        var pages = 0
        var emptyPages = 0
        do {
            var iterator: String? = try await shardIterator(range, after: lastRead)
            while let current = iterator {
                if pages >= pageBudget { return .budgetSpent }
                if emptyPages >= emptyPageBudget { return .caughtUp }
                let page: (records: [StreamRecord], nextShardIterator: String?)
                do {
                    page = try await client.getRecords(shardIterator: current, limit: range.pageLimit)
                } catch {
                    guard error.code == .expiredIterator, renewals < iteratorRenewals else { throw error }
                    renewals += 1
                    logger.debug("shard iterator expired; renewing", metadata: ["shard": "\(range.shardID)"])
                    iterator = try await shardIterator(range, after: lastRead)
                    continue
                }
                pages += 1
                emptyPages = page.records.isEmpty ? emptyPages + 1 : 0
                var inRange: [StreamRecord] = []
                var reachedEnd = page.nextShardIterator == nil
                for record in page.records {
                    let sequence = record.dynamodb.sequenceNumber
                    if let previous = lastRead, sequence <= previous { continue }
                    lastRead = sequence
                    if sequence >= range.end { reachedEnd = true }
                    if sequence > range.end { break }
                    if sequence >= range.start { inRange.append(record) }
                }
                if !page.records.isEmpty || reachedEnd {
                    try await onPage(Page(records: inRange, lastRead: lastRead, complete: reachedEnd))
                }
                if reachedEnd { return .complete }
                iterator = page.nextShardIterator
            }
            return .complete
        } catch let error as AWSError {
            switch error.code {
            case .trimmedDataAccess:
                return .expired(reason: "records trimmed from the stream (TrimmedDataAccessException)")
            case .resourceNotFound:
                return try await explainNotFound(range, lastRead: lastRead, error: error)
            default:
                throw error
            }
        }
    }

    /// Decides what a `ResourceNotFoundException` while reading `range` means, by asking the
    /// stream to describe itself: a stream that cannot be described is
    /// ``Ending/streamUnavailable(reason:)``; a stream that answers without the range's shard, or
    /// with the shard starting past the range's first record, has lost the records
    /// (``Ending/expired(reason:)``); anything else proves nothing and is thrown, to be tried later.
    private func explainNotFound(_ range: Range, lastRead: SequenceNumber?, error notFound: AWSError) async throws
        -> Ending
    {
        let shards: [StreamShard]
        do {
            shards = try await client.describeStream(streamARN: range.streamARN)
        } catch {
            guard error.code == .resourceNotFound else { throw error }
            return .streamUnavailable(
                reason:
                    "stream \(range.streamARN) cannot be found at \(client.endpoint.absoluteString) "
                    + "(ResourceNotFoundException: \(error.message)): check the endpoint, region, account and permissions"
            )
        }
        guard let shard = shards.first(where: { $0.shardID == range.shardID }) else {
            return .expired(
                reason:
                    "the stream answers but no longer has shard \(range.shardID) (trimmed past its retention; "
                    + "ResourceNotFoundException: \(notFound.message))")
        }
        if lastRead == nil, let first = shard.startingSequenceNumber, first > range.start {
            return .expired(
                reason:
                    "the stream's shard \(range.shardID) now starts at \(first.digits), after the range's first record "
                    + "\(range.start.digits): the records were trimmed")
        }
        throw notFound
    }

    /// An iterator at the start of the range, or after the last record read.
    private func shardIterator(_ range: Range, after lastRead: SequenceNumber?) async throws(AWSError) -> String {
        try await client.getShardIterator(
            streamARN: range.streamARN, shardID: range.shardID,
            type: lastRead == nil ? .atSequenceNumber : .afterSequenceNumber, sequenceNumber: lastRead ?? range.start)
    }

    /// Records asked for per `GetRecords`: the batch's size, within what the service allows.
    /// - Parameter batchSize: The batch's `batchSize`, if it says.
    /// - Returns: 1 to 1,000.
    public static func pageLimit(batchSize: Int?) -> Int {
        min(max(batchSize ?? DynamoDBStreamsClient.maxRecordsPerCall, 1), DynamoDBStreamsClient.maxRecordsPerCall)
    }
}
