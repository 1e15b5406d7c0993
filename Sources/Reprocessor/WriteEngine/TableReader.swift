import AWSClients
import StreamModel

/// Reads the table's current items with consistent reads.
public struct TableReader: Sendable {
    let client: DynamoDBClient
    /// The table.
    public let tableName: String

    /// Creates a reader.
    /// - Parameters:
    ///   - client: The DynamoDB client.
    ///   - tableName: The table.
    public init(client: DynamoDBClient, tableName: String) {
        self.client = client
        self.tableName = tableName
    }

    /// The items with `keys` as they are now (one consistent `BatchGetItem` per 100 keys); a key
    /// whose item is gone is absent from the result.
    /// - Throws: `AWSError`.
    public func currentItems(keys: [Item]) async throws -> [Item: Item] {
        guard !keys.isEmpty else { return [:] }
        let keyNames = Array(Set(keys.flatMap(\.keys)))
        return try await client.batchGetItem(tableName: tableName, keys: keys, keyNames: keyNames, consistentRead: true)
    }
}
