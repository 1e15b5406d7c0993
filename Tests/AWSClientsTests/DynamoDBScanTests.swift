import AWSClients
import Foundation
import StreamModel
import TestSupport
import Testing

@Suite("DynamoDB Scan and DescribeTable against moto")
struct DynamoDBScanTests {
    static let artists = ScanFilter(
        expression: "begins_with(PK, :artist) AND SK = :metadata",
        values: [":artist": .string("ARTIST#"), ":metadata": .string("METADATA")])

    @Test("a parallel scan in small pages sees every artist METADATA item once, and nothing else")
    func parallelScanCoversTable() async throws {
        let configuration = try await SharedMoto.configuration()
        let table = AWSFixtures.uniqueName("scan")
        _ = try await AWSFixtures.createTableWithStream(named: table, configuration: configuration)
        let dynamoDB = DynamoDBClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        for id in 1...40 {
            try await dynamoDB.putItem(
                tableName: table,
                item: ["PK": .string("ARTIST#\(id)"), "SK": .string("METADATA"), "name": .string("artist \(id)")])
        }
        try await dynamoDB.putItem(tableName: table, item: ["PK": .string("ARTIST#1"), "SK": .string("REVIEW#1")])
        try await dynamoDB.putItem(tableName: table, item: ["PK": .string("STUDIO#1"), "SK": .string("METADATA")])

        var seen: [String] = []
        var pages = 0
        for segment in 0..<3 {
            var start: Item?
            repeat {
                let page = try await dynamoDB.scan(
                    tableName: table, segment: segment, totalSegments: 3, exclusiveStartKey: start, limit: 7,
                    filter: Self.artists)
                pages += 1
                #expect(page.items.count <= 7)
                seen += page.items.compactMap { item -> String? in
                    guard case .string(let partitionKey)? = item["PK"] else { return nil }
                    return partitionKey
                }
                start = page.lastEvaluatedKey
            } while start != nil
        }

        #expect(seen.sorted() == (1...40).map { "ARTIST#\($0)" }.sorted())
        #expect(pages > 3)
        let count = try await dynamoDB.approximateItemCount(tableName: table)
        #expect(count == 42)
    }

    @Test("a missing table is resourceNotFound for Scan and DescribeTable")
    func missingTable() async throws {
        let configuration = try await SharedMoto.configuration()
        let dynamoDB = DynamoDBClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        let name = AWSFixtures.uniqueName("no-table")
        let scanError = await #expect(throws: AWSError.self) { try await dynamoDB.scan(tableName: name) }
        let countError = await #expect(throws: AWSError.self) { try await dynamoDB.approximateItemCount(tableName: name) }
        #expect(scanError?.code == .resourceNotFound)
        #expect(countError?.code == .resourceNotFound)
    }
}
