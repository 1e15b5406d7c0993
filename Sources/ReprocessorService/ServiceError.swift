import Foundation
import Hummingbird

/// A request the service refuses, or a setting it cannot start with, as one line an operator can act on.
///
/// Over HTTP it is answered as RFC 9457 problem details with ``Code/status`` (see ``ProblemDetails``):
/// `error` and `detail` carry the one line, `code` the stable name, `field` the offending input.
public struct ServiceError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String {
            case badRequest = "bad request"
            case unauthorized
            case forbidden
            case notFound = "not found"
            case invalidInput = "invalid input"
            case methodNotAllowed = "method not allowed"
            case idempotencyKeyInUse = "idempotency key in use"
            case payloadTooLarge = "payload too large"
            case idempotencyKeyReused = "idempotency key reused"
            case tooManyRequests = "too many requests"
            case unavailable
            case internalError = "internal error"
            case invalidSetting = "invalid setting"
            case cannotListen = "cannot listen"
        }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// The request is malformed: bad JSON, a field of the wrong type, an unknown field or value (400).
        public static let badRequest = Code(.badRequest)
        /// No bearer token, or one that matches no operator (401).
        public static let unauthorized = Code(.unauthorized)
        /// Mutating endpoints are off because no operator token is configured (403).
        public static let forbidden = Code(.forbidden)
        /// No such change or route (404).
        public static let notFound = Code(.notFound)
        /// A value that is malformed or out of range; the error's ``ServiceError/field`` names it (400).
        public static let invalidInput = Code(.invalidInput)
        /// The path is known but not with this method; the error's ``ServiceError/allow`` lists those it takes (405).
        public static let methodNotAllowed = Code(.methodNotAllowed)
        /// A request with the same `Idempotency-Key` is still being carried out (409).
        public static let idempotencyKeyInUse = Code(.idempotencyKeyInUse)
        /// An `Idempotency-Key` already used for another request (another body or route) (422).
        public static let idempotencyKeyReused = Code(.idempotencyKeyReused)
        /// The audit database is busy or failing; trying again may succeed (503).
        public static let unavailable = Code(.unavailable)
        /// The service itself failed; the log line with the request id says how (500).
        public static let internalError = Code(.internalError)
        /// The request body is larger than the service accepts (413).
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// Too much is running or was tried: expensive work in flight, or failed logins (429); the
        /// error's ``ServiceError/retryAfter`` says when to try again.
        public static let tooManyRequests = Code(.tooManyRequests)
        /// A setting the service cannot start with (the command line exits 2).
        public static let invalidSetting = Code(.invalidSetting)
        /// The HTTP address cannot be listened on (in use, not local, no permission).
        public static let cannotListen = Code(.cannotListen)

        /// The code's name.
        public var description: String { kind.rawValue }

        /// The stable machine-readable name answered as problem details' `code`: `invalid_input`.
        public var identifier: String { kind.rawValue.replacingOccurrences(of: " ", with: "_") }

        /// The HTTP status the code is answered with.
        public var status: HTTPResponse.Status {
            switch kind {
            case .badRequest, .invalidSetting, .invalidInput: .badRequest
            case .cannotListen, .internalError: .internalServerError
            case .methodNotAllowed: .methodNotAllowed
            case .idempotencyKeyInUse: .conflict
            case .idempotencyKeyReused: .unprocessableContent
            case .unavailable: .serviceUnavailable
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .payloadTooLarge: .contentTooLarge
            case .tooManyRequests: .tooManyRequests
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// One line saying what is wrong and what to do instead.
    public var description: String
    /// Seconds after which trying again may succeed (answered as `Retry-After`), when that is known.
    public var retryAfter: Int?
    /// The input at fault, as the request names it (`limit`, `rate`, `filter.since`), when one is.
    public var field: String?
    /// The methods the path takes, answered as `Allow` with a 405.
    public var allow: [String] = []

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - description: One line; never a token or other secret.
    ///   - retryAfter: Seconds after which trying again may succeed.
    ///   - field: The input at fault, when one is.
    public init(_ code: Code, _ description: String, retryAfter: Int? = nil, field: String? = nil) {
        self.code = code
        self.description = description
        self.retryAfter = retryAfter
        self.field = field
    }
}
