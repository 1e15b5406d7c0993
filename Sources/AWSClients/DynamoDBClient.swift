import AsyncHTTPClient
import Logging
import StreamModel

/// Amazon DynamoDB: the item reads and writes the reprocessor (and its
/// tests) need, and the table's stream ARN.
public struct DynamoDBClient: Sendable {
    private let client: AWSJSONClient
    private let retryPolicy: RetryPolicy

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
        self.retryPolicy = retryPolicy
        client = AWSJSONClient(
            service: .dynamodb, configuration: configuration, httpClient: httpClient, retryPolicy: retryPolicy,
            requestTimeout: requestTimeout, logger: logger)
    }

    /// The item with `key`, or `nil` when there is none.
    /// - Parameters:
    ///   - tableName: The table.
    ///   - key: The full primary key.
    ///   - consistentRead: Read the latest committed write (default), not an eventually consistent copy.
    public func getItem(tableName: String, key: Item, consistentRead: Bool = true) async throws(AWSError) -> Item? {
        let response = try await client.call(
            "GetItem",
            .object(["TableName": .string(tableName), "Key": key.dynamoJSON, "ConsistentRead": .bool(consistentRead)]))
        guard let item = response["Item"] else { return nil }
        do {
            return try Item(dynamoJSON: item)
        } catch {
            throw AWSError(
                code: .invalidResponse, service: AWSService.dynamodb.displayName, operation: "GetItem",
                message: "Item is not DynamoDB JSON: \(error)")
        }
    }

    /// The items with `keys`, read with `BatchGetItem` in calls of at most 100 keys, sent
    /// together; keys the service leaves unprocessed (throttling) are asked again with backoff.
    /// - Parameters:
    ///   - tableName: The table.
    ///   - keys: Full primary keys (duplicates are read once).
    ///   - keyNames: The key attribute names, used to match each returned item to its key.
    ///   - consistentRead: Read the latest committed writes (default).
    /// - Returns: The items found; keys with no item are absent from the result.
    /// - Throws: ``AWSError``, also when keys stay unprocessed after the retry policy's attempts.
    public func batchGetItem(tableName: String, keys: [Item], keyNames: [String], consistentRead: Bool = true)
        async throws(AWSError) -> [Item: Item]
    {
        var unique: [Item] = []
        var seen = Set<Item>()
        for key in keys where seen.insert(key).inserted { unique.append(key) }
        let chunks = stride(from: 0, to: unique.count, by: 100).map { Array(unique[$0..<min($0 + 100, unique.count)]) }
        do {
            return try await withThrowingTaskGroup(of: [Item: Item].self) { group in
                for chunk in chunks {
                    group.addTask {
                        try await batchGetChunk(
                            tableName: tableName, keys: chunk, keyNames: keyNames, consistentRead: consistentRead)
                    }
                }
                var found: [Item: Item] = [:]
                for try await items in group { found.merge(items) { $1 } }
                return found
            }
        } catch let error as AWSError {
            throw error
        } catch {
            throw AWSError(
                code: .connection, service: AWSService.dynamodb.displayName, operation: "BatchGetItem", message: "\(error)")
        }
    }

    /// One `BatchGetItem` call of at most 100 keys, asked again for the keys left unprocessed.
    private func batchGetChunk(tableName: String, keys: [Item], keyNames: [String], consistentRead: Bool)
        async throws(AWSError) -> [Item: Item]
    {
        var found: [Item: Item] = [:]
        var remaining = keys
        var round = 0
        while !remaining.isEmpty {
            if round > 0 {
                guard round < retryPolicy.maxAttempts else {
                    throw AWSError(
                        code: .throttling, service: AWSService.dynamodb.displayName, operation: "BatchGetItem",
                        message: "\(remaining.count) keys still unprocessed after \(round) calls")
                }
                try? await Task.sleep(for: retryPolicy.delay(afterAttempt: round - 1))
            }
            round += 1
            let response = try await client.call(
                "BatchGetItem",
                .object([
                    "RequestItems": .object([
                        tableName: .object([
                            "Keys": .array(remaining.map(\.dynamoJSON)), "ConsistentRead": .bool(consistentRead),
                        ])
                    ])
                ]))
            for itemJSON in response["Responses"]?[tableName]?.arrayValue ?? [] {
                let item: Item
                do {
                    item = try Item(dynamoJSON: itemJSON)
                } catch {
                    throw AWSError(
                        code: .invalidResponse, service: AWSService.dynamodb.displayName, operation: "BatchGetItem",
                        message: "an item is not DynamoDB JSON: \(error)")
                }
                found[item.filter { keyNames.contains($0.key) }] = item
            }
            var unprocessed: [Item] = []
            for keyJSON in response["UnprocessedKeys"]?[tableName]?["Keys"]?.arrayValue ?? [] {
                if let key = try? Item(dynamoJSON: keyJSON) { unprocessed.append(key) }
            }
            remaining = unprocessed
        }
        return found
    }

    /// One page of a (parallel) `Scan`.
    /// - Parameters:
    ///   - tableName: The table.
    ///   - segment: This worker's segment, from 0.
    ///   - totalSegments: How many segments the scan is split into (1 for a plain scan).
    ///   - exclusiveStartKey: Where the previous page of this segment stopped (`LastEvaluatedKey`); nil to start.
    ///   - limit: Items read (before filtering) in this call, at most.
    ///   - filter: A `FilterExpression` with its attribute values, applied by the service after reading.
    /// - Returns: The page: the items kept by the filter, and where to continue (nil when the segment is done).
    /// - Throws: ``AWSError``.
    public func scan(
        tableName: String, segment: Int = 0, totalSegments: Int = 1, exclusiveStartKey: Item? = nil, limit: Int? = nil,
        filter: ScanFilter? = nil
    ) async throws(AWSError) -> ScanPage {
        var body: [String: JSONValue] = [
            "TableName": .string(tableName), "Segment": .number(String(segment)),
            "TotalSegments": .number(String(max(1, totalSegments))),
        ]
        if let exclusiveStartKey { body["ExclusiveStartKey"] = exclusiveStartKey.dynamoJSON }
        if let limit { body["Limit"] = .number(String(max(1, limit))) }
        if let filter {
            body["FilterExpression"] = .string(filter.expression)
            body["ExpressionAttributeValues"] = filter.values.dynamoJSON
        }
        let response = try await client.call("Scan", .object(body))
        do {
            let items = try (response["Items"]?.arrayValue ?? []).map { try Item(dynamoJSON: $0) }
            let next = try response["LastEvaluatedKey"].map { try Item(dynamoJSON: $0) }
            return ScanPage(items: items, lastEvaluatedKey: next)
        } catch {
            throw AWSError(
                code: .invalidResponse, service: AWSService.dynamodb.displayName, operation: "Scan",
                message: "an item or LastEvaluatedKey is not DynamoDB JSON: \(error)")
        }
    }

    /// The table's approximate item count (`DescribeTable` `ItemCount`, which DynamoDB refreshes about every six
    /// hours): an estimate for progress, never a count to rely on.
    /// - Throws: ``AWSError`` (``AWSError/Code/resourceNotFound`` for a missing table).
    public func approximateItemCount(tableName: String) async throws(AWSError) -> Int? {
        let response = try await client.call("DescribeTable", .object(["TableName": .string(tableName)]))
        return response["Table"]?["ItemCount"]?.numberText.flatMap { Int($0) }
    }

    /// Writes `item`, replacing any item with the same key.
    public func putItem(tableName: String, item: Item) async throws(AWSError) {
        _ = try await client.call("PutItem", .object(["TableName": .string(tableName), "Item": item.dynamoJSON]))
    }

    /// Deletes the item with `key` (no error when there is none).
    public func deleteItem(tableName: String, key: Item) async throws(AWSError) {
        _ = try await client.call("DeleteItem", .object(["TableName": .string(tableName), "Key": key.dynamoJSON]))
    }

    /// The ARN of the table's current stream, or `nil` when streams are off (DescribeTable).
    /// - Throws: ``AWSError`` (``AWSError/Code/resourceNotFound`` for a missing table).
    public func latestStreamARN(tableName: String) async throws(AWSError) -> String? {
        let response = try await client.call("DescribeTable", .object(["TableName": .string(tableName)]))
        guard let table = response["Table"] else {
            throw AWSError(
                code: .invalidResponse, service: AWSService.dynamodb.displayName, operation: "DescribeTable",
                message: "response has no Table")
        }
        return table["LatestStreamArn"]?.stringValue
    }

    /// Creates an on-demand table keyed by `PK` (hash) and `SK` (range), both strings, with a
    /// `NEW_AND_OLD_IMAGES` stream: the shape of the synced table, for local emulators,
    /// tests and benchmarks.
    /// - Parameter tableName: The table to create.
    /// - Returns: The new stream's ARN.
    /// - Throws: ``AWSError``, also when the response names no stream.
    public func createTableWithStream(tableName: String) async throws(AWSError) -> String {
        let response = try await client.call(
            "CreateTable",
            .object([
                "TableName": .string(tableName),
                "AttributeDefinitions": .array([
                    .object(["AttributeName": .string("PK"), "AttributeType": .string("S")]),
                    .object(["AttributeName": .string("SK"), "AttributeType": .string("S")]),
                ]),
                "KeySchema": .array([
                    .object(["AttributeName": .string("PK"), "KeyType": .string("HASH")]),
                    .object(["AttributeName": .string("SK"), "KeyType": .string("RANGE")]),
                ]),
                "BillingMode": .string("PAY_PER_REQUEST"),
                "StreamSpecification": .object([
                    "StreamEnabled": .bool(true), "StreamViewType": .string("NEW_AND_OLD_IMAGES"),
                ]),
            ]))
        guard let streamARN = response["TableDescription"]?["LatestStreamArn"]?.stringValue else {
            throw AWSError(
                code: .invalidResponse, service: AWSService.dynamodb.displayName, operation: "CreateTable",
                message: "CreateTable \(tableName) returned no LatestStreamArn")
        }
        return streamARN
    }
}

/// A `Scan` filter: a `FilterExpression` and the values its placeholders name.
public struct ScanFilter: Sendable, Hashable {
    /// The expression, e.g. `begins_with(PK, :prefix) AND SK = :sort`.
    public var expression: String
    /// `ExpressionAttributeValues`, keyed by placeholder (`:prefix`).
    public var values: Item

    /// Makes a filter.
    /// - Parameters:
    ///   - expression: The `FilterExpression`.
    ///   - values: The values of its placeholders.
    public init(expression: String, values: Item) {
        self.expression = expression
        self.values = values
    }
}

/// One page of a `Scan`.
public struct ScanPage: Sendable, Hashable {
    /// The items of the page that passed the filter (possibly none, even when more follow).
    public var items: [Item]
    /// Where the next page of the segment starts; nil when the segment is done.
    public var lastEvaluatedKey: Item?

    /// Makes a page.
    public init(items: [Item], lastEvaluatedKey: Item?) {
        self.items = items
        self.lastEvaluatedKey = lastEvaluatedKey
    }
}
