import AWSClients
import StreamModel

/// Writes items into a table with `BatchWriteItem`, 25 a call, resending what the service leaves
/// unprocessed. It is the benchmark's own call: the product only reads tables.
struct TableWriter: Sendable {
    let client: AWSJSONClient
    let table: String

    /// A writer for `table`.
    init(configuration: AWSConfiguration, table: String) {
        client = AWSJSONClient(
            service: .dynamodb, configuration: configuration, httpClient: Peers.httpClient, logger: Peers.logger)
        self.table = table
    }

    /// Puts `items` in one call per 25, in order (the caller keeps keys distinct within each call).
    func put(_ items: [Item]) async throws {
        for first in stride(from: 0, to: items.count, by: 25) {
            var requests = items[first..<min(first + 25, items.count)].map { item in
                JSONValue.object(["PutRequest": .object(["Item": item.dynamoJSON])])
            }
            while !requests.isEmpty {
                let response = try await client.call(
                    "BatchWriteItem", .object(["RequestItems": .object([table: .array(requests)])]))
                requests = response["UnprocessedItems"]?[table]?.arrayValue ?? []
            }
        }
    }
}
