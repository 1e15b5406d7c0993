import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StreamModel

/// Calls one AWS service over the AWS JSON protocol: `POST /` with
/// `X-Amz-Target: <prefix>.<Operation>`, a SigV4 signature, a timeout, a
/// cap on the response size, typed errors and retries.
///
/// Bodies are ``JSONValue``s both ways, so numbers keep their exact text.
/// Throttling, 5xx, connection failures and timeouts are retried with the
/// ``RetryPolicy`` (capped exponential backoff with jitter); client errors
/// never are.
public struct AWSJSONClient: Sendable {
    /// The default cap on a response body: 16 MiB.
    public static let defaultMaxResponseBytes = 16 * 1024 * 1024

    /// The service called.
    public let service: AWSService
    /// Region, credentials and endpoints.
    public let configuration: AWSConfiguration
    /// How failed calls are retried.
    public let retryPolicy: RetryPolicy
    /// How long one attempt may take (long polls add their wait on top).
    public let requestTimeout: Duration
    /// The largest response body read; a larger one fails with ``AWSError/Code/invalidResponse``.
    public let maxResponseBytes: Int
    private let httpClient: HTTPClient
    private let logger: Logger

    /// Creates a client for a JSON-protocol service (SQS, DynamoDB, DynamoDB Streams, Secrets Manager).
    /// - Parameters:
    ///   - service: The service; IAM speaks the Query protocol and is refused at call time.
    ///   - configuration: Region, credentials and endpoints.
    ///   - httpClient: The HTTP client (the shared one by default).
    ///   - retryPolicy: How failed calls are retried.
    ///   - requestTimeout: How long one attempt may take.
    ///   - maxResponseBytes: The largest response body read.
    ///   - logger: Where calls and retries are logged (never with secrets).
    public init(
        service: AWSService, configuration: AWSConfiguration, httpClient: HTTPClient = .shared,
        retryPolicy: RetryPolicy = .standard, requestTimeout: Duration = .seconds(30),
        maxResponseBytes: Int = defaultMaxResponseBytes, logger: Logger
    ) {
        self.maxResponseBytes = maxResponseBytes
        self.service = service
        self.configuration = configuration
        self.httpClient = httpClient
        self.retryPolicy = retryPolicy
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    /// The `X-Amz-Target` prefix and content type of a JSON-protocol service.
    static func protocolInfo(for service: AWSService) -> (targetPrefix: String, contentType: String)? {
        switch service {
        case .sqs: ("AmazonSQS", "application/x-amz-json-1.0")
        case .dynamodb: ("DynamoDB_20120810", "application/x-amz-json-1.0")
        case .dynamodbStreams: ("DynamoDBStreams_20120810", "application/x-amz-json-1.0")
        case .secretsManager: ("secretsmanager", "application/x-amz-json-1.1")
        case .iam, .sts: nil
        }
    }

    /// Calls `operation` with `input` and returns the response object.
    ///
    /// - Parameters:
    ///   - operation: The operation name, such as `ReceiveMessage`.
    ///   - input: The request object.
    ///   - extraTimeout: Added to ``requestTimeout`` (the wait of a long poll).
    /// - Returns: The parsed response body (`{}` when empty).
    /// - Throws: ``AWSError`` after the last attempt, or at once for an error that is not retryable.
    public func call(_ operation: String, _ input: JSONValue, extraTimeout: Duration = .zero) async throws(AWSError)
        -> JSONValue
    {
        var failures = 0
        while true {
            do {
                return try await attempt(operation, input, timeout: requestTimeout + extraTimeout)
            } catch {
                failures += 1
                guard error.isRetryable, failures < retryPolicy.maxAttempts, !Task.isCancelled else { throw error }
                let delay = retryPolicy.delay(afterAttempt: failures - 1)
                logger.notice(
                    "retrying AWS call",
                    metadata: [
                        "aws.service": "\(service.displayName)", "aws.operation": "\(operation)",
                        "attempt": "\(failures + 1)", "delay": "\(delay)", "error": "\(error)",
                    ])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw AWSError(
                        code: .cancelled, service: service.displayName, operation: operation,
                        message: "cancelled while waiting to retry")
                }
            }
        }
    }

    /// One signed request and its decoded response.
    private func attempt(_ operation: String, _ input: JSONValue, timeout: Duration) async throws(AWSError) -> JSONValue {
        guard let info = Self.protocolInfo(for: service) else {
            throw AWSError(
                code: .configuration, service: service.displayName, operation: operation,
                message: "\(service.displayName) does not speak the AWS JSON protocol")
        }
        let url = configuration.endpoint(for: service)
        let body = input.serializedBytes
        let credentials = try await configuration.credentialProvider.credentials()
        let signer = SigV4Signer(credentials: credentials, region: configuration.region, service: service.signingName)
        let headers = signer.sign(
            method: "POST", url: url,
            headers: [
                (name: "content-type", value: info.contentType),
                (name: "x-amz-target", value: "\(info.targetPrefix).\(operation)"),
            ],
            body: body, date: Date())
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(body)

        logger.debug(
            "AWS call", metadata: ["aws.service": "\(service.displayName)", "aws.operation": "\(operation)"])
        let status: Int
        let responseHeaders: [(String, String)]
        let responseBody: [UInt8]
        do {
            let response = try await httpClient.execute(request, timeout: Self.timeAmount(timeout))
            status = Int(response.status.code)
            responseHeaders = response.headers.map { ($0.name, $0.value) }
            let buffer = try await response.body.collect(upTo: maxResponseBytes)
            responseBody = Array(buffer.readableBytesView)
        } catch {
            throw transportError(error, operation: operation, timeout: timeout)
        }

        guard (200..<300).contains(status) else {
            throw Self.decodeError(
                service: service.displayName, operation: operation, statusCode: status, headers: responseHeaders,
                body: responseBody)
        }
        if responseBody.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { return .object([:]) }
        do {
            return try JSONValue(parsing: responseBody)
        } catch {
            throw AWSError(
                code: .invalidResponse, service: service.displayName, operation: operation, statusCode: status,
                message: "response is not JSON: \(error)",
                requestID: Self.header("x-amzn-requestid", in: responseHeaders))
        }
    }

    private func transportError(_ error: any Error, operation: String, timeout: Duration) -> AWSError {
        let code: AWSError.Code
        let message: String
        if error is NIOTooManyBytesError {
            code = .invalidResponse
            message = "response body larger than \(maxResponseBytes) bytes"
        } else if error is CancellationError || (error as? HTTPClientError) == .cancelled || Task.isCancelled {
            code = .cancelled
            message = "cancelled"
        } else if let httpError = error as? HTTPClientError,
            [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(httpError)
        {
            code = .timeout
            message = "no response within \(timeout) from \(configuration.endpoint(for: service).absoluteString)"
        } else {
            code = .connection
            message = "cannot reach \(configuration.endpoint(for: service).absoluteString): \(error)"
        }
        return AWSError(code: code, service: service.displayName, operation: operation, message: message)
    }

    /// Decodes an error response: `__type` (namespace stripped) and
    /// `message`/`Message` from a JSON body, `<Code>`/`<Message>` from an XML
    /// one, else the `x-amzn-ErrorType` header; the request id from
    /// `x-amzn-RequestId` (or the XML `<RequestId>`).
    static func decodeError(
        service: String, operation: String, statusCode: Int, headers: [(String, String)], body: [UInt8]
    ) -> AWSError {
        var type: String?
        var message: String?
        var requestID = header("x-amzn-requestid", in: headers) ?? header("x-amz-request-id", in: headers)
        if let json = try? JSONValue(parsing: body), json.objectValue != nil {
            type = (json["__type"] ?? json["code"] ?? json["Code"])?.stringValue
            message = (json["message"] ?? json["Message"] ?? json["errorMessage"])?.stringValue
        } else {
            let text = String(decoding: body, as: UTF8.self)
            type = xmlElement("Code", in: text)
            message = xmlElement("Message", in: text)
            requestID = requestID ?? xmlElement("RequestId", in: text) ?? xmlElement("RequestID", in: text)
        }
        type = (type ?? header("x-amzn-errortype", in: headers)).map(errorTypeName)
        // SQS names the legacy query error too ("AWS.SimpleQueueService.NonExistentQueue;Sender").
        var code = AWSError.code(statusCode: statusCode, type: type)
        if code == .clientError || code == .serverError,
            let queryError = header("x-amzn-query-error", in: headers)?.split(separator: ";").first.map(String.init)
        {
            let queryCode = AWSError.code(statusCode: statusCode, type: queryError)
            if queryCode != code { code = queryCode }
        }
        return AWSError(
            code: code, service: service, operation: operation, statusCode: statusCode, type: type,
            message: message ?? "HTTP \(statusCode)", requestID: requestID)
    }

    /// `com.amazonaws.sqs#QueueDoesNotExist` → `QueueDoesNotExist`;
    /// `ThrottlingException:http://internal.amazon.com/` → `ThrottlingException`.
    static func errorTypeName(_ raw: String) -> String {
        var name = Substring(raw)
        if let hash = name.lastIndex(of: "#") { name = name[name.index(after: hash)...] }
        if let colon = name.firstIndex(of: ":") { name = name[..<colon] }
        return name.trimmingCharacters(in: .whitespaces)
    }

    /// The text of the first `<name>…</name>` in `xml` (a plain scan; no XML library).
    static func xmlElement(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"),
            let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex)
        else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static func header(_ name: String, in headers: [(String, String)]) -> String? {
        headers.first { $0.0.lowercased() == name }?.1
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
