import Foundation
import Testing

@testable import AWSClients

@Suite("AWS error decoding and retry classification")
struct AWSErrorTests {
    private func decode(
        _ status: Int, _ body: String, headers: [(String, String)] = [("x-amzn-RequestId", "req-1")]
    ) -> AWSError {
        AWSJSONClient.decodeError(
            service: "SQS", operation: "ReceiveMessage", statusCode: status, headers: headers, body: Array(body.utf8))
    }

    @Test("SQS JSON: __type namespace stripped, message and request id kept")
    func sqsQueueDoesNotExist() {
        let error = decode(
            400, #"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#)
        #expect(error.code == .queueDoesNotExist)
        #expect(error.type == "QueueDoesNotExist")
        #expect(error.message == "The specified queue does not exist.")
        #expect(error.requestID == "req-1")
        #expect(error.statusCode == 400)
        #expect(!error.isRetryable)
        #expect(
            error.description
                == "SQS ReceiveMessage failed (queueDoesNotExist, HTTP 400 QueueDoesNotExist): The specified queue does not exist. [request id req-1]"
        )
    }

    @Test("SQS legacy query error header maps a generic type to queueDoesNotExist")
    func sqsQueryErrorHeader() {
        let error = decode(
            400, #"{"__type":"com.amazonaws.sqs#SomethingNew","message":"gone"}"#,
            headers: [("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender")])
        #expect(error.code == .queueDoesNotExist)
        #expect(decode(400, #"{"__type":"AWS.SimpleQueueService.NonExistentQueue","message":"x"}"#).code == .queueDoesNotExist)
    }

    @Test(
        "throttling types are throttling and retryable",
        arguments: [
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "ThrottlingException",
            "com.amazon.coral.availability#ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
            "com.amazonaws.sqs#RequestThrottled",
        ])
    func throttling(type: String) {
        let error = decode(400, #"{"__type":"\#(type)","Message":"slow down"}"#)
        #expect(error.code == .throttling)
        #expect(error.message == "slow down")
        #expect(error.isRetryable)
    }

    @Test("DynamoDB Streams errors get distinct codes")
    func streamsErrors() {
        let prefix = "com.amazonaws.dynamodb.v20120810#"
        #expect(decode(400, #"{"__type":"\#(prefix)TrimmedDataAccessException","message":"m"}"#).code == .trimmedDataAccess)
        #expect(decode(400, #"{"__type":"\#(prefix)ExpiredIteratorException","message":"m"}"#).code == .expiredIterator)
        #expect(decode(400, #"{"__type":"\#(prefix)ResourceNotFoundException","message":"m"}"#).code == .resourceNotFound)
        for code in [AWSError.Code.trimmedDataAccess, .expiredIterator, .resourceNotFound] {
            #expect(!AWSError(code: code, service: "s", operation: "o", message: "m").isRetryable)
        }
    }

    @Test("5xx is a retryable server error, whatever the body")
    func serverErrors() {
        let html = decode(503, "<html><body>Service Unavailable</body></html>", headers: [])
        #expect(html.code == .serverError)
        #expect(html.isRetryable)
        #expect(html.message == "HTTP 503")
        let internalFailure = decode(500, #"{"__type":"InternalFailure","message":"oops"}"#)
        #expect(internalFailure.code == .serverError)
        #expect(internalFailure.type == "InternalFailure")
    }

    @Test("429 without a known type is throttling")
    func tooManyRequestsStatus() {
        #expect(decode(429, "", headers: []).code == .throttling)
    }

    @Test("XML SignatureDoesNotMatch keeps only the first line of the message (no canonical request)")
    func signatureMismatchXML() {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.
            The Canonical String for this request should have been
            'POST
            /
            x-amz-security-token:SECRET-TOKEN'</Message></Error><RequestId>xml-req</RequestId></ErrorResponse>
            """
        let error = decode(403, body, headers: [])
        #expect(error.code == .signatureDoesNotMatch)
        #expect(error.type == "SignatureDoesNotMatch")
        #expect(error.message == "The request signature we calculated does not match the signature you provided.")
        #expect(error.requestID == "xml-req")
        #expect(!error.description.contains("SECRET-TOKEN"))
        #expect(!error.description.contains("\n"))
        #expect(!error.isRetryable)
    }

    @Test("JSON InvalidSignatureException is signatureDoesNotMatch")
    func invalidSignatureJSON() {
        #expect(
            decode(400, #"{"__type":"com.amazon.coral.service#InvalidSignatureException","message":"bad"}"#).code
                == .signatureDoesNotMatch)
    }

    @Test("other 4xx are client errors and never retried")
    func clientErrors() {
        let validation = decode(
            400, #"{"__type":"com.amazon.coral.validate#ValidationException","message":"1 validation error"}"#)
        #expect(validation.code == .clientError)
        #expect(validation.type == "ValidationException")
        #expect(!validation.isRetryable)
        let forbidden = decode(
            403,
            "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></Errors></ErrorResponse>",
            headers: [])
        #expect(forbidden.code == .clientError)
        #expect(forbidden.type == "InvalidClientTokenId")
    }

    @Test("the x-amzn-ErrorType header names the type when the body does not")
    func errorTypeHeader() {
        let error = decode(
            400, "", headers: [("X-Amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/coral/")])
        #expect(error.code == .resourceNotFound)
        #expect(error.type == "ResourceNotFoundException")
    }

    @Test("retryable exactly for throttling, 5xx, connection and timeout")
    func retryClassification() {
        let retryable: [AWSError.Code] = [.throttling, .serverError, .connection, .timeout]
        let final: [AWSError.Code] = [
            .clientError, .signatureDoesNotMatch, .trimmedDataAccess, .expiredIterator, .resourceNotFound,
            .queueDoesNotExist, .invalidResponse, .configuration, .cancelled,
        ]
        for code in retryable {
            #expect(AWSError(code: code, service: "SQS", operation: "ReceiveMessage", message: "m").isRetryable, "\(code)")
        }
        for code in final {
            #expect(!AWSError(code: code, service: "SQS", operation: "ReceiveMessage", message: "m").isRetryable, "\(code)")
        }
    }

    @Test("messages are cut to one bounded line")
    func messageBounded() {
        let error = AWSError(code: .clientError, service: "S", operation: "O", message: "  first line  \nsecond")
        #expect(error.message == "first line")
        let long = AWSError(code: .clientError, service: "S", operation: "O", message: String(repeating: "x", count: 2000))
        #expect(long.message.count == 501)
    }

    @Test("type names: namespace and URL suffix removed")
    func typeNames() {
        #expect(AWSJSONClient.errorTypeName("com.amazonaws.sqs#QueueDoesNotExist") == "QueueDoesNotExist")
        #expect(AWSJSONClient.errorTypeName("ThrottlingException:http://internal.amazon.com/") == "ThrottlingException")
        #expect(
            AWSJSONClient.errorTypeName("AWS.SimpleQueueService.NonExistentQueue") == "AWS.SimpleQueueService.NonExistentQueue")
    }
}
