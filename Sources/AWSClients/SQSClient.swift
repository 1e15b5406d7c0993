import AsyncHTTPClient
import Foundation
import Logging
import StreamModel

/// A message received from SQS.
public struct SQSMessage: Sendable, Hashable {
    /// The SQS message id.
    public var messageID: String
    /// The handle that deletes the message or changes its visibility.
    public var receiptHandle: String
    /// The body exactly as sent.
    public var body: String
    /// System attributes (`ApproximateReceiveCount`, `SentTimestamp`, …).
    public var attributes: [String: String]
    /// The `StringValue` of each String or Number message attribute (such as `correlationId`).
    public var messageAttributes: [String: String]
    /// `ApproximateReceiveCount`, 1 if absent.
    public var receiveCount: Int
    /// `SentTimestamp` (epoch milliseconds) as a date.
    public var sentAt: Date?

    /// Creates a message.
    public init(
        messageID: String, receiptHandle: String, body: String, attributes: [String: String] = [:],
        messageAttributes: [String: String] = [:], receiveCount: Int = 1, sentAt: Date? = nil
    ) {
        self.messageID = messageID
        self.receiptHandle = receiptHandle
        self.body = body
        self.attributes = attributes
        self.messageAttributes = messageAttributes
        self.receiveCount = receiveCount
        self.sentAt = sentAt
    }
}

/// One entry of a batch call that SQS refused.
public struct BatchEntryFailure: Sendable, Hashable {
    /// The entry id the caller chose.
    public var id: String
    /// SQS's error code, such as `ReceiptHandleIsInvalid`.
    public var code: String
    /// SQS's message.
    public var message: String?
    /// Whether the entry itself was at fault (retrying it unchanged will fail again).
    public var senderFault: Bool

    /// Creates a failure.
    public init(id: String, code: String, message: String? = nil, senderFault: Bool) {
        self.id = id
        self.code = code
        self.message = message
        self.senderFault = senderFault
    }
}

/// The outcome of a batch call: which entry ids succeeded and which failed.
public struct BatchResult: Sendable, Hashable {
    /// Ids of the entries that succeeded.
    public var successful: [String]
    /// The entries that failed, with SQS's reason.
    public var failed: [BatchEntryFailure]

    /// Creates a result.
    public init(successful: [String] = [], failed: [BatchEntryFailure] = []) {
        self.successful = successful
        self.failed = failed
    }
}

/// Amazon SQS over the JSON protocol.
public struct SQSClient: Sendable {
    /// The most entries SQS takes in one batch call; longer lists are split.
    public static let maxBatchEntries = 10
    /// The longest long poll SQS allows, in seconds.
    public static let maxWaitTimeSeconds = 20

    private let client: AWSJSONClient

    /// Creates a client.
    /// - Parameters:
    ///   - configuration: Region, credentials and endpoints.
    ///   - httpClient: The HTTP client.
    ///   - retryPolicy: How throttling, 5xx and connection failures are retried.
    ///   - logger: Where calls and retries are logged.
    ///   - requestTimeout: How long one attempt may take, on top of a long poll's wait.
    public init(
        configuration: AWSConfiguration, httpClient: HTTPClient = .shared, retryPolicy: RetryPolicy = .standard,
        logger: Logger, requestTimeout: Duration = .seconds(30)
    ) {
        client = AWSJSONClient(
            service: .sqs, configuration: configuration, httpClient: httpClient, retryPolicy: retryPolicy,
            requestTimeout: requestTimeout, logger: logger)
    }

    /// The URL of the queue named `name`.
    /// - Throws: ``AWSError`` (``AWSError/Code/queueDoesNotExist`` when there is no such queue).
    public func getQueueURL(name: String) async throws(AWSError) -> String {
        let response = try await client.call("GetQueueUrl", .object(["QueueName": .string(name)]))
        return try required(response["QueueUrl"]?.stringValue, "QueueUrl", operation: "GetQueueUrl")
    }

    /// Creates the queue (or returns the existing one with the same attributes).
    /// - Parameters:
    ///   - name: The queue name.
    ///   - attributes: Queue attributes such as `VisibilityTimeout`.
    /// - Returns: The queue URL.
    public func createQueue(name: String, attributes: [String: String] = [:]) async throws(AWSError) -> String {
        var input: [String: JSONValue] = ["QueueName": .string(name)]
        if !attributes.isEmpty { input["Attributes"] = .object(attributes.mapValues(JSONValue.string)) }
        let response = try await client.call("CreateQueue", .object(input))
        return try required(response["QueueUrl"]?.stringValue, "QueueUrl", operation: "CreateQueue")
    }

    /// Receives up to `maxMessages` messages with all system and message attributes.
    /// - Parameters:
    ///   - queueURL: The queue.
    ///   - maxMessages: Clamped to 1...10.
    ///   - waitTimeSeconds: Long-poll wait, clamped to 0...20.
    ///   - visibilityTimeout: Overrides the queue's visibility timeout for these messages.
    /// - Returns: The messages (empty when the wait ended without any).
    public func receiveMessages(
        queueURL: String, maxMessages: Int, waitTimeSeconds: Int, visibilityTimeout: Int? = nil
    ) async throws(AWSError) -> [SQSMessage] {
        let wait = min(max(waitTimeSeconds, 0), Self.maxWaitTimeSeconds)
        var input: [String: JSONValue] = [
            "QueueUrl": .string(queueURL),
            "MaxNumberOfMessages": .number(String(min(max(maxMessages, 1), Self.maxBatchEntries))),
            "WaitTimeSeconds": .number(String(wait)),
            "MessageSystemAttributeNames": .array([.string("All")]),
            "AttributeNames": .array([.string("All")]),
            "MessageAttributeNames": .array([.string("All")]),
        ]
        if let visibilityTimeout { input["VisibilityTimeout"] = .number(String(max(visibilityTimeout, 0))) }
        let response = try await client.call("ReceiveMessage", .object(input), extraTimeout: .seconds(wait))
        guard let messages = response["Messages"] else { return [] }
        guard let array = messages.arrayValue else { throw invalid("Messages is not an array", operation: "ReceiveMessage") }
        var result: [SQSMessage] = []
        for message in array {
            result.append(try Self.message(from: message, invalid: { invalid($0, operation: "ReceiveMessage") }))
        }
        return result
    }

    static func message(from json: JSONValue, invalid: (String) -> AWSError) throws(AWSError) -> SQSMessage {
        guard let messageID = json["MessageId"]?.stringValue, let receiptHandle = json["ReceiptHandle"]?.stringValue,
            let body = json["Body"]?.stringValue
        else { throw invalid("a message lacks MessageId, ReceiptHandle or Body") }
        var attributes: [String: String] = [:]
        for (name, value) in json["Attributes"]?.objectValue ?? [:] {
            if let text = value.stringValue { attributes[name] = text }
        }
        var messageAttributes: [String: String] = [:]
        for (name, value) in json["MessageAttributes"]?.objectValue ?? [:] {
            if let text = value["StringValue"]?.stringValue { messageAttributes[name] = text }
        }
        let sentAt = attributes["SentTimestamp"].flatMap(Double.init).map { Date(timeIntervalSince1970: $0 / 1000) }
        return SQSMessage(
            messageID: messageID, receiptHandle: receiptHandle, body: body, attributes: attributes,
            messageAttributes: messageAttributes, receiveCount: attributes["ApproximateReceiveCount"].flatMap { Int($0) } ?? 1,
            sentAt: sentAt)
    }

    /// Deletes messages by receipt handle, ten per call; each entry's outcome is reported.
    /// - Parameters:
    ///   - queueURL: The queue.
    ///   - entries: An id of the caller's choosing (unique per call) and the receipt handle.
    /// - Returns: Which ids were deleted and which failed (such as an invalid receipt handle).
    public func deleteMessageBatch(
        queueURL: String, entries: [(id: String, receiptHandle: String)]
    ) async throws(AWSError) -> BatchResult {
        var result = BatchResult()
        for start in stride(from: 0, to: entries.count, by: Self.maxBatchEntries) {
            let chunk = entries[start..<min(start + Self.maxBatchEntries, entries.count)]
            let input: JSONValue = .object([
                "QueueUrl": .string(queueURL),
                "Entries": .array(
                    chunk.map { .object(["Id": .string($0.id), "ReceiptHandle": .string($0.receiptHandle)]) }),
            ])
            let response = try await client.call("DeleteMessageBatch", input)
            result = try merge(result, response, operation: "DeleteMessageBatch")
        }
        return result
    }

    /// Sets how long a received message stays invisible from now.
    /// - Parameters:
    ///   - queueURL: The queue.
    ///   - receiptHandle: The handle from the receive.
    ///   - timeoutSeconds: Seconds (0 makes it visible at once).
    public func changeMessageVisibility(queueURL: String, receiptHandle: String, timeoutSeconds: Int) async throws(AWSError) {
        _ = try await client.call(
            "ChangeMessageVisibility",
            .object([
                "QueueUrl": .string(queueURL), "ReceiptHandle": .string(receiptHandle),
                "VisibilityTimeout": .number(String(max(timeoutSeconds, 0))),
            ]))
    }

    /// Sends messages, ten per call, each with String message attributes.
    /// - Parameters:
    ///   - queueURL: The queue.
    ///   - entries: An id (unique per call), the body and String attributes such as `correlationId`.
    /// - Returns: Which ids were sent and which failed.
    public func sendMessageBatch(
        queueURL: String, entries: [(id: String, body: String, attributes: [String: String])]
    ) async throws(AWSError) -> BatchResult {
        var result = BatchResult()
        for start in stride(from: 0, to: entries.count, by: Self.maxBatchEntries) {
            let chunk = entries[start..<min(start + Self.maxBatchEntries, entries.count)]
            let input: JSONValue = .object([
                "QueueUrl": .string(queueURL),
                "Entries": .array(
                    chunk.map { entry in
                        var fields: [String: JSONValue] = ["Id": .string(entry.id), "MessageBody": .string(entry.body)]
                        if !entry.attributes.isEmpty {
                            fields["MessageAttributes"] = .object(
                                entry.attributes.mapValues {
                                    .object(["DataType": .string("String"), "StringValue": .string($0)])
                                })
                        }
                        return .object(fields)
                    }),
            ])
            let response = try await client.call("SendMessageBatch", input)
            result = try merge(result, response, operation: "SendMessageBatch")
        }
        return result
    }

    /// Approximate numbers of visible and in-flight (received, not deleted) messages.
    /// - Parameter queueURL: The queue.
    public func approximateMessageCounts(queueURL: String) async throws(AWSError) -> (visible: Int, inFlight: Int) {
        let response = try await client.call(
            "GetQueueAttributes",
            .object([
                "QueueUrl": .string(queueURL),
                "AttributeNames": .array([
                    .string("ApproximateNumberOfMessages"), .string("ApproximateNumberOfMessagesNotVisible"),
                ]),
            ]))
        guard let visible = response["Attributes"]?["ApproximateNumberOfMessages"]?.stringValue.flatMap({ Int($0) }),
            let inFlight = response["Attributes"]?["ApproximateNumberOfMessagesNotVisible"]?.stringValue.flatMap({ Int($0) })
        else { throw invalid("Attributes lack the message counts", operation: "GetQueueAttributes") }
        return (visible, inFlight)
    }

    private func merge(_ result: BatchResult, _ response: JSONValue, operation: String) throws(AWSError) -> BatchResult {
        var result = result
        for entry in response["Successful"]?.arrayValue ?? [] {
            guard let id = entry["Id"]?.stringValue else { throw invalid("a Successful entry has no Id", operation: operation) }
            result.successful.append(id)
        }
        for entry in response["Failed"]?.arrayValue ?? [] {
            guard let id = entry["Id"]?.stringValue else { throw invalid("a Failed entry has no Id", operation: operation) }
            result.failed.append(
                BatchEntryFailure(
                    id: id, code: entry["Code"]?.stringValue ?? "Unknown", message: entry["Message"]?.stringValue,
                    senderFault: entry["SenderFault"]?.boolValue ?? false))
        }
        return result
    }

    private func required(_ value: String?, _ field: String, operation: String) throws(AWSError) -> String {
        guard let value else { throw invalid("response has no \(field)", operation: operation) }
        return value
    }

    private func invalid(_ message: String, operation: String) -> AWSError {
        AWSError(code: .invalidResponse, service: AWSService.sqs.displayName, operation: operation, message: message)
    }
}
