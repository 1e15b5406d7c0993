import AWSClients
import Foundation
import StreamModel
import TestSupport
import Testing

/// Retries through a FaultProxy in front of moto: moto cannot throttle or fail
/// on demand, so the proxy answers the chosen calls and forwards the rest.
@Suite("AWS retries through a fault proxy")
struct RetryIntegrationTests {
    static let fastRetries = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
    static let amzJSON = ["content-type": "application/x-amz-json-1.0"]

    /// A proxy in front of the shared moto and a configuration pointing at it.
    private func proxied() async throws -> (FaultProxy, AWSConfiguration) {
        let direct = try await SharedMoto.configuration()
        let proxy = try await FaultProxy.start(upstream: try #require(direct.endpointOverride))
        return (proxy, AWSFixtures.configuration(motoURL: proxy.url))
    }

    private func calls(_ proxy: FaultProxy, _ target: String) -> [FaultProxy.RecordedRequest] {
        proxy.requests.filter { $0.header("x-amz-target") == target }
    }

    @Test("SQS throttling is retried until the call goes through, each try signed afresh")
    func throttlingRetried() async throws {
        let (proxy, configuration) = try await proxied()
        defer { proxy.stop() }
        let name = AWSFixtures.uniqueName("throttled")
        let queueURL = try await AWSFixtures.createQueue(named: name, configuration: configuration)
        proxy.fail(
            amzTarget: "AmazonSQS.GetQueueUrl", times: 2, status: 400,
            body: FaultProxy.awsJSONErrorBody(type: "com.amazonaws.sqs#ThrottlingException", message: "Rate exceeded"),
            headers: Self.amzJSON)
        let sqs = SQSClient(configuration: configuration, retryPolicy: Self.fastRetries, logger: AWSFixtures.quietLogger)
        #expect(try await sqs.getQueueURL(name: name) == queueURL)
        let tries = calls(proxy, "AmazonSQS.GetQueueUrl")
        #expect(tries.map(\.injectedStatus) == [400, 400, nil])
        #expect(tries.allSatisfy { $0.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=testing/") == true })
        #expect(tries.allSatisfy { $0.bodyText == tries[0].bodyText })
    }

    @Test("DynamoDB 503 and ProvisionedThroughputExceeded are retried")
    func serverErrorAndCapacityRetried() async throws {
        let (proxy, configuration) = try await proxied()
        defer { proxy.stop() }
        let table = AWSFixtures.uniqueName("retried")
        _ = try await AWSFixtures.createTableWithStream(named: table, configuration: configuration)
        let dynamoDB = DynamoDBClient(
            configuration: configuration, retryPolicy: Self.fastRetries, logger: AWSFixtures.quietLogger)
        let item: Item = ["PK": .string("ARTIST#7"), "SK": .string("METADATA"), "name": .string("Seven")]

        proxy.fail(
            amzTarget: "DynamoDB_20120810.PutItem", times: 1, status: 400,
            body: FaultProxy.awsJSONErrorBody(
                type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", message: "slow down"),
            headers: Self.amzJSON)
        try await dynamoDB.putItem(tableName: table, item: item)
        #expect(calls(proxy, "DynamoDB_20120810.PutItem").map(\.injectedStatus) == [400, nil])

        proxy.fail(amzTarget: "DynamoDB_20120810.GetItem", times: 2, status: 503, body: "<html>unavailable</html>")
        #expect(try await dynamoDB.getItem(tableName: table, key: ["PK": item["PK"]!, "SK": item["SK"]!]) == item)
        #expect(calls(proxy, "DynamoDB_20120810.GetItem").map(\.injectedStatus) == [503, 503, nil])
    }

    @Test("a bare 429 is throttling and retried")
    func tooManyRequestsRetried() async throws {
        let (proxy, configuration) = try await proxied()
        defer { proxy.stop() }
        let arn = try await AWSFixtures.createSecret(
            named: AWSFixtures.uniqueName("retried-secret"), value: "v", configuration: configuration)
        proxy.fail(amzTarget: "secretsmanager.GetSecretValue", times: 1, status: 429, body: "")
        let secrets = SecretsManagerClient(
            configuration: configuration, retryPolicy: Self.fastRetries, logger: AWSFixtures.quietLogger)
        #expect(try await secrets.getSecretString(secretID: arn) == "v")
        #expect(calls(proxy, "secretsmanager.GetSecretValue").map(\.injectedStatus) == [429, nil])
    }

    @Test("retries stop at maxAttempts with the last error")
    func retriesExhausted() async throws {
        let (proxy, configuration) = try await proxied()
        defer { proxy.stop() }
        let queueURL = try await AWSFixtures.createQueue(named: AWSFixtures.uniqueName("exhausted"), configuration: configuration)
        proxy.fail(
            amzTarget: "AmazonSQS.ReceiveMessage", status: 500,
            body: FaultProxy.awsJSONErrorBody(type: "InternalError", message: "We encountered an internal error."),
            headers: Self.amzJSON.merging(["x-amzn-RequestId": "proxy-request"]) { $1 })
        let sqs = SQSClient(configuration: configuration, retryPolicy: Self.fastRetries, logger: AWSFixtures.quietLogger)
        let error = await #expect(throws: AWSError.self) {
            try await sqs.receiveMessages(queueURL: queueURL, maxMessages: 10, waitTimeSeconds: 0)
        }
        #expect(error?.code == .serverError)
        #expect(error?.statusCode == 500)
        #expect(error?.type == "InternalError")
        #expect(error?.requestID == "proxy-request")
        #expect(calls(proxy, "AmazonSQS.ReceiveMessage").count == Self.fastRetries.maxAttempts)
    }

    @Test("a client error is never retried")
    func clientErrorNotRetried() async throws {
        let (proxy, configuration) = try await proxied()
        defer { proxy.stop() }
        let queueURL = try await AWSFixtures.createQueue(
            named: AWSFixtures.uniqueName("client-error"), configuration: configuration)
        proxy.fail(
            amzTarget: "AmazonSQS.ChangeMessageVisibility", times: 3, status: 400,
            body: FaultProxy.awsJSONErrorBody(type: "com.amazonaws.sqs#InvalidParameterValue", message: "bad value"),
            headers: Self.amzJSON)
        let sqs = SQSClient(configuration: configuration, retryPolicy: Self.fastRetries, logger: AWSFixtures.quietLogger)
        let error = await #expect(throws: AWSError.self) {
            try await sqs.changeMessageVisibility(queueURL: queueURL, receiptHandle: "handle", timeoutSeconds: 5)
        }
        #expect(error?.code == .clientError)
        #expect(error?.type == "InvalidParameterValue")
        #expect(calls(proxy, "AmazonSQS.ChangeMessageVisibility").count == 1)
    }

    @Test("a missing queue and a signature mismatch are not retried either")
    func finalErrorsNotRetried() async throws {
        let (proxy, configuration) = try await proxied()
        defer { proxy.stop() }
        let sqs = SQSClient(configuration: configuration, retryPolicy: Self.fastRetries, logger: AWSFixtures.quietLogger)
        let missing = await #expect(throws: AWSError.self) {
            try await sqs.getQueueURL(name: AWSFixtures.uniqueName("missing"))
        }
        #expect(missing?.code == .queueDoesNotExist)
        #expect(calls(proxy, "AmazonSQS.GetQueueUrl").count == 1)

        proxy.fail(
            amzTarget: "AmazonSQS.GetQueueAttributes", times: 3, status: 403,
            body: "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error></ErrorResponse>")
        let refused = await #expect(throws: AWSError.self) {
            try await sqs.approximateMessageCounts(queueURL: "http://127.0.0.1/123456789012/any")
        }
        #expect(refused?.code == .signatureDoesNotMatch)
        #expect(calls(proxy, "AmazonSQS.GetQueueAttributes").count == 1)
    }
}
