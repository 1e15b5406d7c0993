import AWSClients
import Foundation
import Reprocessor
import StreamModel
import TestSupport
import Testing

/// How a failed batch's records are read back from a real stream (moto), watched through a
/// FaultProxy that only records the requests (it injects no faults here).
@Suite("StreamRangeReader against moto")
struct StreamRangeReaderTests {
    /// A table with 30 stream records, a reader whose Streams calls go through a recording proxy.
    struct Stream {
        let moto: MotoServer
        let proxy: FaultProxy
        let streamARN: String
        let shardID: String
        let sequences: [SequenceNumber]
        let reader: StreamRangeReader

        static func start() async throws -> Stream {
            let moto = try await MotoServer.start()
            let configuration = AWSFixtures.configuration(motoURL: moto.url)
            let table = AWSFixtures.uniqueName("reader")
            let streamARN = try await AWSFixtures.createTableWithStream(named: table, configuration: configuration)
            let dynamoDB = DynamoDBClient(configuration: configuration, logger: AWSFixtures.quietLogger)
            for id in 0..<30 {
                try await dynamoDB.putItem(tableName: table, item: ReprocessorWorld.artist(String(id), name: "Artist \(id)"))
            }
            let streams = DynamoDBStreamsClient(configuration: configuration, logger: AWSFixtures.quietLogger)
            let shardID = try #require(try await streams.describeStream(streamARN: streamARN).first?.shardID)
            let iterator = try await streams.getShardIterator(streamARN: streamARN, shardID: shardID, type: .trimHorizon)
            let sequences = try await streams.getRecords(shardIterator: iterator).records.map(\.dynamodb.sequenceNumber)
            #expect(sequences.count == 30)
            let proxy = try await FaultProxy.start(upstream: moto.url)
            let proxied = AWSFixtures.configuration(motoURL: proxy.url)
            let reader = StreamRangeReader(
                client: DynamoDBStreamsClient(configuration: proxied, logger: AWSFixtures.quietLogger),
                logger: AWSFixtures.quietLogger)
            return Stream(
                moto: moto, proxy: proxy, streamARN: streamARN, shardID: shardID, sequences: sequences, reader: reader)
        }

        func range(_ indices: Range<Int>, batchSize: Int?) -> StreamRangeReader.Range {
            StreamRangeReader.Range(
                streamARN: streamARN, shardID: shardID, start: sequences[indices.lowerBound],
                end: sequences[indices.upperBound - 1], lastRead: nil,
                pageLimit: StreamRangeReader.pageLimit(batchSize: batchSize))
        }

        /// Reads `range` with `reader`, resuming after each call's last page until it ends
        /// (at most `calls` calls); the pages' records and how the last call ended.
        func readAll(_ range: StreamRangeReader.Range, with reader: StreamRangeReader? = nil, calls: Int = 10)
            async throws -> (records: [StreamRecord], pages: Int, ending: StreamRangeReader.Ending)
        {
            var range = range
            var records: [StreamRecord] = []
            var pages = 0
            var ending = StreamRangeReader.Ending.budgetSpent
            for _ in 0..<calls {
                ending = try await (reader ?? self.reader).read(range) { page in
                    records += page.records
                    pages += 1
                    if let last = page.lastRead { range.lastRead = last }
                }
                if ending != .budgetSpent && ending != .caughtUp { break }
            }
            return (records, pages, ending)
        }

        /// The `Limit` of each GetRecords call the reader made.
        var getRecordsLimits: [String] {
            proxy.requests(method: "POST")
                .filter { $0.header("x-amz-target")?.hasSuffix(".GetRecords") == true }
                .map { (try? JSONValue(parsing: $0.body))?["Limit"]?.numberText ?? "none" }
        }
    }

    @Test("a batch is read with one GetRecords of its batchSize, not the 1,000 records after its start")
    func readsOnlyTheBatch() async throws {
        let stream = try await Stream.start()
        let read = try await stream.readAll(stream.range(10..<20, batchSize: 10))
        #expect(read.ending == .complete)
        #expect(read.records.map(\.dynamodb.sequenceNumber) == Array(stream.sequences[10..<20]))
        #expect(stream.getRecordsLimits == ["10"])
    }

    @Test("a batchSize smaller than the range still reads every record of it, a page at a time")
    func understatedBatchSizeReadsTheWholeRange() async throws {
        let stream = try await Stream.start()
        let read = try await stream.readAll(stream.range(5..<15, batchSize: 3))
        #expect(read.ending == .complete)
        #expect(read.records.map(\.dynamodb.sequenceNumber) == Array(stream.sequences[5..<15]))
        #expect(stream.getRecordsLimits == ["3", "3", "3", "3"])
        #expect(read.pages == 4, "each page is handed over as it comes")
    }

    @Test("without a batchSize, pages are as large as the service allows, and the records past the end are dropped")
    func missingBatchSizeAsksForTheMaximum() async throws {
        let stream = try await Stream.start()
        let read = try await stream.readAll(stream.range(0..<10, batchSize: nil))
        #expect(read.ending == .complete)
        #expect(read.records.map(\.dynamodb.sequenceNumber) == Array(stream.sequences[0..<10]))
        #expect(stream.getRecordsLimits == ["1000"])
    }

    @Test("empty pages in the middle of a range are followed, not taken as its end: the whole range is read")
    func emptyPagesInTheMiddle() async throws {
        let stream = try await Stream.start()
        // After the first page, the next six GetRecords answer an empty page whose next iterator
        // is the one asked with: the position does not move, as when the service has nothing yet.
        stream.proxy.answerEmptyStreamPages(times: 6, after: 1)
        let read = try await stream.readAll(stream.range(5..<15, batchSize: 3))
        #expect(read.ending == .complete)
        #expect(read.records.map(\.dynamodb.sequenceNumber) == Array(stream.sequences[5..<15]))
        #expect(stream.getRecordsLimits.count == 4 + 6)
    }

    @Test("more empty pages in a row than one call follows: the call stops short of complete, the next goes on")
    func emptyPagesBeyondTheBudgetResume() async throws {
        let stream = try await Stream.start()
        stream.proxy.answerEmptyStreamPages(times: 4, after: 1)
        let reader = StreamRangeReader(
            client: DynamoDBStreamsClient(
                configuration: AWSFixtures.configuration(motoURL: stream.proxy.url), logger: AWSFixtures.quietLogger),
            logger: AWSFixtures.quietLogger, emptyPageBudget: 3)
        var range = stream.range(5..<15, batchSize: 3)
        var records: [StreamRecord] = []
        let first = try await reader.read(range) { page in
            records += page.records
            if let last = page.lastRead { range.lastRead = last }
        }
        #expect(first == .caughtUp)
        #expect(records.count == 3, "the first page only")
        let rest = try await stream.readAll(range, with: reader)
        #expect(rest.ending == .complete)
        #expect((records + rest.records).map(\.dynamodb.sequenceNumber) == Array(stream.sequences[5..<15]))
    }

    @Test("a range reaching past the shard's last record is bounded per call and never complete on an open shard")
    func forgedRangeIsBounded() async throws {
        let stream = try await Stream.start()
        let start = stream.sequences[25]
        let end = AWSFixtures.sequence(start, plus: 1_000_000)
        let range = StreamRangeReader.Range(
            streamARN: stream.streamARN, shardID: stream.shardID, start: start, end: end, lastRead: nil, pageLimit: 2)
        let read = try await stream.readAll(range, calls: 1)
        #expect(read.ending == .caughtUp)
        #expect(read.records.map(\.dynamodb.sequenceNumber) == Array(stream.sequences[25..<30]))
        #expect(stream.getRecordsLimits.count <= 3 + 10, "a call reads at most its page budgets")
    }

    @Test(
        "a range expires only on proof: records trimmed, or a stream that answers without the shard; ResourceNotFoundException alone proves nothing"
    )
    func expiredAndTransient() async throws {
        let stream = try await Stream.start()
        // moto answers neither error for a range (an unknown shard is a 500 there), so the proxy does.
        let json = ["content-type": "application/x-amz-json-1.0"]
        let notFound = FaultProxy.awsJSONErrorBody(type: "ResourceNotFoundException", message: "Requested resource not found")
        // The shard's iterator is not found, but the stream (really asked) still lists the shard: no proof, try later.
        stream.proxy.fail(amzTarget: "GetShardIterator", times: 1, status: 400, body: notFound, headers: json)
        await #expect(throws: AWSError.self) { _ = try await stream.readAll(stream.range(0..<5, batchSize: 5)) }
        #expect(stream.proxy.requests().contains { $0.header("x-amz-target")?.hasSuffix("DescribeStream") == true })
        // The stream itself cannot be described (a wrong endpoint, region or account): a configuration error.
        stream.proxy.fail(amzTarget: "GetShardIterator", times: 1, status: 400, body: notFound, headers: json)
        stream.proxy.fail(amzTarget: "DescribeStream", times: 1, status: 400, body: notFound, headers: json)
        guard case .streamUnavailable(let unavailable) = try await stream.readAll(stream.range(0..<5, batchSize: 5)).ending
        else {
            Issue.record("a stream that cannot be described is a configuration error, not an expiry")
            return
        }
        #expect(unavailable.contains(stream.streamARN) && unavailable.contains(stream.proxy.url.absoluteString), "\(unavailable)")
        // The stream answers for the ARN without the range's shard: the shard was trimmed away.
        stream.proxy.fail(amzTarget: "GetShardIterator", times: 1, status: 400, body: notFound, headers: json)
        stream.proxy.fail(
            amzTarget: "DescribeStream", times: 1, status: 200,
            body: #"{"StreamDescription": {"StreamArn": "\#(stream.streamARN)", "StreamStatus": "ENABLED", "Shards": []}}"#,
            headers: json)
        guard case .expired(let gone) = try await stream.readAll(stream.range(0..<5, batchSize: 5)).ending else {
            Issue.record("a stream without the shard expires the range")
            return
        }
        #expect(gone.contains(stream.shardID), "\(gone)")
        stream.proxy.fail(
            amzTarget: "GetRecords", times: 1, status: 400,
            body: FaultProxy.awsJSONErrorBody(type: "TrimmedDataAccessException", message: "trimmed"), headers: json)
        guard case .expired(let trimmed) = try await stream.readAll(stream.range(0..<5, batchSize: 5)).ending else {
            Issue.record("trimmed records expire the range")
            return
        }
        #expect(trimmed.contains("TrimmedDataAccessException"))
        stream.proxy.fail(
            amzTarget: "GetShardIterator", times: nil, status: 400,
            body: FaultProxy.awsJSONErrorBody(type: "ThrottlingException", message: "slow down"), headers: json)
        await #expect(throws: AWSError.self) { _ = try await stream.readAll(stream.range(0..<5, batchSize: 5)) }
        stream.proxy.clearFaults()
        stream.proxy.fail(
            amzTarget: "GetShardIterator", times: nil, status: 400,
            body: FaultProxy.awsJSONErrorBody(type: "AccessDeniedException", message: "not yet"), headers: json)
        await #expect(throws: AWSError.self) { _ = try await stream.readAll(stream.range(0..<5, batchSize: 5)) }
    }
}
