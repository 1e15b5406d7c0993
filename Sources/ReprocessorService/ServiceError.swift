import Hummingbird

/// A request the service refuses, or a setting it cannot start with, as one line an operator can act on.
///
/// Over HTTP it is answered as `{"error": description}` with ``Code/status``.
public struct ServiceError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String {
            case badRequest = "bad request"
            case unauthorized
            case forbidden
            case notFound = "not found"
            case payloadTooLarge = "payload too large"
            case tooManyRequests = "too many requests"
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

        /// The HTTP status the code is answered with.
        public var status: HTTPResponse.Status {
            switch kind {
            case .badRequest, .invalidSetting: .badRequest
            case .cannotListen: .internalServerError
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

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - description: One line; never a token or other secret.
    ///   - retryAfter: Seconds after which trying again may succeed.
    public init(_ code: Code, _ description: String, retryAfter: Int? = nil) {
        self.code = code
        self.description = description
        self.retryAfter = retryAfter
    }
}
