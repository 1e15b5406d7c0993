/// Why an OpenSearch call failed: the HTTP status, OpenSearch's `error.type`
/// and `error.reason`, and the index and document it was about.
///
/// The description is one line for an operator. It never contains
/// credentials, signatures or request bodies.
public struct OpenSearchError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure. Cases can grow without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String, Hashable, Sendable {
            case conflict, notFound, rejected, serverError, clientError, forbidden
            case connection, timeout, invalidResponse, payloadTooLarge
        }

        private let kind: Kind

        private init(_ kind: Kind) { self.kind = kind }

        /// 409: a version conflict (`if_seq_no`/`if_primary_term` or create-only).
        public static let conflict = Code(.conflict)
        /// 404: the index (or, for writes, the target) does not exist.
        public static let notFound = Code(.notFound)
        /// 429: the cluster refused the request for now (`rejected_execution_exception`).
        public static let rejected = Code(.rejected)
        /// 5xx from the cluster.
        public static let serverError = Code(.serverError)
        /// Any other 4xx, such as 400 `index_closed_exception` or `mapper_parsing_exception`,
        /// or a request this client refuses to send.
        public static let clientError = Code(.clientError)
        /// 401 or 403, such as `cluster_block_exception` or a refused signature.
        public static let forbidden = Code(.forbidden)
        /// The connection failed: refused, reset or closed early.
        public static let connection = Code(.connection)
        /// No complete answer within the request timeout.
        public static let timeout = Code(.timeout)
        /// The answer was not what OpenSearch sends (not JSON, missing fields, too large).
        public static let invalidResponse = Code(.invalidResponse)
        /// 413: the request body is larger than the cluster accepts.
        public static let payloadTooLarge = Code(.payloadTooLarge)

        /// The code's name, such as `conflict`.
        public var description: String { kind.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The HTTP status, when a response arrived.
    public var statusCode: Int?
    /// OpenSearch's `error.type`, such as `version_conflict_engine_exception`.
    public var type: String?
    /// OpenSearch's `error.reason`, or what went wrong on the way.
    public var reason: String
    /// The index the call was about.
    public var index: String?
    /// The document id the call was about.
    public var documentID: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - statusCode: The HTTP status, when a response arrived.
    ///   - type: OpenSearch's `error.type`.
    ///   - reason: OpenSearch's `error.reason` or what went wrong.
    ///   - index: The index the call was about.
    ///   - documentID: The document id the call was about.
    public init(
        code: Code, statusCode: Int? = nil, type: String? = nil, reason: String, index: String? = nil,
        documentID: String? = nil
    ) {
        self.code = code
        self.statusCode = statusCode
        self.type = type
        self.reason = reason
        self.index = index
        self.documentID = documentID
    }

    /// Whether trying the same request again later may succeed:
    /// 429, 5xx, connection failures and timeouts.
    public var isRetryable: Bool {
        code == .rejected || code == .serverError || code == .connection || code == .timeout
    }

    /// One line, such as
    /// `OpenSearch conflict (409 version_conflict_engine_exception) on artists/42: [42]: version conflict…`.
    public var description: String {
        var status: [String] = []
        if let statusCode { status.append(String(statusCode)) }
        if let type { status.append(type) }
        var line = "OpenSearch \(code)"
        if !status.isEmpty { line += " (\(status.joined(separator: " ")))" }
        switch (index, documentID) {
        case (let index?, let documentID?): line += " on \(index)/\(documentID)"
        case (let index?, nil): line += " on \(index)"
        case (nil, let documentID?): line += " on document \(documentID)"
        case (nil, nil): break
        }
        return line + ": " + Self.oneLine(reason)
    }

    /// `text` on one line and at most 500 characters, so a server's multi-line
    /// reason cannot break log lines or flood a terminal.
    private static func oneLine(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count > 500 ? String(flat.prefix(500)) + "…" : flat
    }
}
