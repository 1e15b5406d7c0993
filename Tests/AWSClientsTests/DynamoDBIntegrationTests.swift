import AWSClients
import Foundation
import StreamModel
import TestSupport
import Testing

@Suite("DynamoDB, DynamoDB Streams and Secrets Manager against moto")
struct DynamoDBIntegrationTests {
    static let key: Item = ["PK": .string("ARTIST#42"), "SK": .string("METADATA")]

    /// Every attribute type, with a number whose text a Double would change.
    static let inserted: Item = key.merging([
        "name": .string("Ink & Iron"),
        "rating": .number("12345678901234567890.123"),
        "tags": .stringSet(["blackwork", "fineline"]),
        "sizes": .numberSet(["1", "2.5"]),
        "logo": .binary(Data([0, 1, 2, 255])),
        "address": .map(["city": .string("Leeds"), "geo": .list([.number("53.8"), .number("-1.55")])]),
        "verified": .bool(false),
        "closedOn": .null,
    ]) { $1 }

    static let modified: Item = inserted.merging(["name": .string("Ink & Iron Studio"), "verified": .bool(true)]) { $1 }

    @Test("BatchGetItem reads 250 items in concurrent calls of 100 keys, matches each to its key, and leaves missing keys out")
    func batchGetItem() async throws {
        let configuration = try await SharedMoto.configuration()
        let table = AWSFixtures.uniqueName("artists")
        _ = try await AWSFixtures.createTableWithStream(named: table, configuration: configuration)
        let dynamoDB = DynamoDBClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        func key(_ id: Int) -> Item { ["PK": .string("ARTIST#\(id)"), "SK": .string("METADATA")] }
        for id in 0..<250 {
            try await dynamoDB.putItem(tableName: table, item: key(id).merging(["name": .string("Artist \(id)")]) { $1 })
        }
        let keys = (0..<260).map(key) + [key(3), key(7)]
        let found = try await dynamoDB.batchGetItem(tableName: table, keys: keys, keyNames: ["PK", "SK"])
        #expect(found.count == 250)
        for id in 0..<250 { #expect(found[key(id)]?["name"] == .string("Artist \(id)")) }
        for id in 250..<260 { #expect(found[key(id)] == nil) }
    }

    @Test("INSERT, MODIFY and REMOVE come back from the stream with images and ordered sequence numbers")
    func streamReads() async throws {
        let configuration = try await SharedMoto.configuration()
        let table = AWSFixtures.uniqueName("artists")
        let streamARN = try await AWSFixtures.createTableWithStream(named: table, configuration: configuration)
        let dynamoDB = DynamoDBClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        let streams = DynamoDBStreamsClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        #expect(try await dynamoDB.latestStreamARN(tableName: table) == streamARN)

        try await dynamoDB.putItem(tableName: table, item: Self.inserted)
        try await dynamoDB.putItem(tableName: table, item: Self.modified)
        try await dynamoDB.deleteItem(tableName: table, key: Self.key)

        let shards = try await streams.describeStream(streamARN: streamARN)
        let shard = try #require(shards.first)
        #expect(shards.count == 1)
        #expect(shard.startingSequenceNumber != nil)

        let iterator = try await streams.getShardIterator(streamARN: streamARN, shardID: shard.shardID, type: .trimHorizon)
        let page = try await streams.getRecords(shardIterator: iterator)
        #expect(page.nextShardIterator != nil)
        let records = page.records
        try #require(records.count == 3)
        #expect(records.map(\.eventName) == [.insert, .modify, .remove])
        #expect(records.allSatisfy { $0.dynamodb.keys == Self.key })
        #expect(records.allSatisfy { $0.eventSource == "aws:dynamodb" && $0.eventID != nil })
        #expect(records[0].dynamodb.oldImage == nil)
        #expect(records[0].dynamodb.newImage == Self.inserted)
        #expect(records[1].dynamodb.oldImage == Self.inserted)
        #expect(records[1].dynamodb.newImage == Self.modified)
        #expect(records[2].dynamodb.oldImage == Self.modified)
        #expect(records[2].dynamodb.newImage == nil)
        #expect(records[0].dynamodb.newImage?["rating"] == .number("12345678901234567890.123"))
        let sequences = records.map(\.dynamodb.sequenceNumber)
        #expect(sequences == sequences.sorted())
        #expect(Set(sequences).count == 3)

        let atSecond = try await streams.getShardIterator(
            streamARN: streamARN, shardID: shard.shardID, type: .atSequenceNumber, sequenceNumber: sequences[1])
        #expect(
            try await streams.getRecords(shardIterator: atSecond).records.map(\.dynamodb.sequenceNumber) == [
                sequences[1], sequences[2],
            ])
        let afterSecond = try await streams.getShardIterator(
            streamARN: streamARN, shardID: shard.shardID, type: .afterSequenceNumber, sequenceNumber: sequences[1])
        #expect(try await streams.getRecords(shardIterator: afterSecond).records.map(\.eventName) == [.remove])

        // Paging one record at a time through NextShardIterator reads the same records.
        var paged: [StreamRecord] = []
        var next: String? = try await streams.getShardIterator(streamARN: streamARN, shardID: shard.shardID, type: .trimHorizon)
        while let current = next, paged.count < 10 {
            let onePage = try await streams.getRecords(shardIterator: current, limit: 1)
            #expect(onePage.records.count <= 1)
            if onePage.records.isEmpty { break }
            paged += onePage.records
            next = onePage.nextShardIterator
        }
        #expect(paged == records)

        let latest = try await streams.getShardIterator(streamARN: streamARN, shardID: shard.shardID, type: .latest)
        #expect(try await streams.getRecords(shardIterator: latest).records.isEmpty)
    }

    @Test("AT_SEQUENCE_NUMBER without a sequence number is refused before any call")
    func iteratorNeedsSequence() async throws {
        let configuration = try await SharedMoto.configuration()
        let streams = DynamoDBStreamsClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        let error = await #expect(throws: AWSError.self) {
            try await streams.getShardIterator(streamARN: "arn", shardID: "shard", type: .afterSequenceNumber)
        }
        #expect(error?.code == .clientError)
        #expect(error?.message == "AFTER_SEQUENCE_NUMBER needs a sequence number")
    }

    @Test("a bad shard iterator or shard is a typed error after the retries; a missing stream is resourceNotFound")
    func streamFailures() async throws {
        let configuration = try await SharedMoto.configuration()
        let streams = DynamoDBStreamsClient(
            configuration: configuration, retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)),
            logger: AWSFixtures.quietLogger)
        let streamARN = try await AWSFixtures.createTableWithStream(
            named: AWSFixtures.uniqueName("failures"), configuration: configuration)

        // moto does not validate iterators or shard ids: it fails with HTTP 500 (AWS answers 400
        // ValidationException / ResourceNotFoundException, whose decoding AWSErrorTests covers).
        let badIterator = await #expect(throws: AWSError.self) {
            try await streams.getRecords(shardIterator: "not-an-iterator")
        }
        #expect(badIterator?.code == .serverError)
        #expect(badIterator?.statusCode == 500)
        #expect(badIterator?.service == "DynamoDBStreams")
        #expect(badIterator?.operation == "GetRecords")

        let missingShard = await #expect(throws: AWSError.self) {
            try await streams.getShardIterator(
                streamARN: streamARN, shardID: "shardId-00000000000000000000-nothere", type: .trimHorizon)
        }
        #expect(missingShard?.code == .serverError)

        let missingStream = await #expect(throws: AWSError.self) {
            try await streams.describeStream(streamARN: streamARN.replacingOccurrences(of: "failures-", with: "absent-"))
        }
        #expect(missingStream?.code == .resourceNotFound)
        #expect(missingStream?.type == "ResourceNotFoundException")
        #expect(missingStream?.isRetryable == false)
    }

    @Test("GetItem reads the latest write consistently, and nil once deleted")
    func consistentGetItem() async throws {
        let configuration = try await SharedMoto.configuration()
        let table = AWSFixtures.uniqueName("items")
        _ = try await AWSFixtures.createTableWithStream(named: table, configuration: configuration)
        let dynamoDB = DynamoDBClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        #expect(try await dynamoDB.getItem(tableName: table, key: Self.key) == nil)
        try await dynamoDB.putItem(tableName: table, item: Self.inserted)
        #expect(try await dynamoDB.getItem(tableName: table, key: Self.key) == Self.inserted)
        try await dynamoDB.putItem(tableName: table, item: Self.modified)
        #expect(try await dynamoDB.getItem(tableName: table, key: Self.key, consistentRead: true) == Self.modified)
        try await dynamoDB.deleteItem(tableName: table, key: Self.key)
        #expect(try await dynamoDB.getItem(tableName: table, key: Self.key) == nil)
    }

    @Test("a missing table is resourceNotFound")
    func missingTable() async throws {
        let configuration = try await SharedMoto.configuration()
        let dynamoDB = DynamoDBClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        let error = await #expect(throws: AWSError.self) {
            try await dynamoDB.latestStreamARN(tableName: AWSFixtures.uniqueName("no-table"))
        }
        #expect(error?.code == .resourceNotFound)
        #expect(error?.type == "ResourceNotFoundException")
    }

    @Test("Secrets Manager returns the secret string; a missing secret is resourceNotFound")
    func secretValue() async throws {
        let configuration = try await SharedMoto.configuration()
        let secrets = SecretsManagerClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        let value = #"{"username":"admin","password":"p@ss \"quoted\" ✓"}"#
        let arn = try await AWSFixtures.createSecret(
            named: AWSFixtures.uniqueName("opensearch"), value: value, configuration: configuration)
        #expect(try await secrets.getSecretString(secretID: arn) == value)

        let error = await #expect(throws: AWSError.self) {
            try await secrets.getSecretString(secretID: AWSFixtures.uniqueName("no-secret"))
        }
        #expect(error?.code == .resourceNotFound)
        #expect(error?.service == "SecretsManager")
    }
}
