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

        func batch(_ range: Range<Int>, batchSize: Int?) -> FailedBatch {
            FailedBatch(
                shardID: shardID, startSequenceNumber: sequences[range.lowerBound],
                endSequenceNumber: sequences[range.upperBound - 1], batchSize: batchSize, streamARN: streamARN)
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
        let read = try await stream.reader.read(stream.batch(10..<20, batchSize: 10))
        guard case .records(let records) = read else { Issue.record("expected records, got \(read)"); return }
        #expect(records.map(\.dynamodb.sequenceNumber) == Array(stream.sequences[10..<20]))
        #expect(stream.getRecordsLimits == ["10"])
    }

    @Test("a batchSize smaller than the range still reads every record of it, a page at a time")
    func understatedBatchSizeReadsTheWholeRange() async throws {
        let stream = try await Stream.start()
        let read = try await stream.reader.read(stream.batch(5..<15, batchSize: 3))
        guard case .records(let records) = read else { Issue.record("expected records, got \(read)"); return }
        #expect(records.map(\.dynamodb.sequenceNumber) == Array(stream.sequences[5..<15]))
        #expect(stream.getRecordsLimits == ["3", "3", "3", "3"])
    }

    @Test("without a batchSize, pages are as large as the service allows, and the records past the end are dropped")
    func missingBatchSizeAsksForTheMaximum() async throws {
        let stream = try await Stream.start()
        let read = try await stream.reader.read(stream.batch(0..<10, batchSize: nil))
        guard case .records(let records) = read else { Issue.record("expected records, got \(read)"); return }
        #expect(records.map(\.dynamodb.sequenceNumber) == Array(stream.sequences[0..<10]))
        #expect(stream.getRecordsLimits == ["1000"])
    }
}
