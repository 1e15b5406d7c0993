import Foundation

/// A failed AWS call or a configuration problem.
///
/// ``code`` says what kind of failure it is (and so whether to retry);
/// the other fields carry what an operator needs: the service, the
/// operation, the HTTP status, the service's error type (`__type` without
/// its namespace), its message (first line only, so echoed canonical
/// requests never reach a log) and the request id.
public struct AWSError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String, Hashable, Sendable {
            case throttling, serverError, clientError, signatureDoesNotMatch, trimmedDataAccess, expiredIterator
            case resourceNotFound, queueDoesNotExist, connection, timeout, invalidResponse, configuration, cancelled
            case credentials
        }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// The service asked us to slow down (ThrottlingException, ProvisionedThroughputExceededException,
        /// RequestLimitExceeded, TooManyRequests…, or HTTP 429). Retryable.
        public static let throttling = Code(.throttling)
        /// HTTP 5xx. Retryable.
        public static let serverError = Code(.serverError)
        /// Any other 4xx: the request is wrong and retrying will not help.
        public static let clientError = Code(.clientError)
        /// The signature was refused (SignatureDoesNotMatch, InvalidSignatureException): wrong secret or clock.
        public static let signatureDoesNotMatch = Code(.signatureDoesNotMatch)
        /// DynamoDB Streams: the records asked for are past the stream's retention.
        public static let trimmedDataAccess = Code(.trimmedDataAccess)
        /// DynamoDB Streams: the shard iterator is older than 15 minutes.
        public static let expiredIterator = Code(.expiredIterator)
        /// The table, stream, shard or secret does not exist.
        public static let resourceNotFound = Code(.resourceNotFound)
        /// SQS: the queue does not exist.
        public static let queueDoesNotExist = Code(.queueDoesNotExist)
        /// The connection failed (refused, reset, DNS, TLS). Retryable.
        public static let connection = Code(.connection)
        /// No response within the request timeout. Retryable.
        public static let timeout = Code(.timeout)
        /// The response could not be read (not JSON, wrong shape, too large).
        public static let invalidResponse = Code(.invalidResponse)
        /// A setting is missing or malformed (credentials, region, endpoint).
        public static let configuration = Code(.configuration)
        /// The calling task was cancelled.
        public static let cancelled = Code(.cancelled)
        /// Credentials could not be fetched (STS, the container endpoint or instance metadata refused or failed).
        public static let credentials = Code(.credentials)

        /// The code's name, such as `throttling`.
        public var description: String { kind.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The service, such as `SQS`, or `configuration` for settings.
    public var service: String
    /// The operation, such as `ReceiveMessage`.
    public var operation: String
    /// The HTTP status, when a response arrived.
    public var statusCode: Int?
    /// The service's error type without namespace, such as `QueueDoesNotExist`.
    public var type: String?
    /// What went wrong, one line.
    public var message: String
    /// The AWS request id, when the response had one.
    public var requestID: String?

    /// Creates an error. `message` is cut to its first line (at most 500 characters).
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - service: The service name.
    ///   - operation: The operation name.
    ///   - statusCode: The HTTP status, if any.
    ///   - type: The service's error type, if any.
    ///   - message: What went wrong.
    ///   - requestID: The AWS request id, if any.
    public init(
        code: Code, service: String, operation: String, statusCode: Int? = nil, type: String? = nil, message: String,
        requestID: String? = nil
    ) {
        self.code = code
        self.service = service
        self.operation = operation
        self.statusCode = statusCode
        self.type = type
        self.message = Self.firstLine(message)
        self.requestID = requestID
    }

    /// Whether trying the same call again may succeed: throttling, 5xx,
    /// connection failures and timeouts. Never a client error.
    public var isRetryable: Bool {
        [Code.throttling, .serverError, .connection, .timeout].contains(code)
    }

    /// One line, such as `SQS ReceiveMessage failed (queueDoesNotExist, HTTP 400 QueueDoesNotExist): The specified queue does not exist. [request id 4f…]`.
    public var description: String {
        if code == .configuration { return message }
        var detail = [code.description]
        switch (statusCode, type) {
        case (let status?, let type?): detail.append("HTTP \(status) \(type)")
        case (let status?, nil): detail.append("HTTP \(status)")
        case (nil, let type?): detail.append(type)
        case (nil, nil): break
        }
        var line = "\(service) \(operation) failed (\(detail.joined(separator: ", ")))"
        if !message.isEmpty { line += ": \(message)" }
        if let requestID { line += " [request id \(requestID)]" }
        return line
    }

    /// Classifies a response with a non-2xx status by its error type and status.
    /// - Parameters:
    ///   - statusCode: The HTTP status.
    ///   - type: The error type without namespace, if the body or headers named one.
    /// - Returns: The code for that failure.
    public static func code(statusCode: Int, type: String?) -> Code {
        switch type {
        case "ThrottlingException", "Throttling", "ThrottledException", "ProvisionedThroughputExceededException",
            "RequestLimitExceeded", "TooManyRequests", "TooManyRequestsException", "RequestThrottled",
            "RequestThrottledException":
            return .throttling
        case "SignatureDoesNotMatch", "InvalidSignatureException":
            return .signatureDoesNotMatch
        case "TrimmedDataAccessException":
            return .trimmedDataAccess
        case "ExpiredIteratorException":
            return .expiredIterator
        case "ResourceNotFoundException":
            return .resourceNotFound
        case "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue":
            return .queueDoesNotExist
        default:
            if statusCode == 429 { return .throttling }
            if statusCode >= 500 { return .serverError }
            return .clientError
        }
    }

    private static func firstLine(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.count > 500 ? String(trimmed.prefix(500)) + "…" : trimmed
    }
}
