import AWSClients
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StreamModel

/// One HTTP call to the cluster, before authentication and retries.
struct OpenSearchRequest: Sendable {
    var method: HTTPMethod
    /// Path segments after the endpoint's own path, not yet percent-encoded.
    var path: [String]
    var query: [(name: String, value: String)] = []
    var body: [UInt8]?
    var contentType = "application/json"
    /// What the call is about, for errors and logs.
    var index: String?
    var documentID: String?
}

/// A complete answer from the cluster.
struct OpenSearchResponse: Sendable {
    var status: Int
    var body: [UInt8]

    /// The body as JSON, or nil when it is not JSON.
    var json: JSONValue? { try? JSONValue(parsing: body) }
}

extension OpenSearchClient {
    /// The largest response body read; a larger one is an ``OpenSearchError/Code/invalidResponse``.
    static let maxResponseBytes = 64 * 1024 * 1024

    /// Sends `request`, trying again with ``RetryPolicy`` backoff on 429, 5xx,
    /// connection failures and timeouts.
    ///
    /// - Returns: The first answer that is not worth retrying, or the last
    ///   answer when tries run out; callers decide what its status means.
    /// - Throws: ``OpenSearchError`` when no answer arrived on the last try.
    func send(_ request: OpenSearchRequest) async throws(OpenSearchError) -> OpenSearchResponse {
        var failures = 0
        while true {
            let outcome: Result<OpenSearchResponse, OpenSearchError>
            do {
                outcome = .success(try await sendOnce(request))
            } catch {
                outcome = .failure(error)
            }
            let problem: String
            switch outcome {
            case .success(let response) where !Self.isRetryable(status: response.status):
                return response
            case .success(let response):
                problem = "HTTP \(response.status)"
            case .failure(let error) where error.isRetryable:
                problem = error.description
            case .failure(let error):
                throw error
            }
            failures += 1
            if failures >= retryPolicy.maxAttempts || Task.isCancelled {
                return try outcome.get()
            }
            let delay = retryPolicy.delay(afterAttempt: failures - 1)
            logger.warning(
                "OpenSearch request failed, retrying",
                metadata: [
                    "method": "\(request.method.rawValue)", "path": "\(pathText(request))",
                    "attempt": "\(failures)", "problem": "\(problem)", "delay": "\(delay)",
                ])
            do {
                try await Task.sleep(for: delay)
            } catch {
                return try outcome.get()
            }
        }
    }

    /// Whether a response status is worth retrying unchanged: 429 and 5xx.
    static func isRetryable(status: Int) -> Bool { status == 429 || (500..<600).contains(status) }

    /// One try: build, authenticate, send and read the whole (capped) body.
    private func sendOnce(_ request: OpenSearchRequest) async throws(OpenSearchError) -> OpenSearchResponse {
        let url = url(for: request)
        guard let parsedURL = URL(string: url), parsedURL.host?.isEmpty == false,
            ["http", "https"].contains(parsedURL.scheme?.lowercased())
        else {
            throw OpenSearchError(
                code: .clientError, reason: "the endpoint \(endpointDescription) is not an http(s) URL with a host",
                index: request.index, documentID: request.documentID)
        }
        var headers: [(name: String, value: String)] = [(name: "accept", value: "application/json")]
        if request.body != nil { headers.append((name: "content-type", value: request.contentType)) }
        do {
            headers = try await auth.authenticate(
                method: request.method.rawValue, url: parsedURL, headers: headers, body: request.body ?? [], date: Date())
        } catch {
            throw OpenSearchError(
                code: .clientError, reason: "no AWS credentials to sign with: \(error)", index: request.index,
                documentID: request.documentID)
        }

        var httpRequest = HTTPClientRequest(url: url)
        httpRequest.method = request.method
        for header in headers { httpRequest.headers.add(name: header.name, value: header.value) }
        if let requestBody = request.body { httpRequest.body = .bytes(ByteBuffer(bytes: requestBody)) }

        let start = ContinuousClock.now
        do {
            let response = try await httpClient.execute(httpRequest, timeout: timeAmount(requestTimeout))
            let buffer = try await response.body.collect(upTo: Self.maxResponseBytes)
            let status = Int(response.status.code)
            let elapsed = ContinuousClock.now - start
            let metadata: Logger.Metadata = [
                "method": "\(request.method.rawValue)", "path": "\(pathText(request))", "status": "\(status)",
                "elapsed": "\(elapsed)",
            ]
            if elapsed > requestTimeout / 2 {
                // Slow enough to say so: past half its timeout, the next such request may fail.
                logger.warning(
                    "slow OpenSearch request: \(request.method.rawValue) \(pathText(request)) took \(elapsed) of its \(requestTimeout) timeout",
                    metadata: metadata)
            } else {
                logger.debug("OpenSearch request", metadata: metadata)
            }
            return OpenSearchResponse(status: status, body: Array(buffer.readableBytesView))
        } catch {
            throw transportError(error, request: request)
        }
    }

    /// The typed error for a failure below HTTP (no response).
    private func transportError(_ error: any Error, request: OpenSearchRequest) -> OpenSearchError {
        let code: OpenSearchError.Code
        let reason: String
        if error is NIOTooManyBytesError {
            code = .invalidResponse
            reason = "response larger than \(Self.maxResponseBytes) bytes"
        } else if let clientError = error as? HTTPClientError, Self.timeoutErrors.contains(clientError) {
            code = .timeout
            reason = "no complete response within \(requestTimeout) (\(clientError))"
        } else {
            code = .connection
            reason = "cannot reach \(endpointDescription): \(error)"
        }
        return OpenSearchError(code: code, reason: reason, index: request.index, documentID: request.documentID)
    }

    private static let timeoutErrors: [HTTPClientError] = [
        .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
        .getConnectionFromPoolTimeout,
    ]

    /// The typed error for a response whose status the caller does not accept.
    func responseError(_ response: OpenSearchResponse, request: OpenSearchRequest) -> OpenSearchError {
        let (type, reason) = Self.errorTypeAndReason(in: response)
        return OpenSearchError(
            code: Self.code(forStatus: response.status), statusCode: response.status, type: type,
            reason: reason ?? "HTTP \(response.status) without an error reason", index: request.index,
            documentID: request.documentID)
    }

    /// `error.type` and `error.reason` of an error body; plain text bodies give their first line as the reason.
    static func errorTypeAndReason(in response: OpenSearchResponse) -> (type: String?, reason: String?) {
        guard let json = response.json else {
            let text = String(decoding: response.body.prefix(300), as: UTF8.self)
            let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init)
            return (nil, firstLine)
        }
        return errorTypeAndReason(inError: json["error"])
    }

    /// `type` and `reason` of an OpenSearch `error` member, which is an object or (rarely) a string.
    static func errorTypeAndReason(inError error: JSONValue?) -> (type: String?, reason: String?) {
        if let text = error?.stringValue { return (nil, text) }
        return (error?["type"]?.stringValue, error?["reason"]?.stringValue)
    }

    /// The error code for an HTTP status.
    static func code(forStatus status: Int) -> OpenSearchError.Code {
        switch status {
        case 409: .conflict
        case 404: .notFound
        case 429: .rejected
        case 413: .payloadTooLarge
        case 401, 403: .forbidden
        case 500..<600: .serverError
        case 400..<500: .clientError
        default: .invalidResponse
        }
    }

    /// The error for a response that is not the JSON OpenSearch sends.
    func invalidResponse(_ what: String, _ response: OpenSearchResponse, request: OpenSearchRequest) -> OpenSearchError {
        OpenSearchError(
            code: .invalidResponse, statusCode: response.status, reason: what, index: request.index,
            documentID: request.documentID)
    }

    /// The body as JSON, or an ``OpenSearchError/Code/invalidResponse`` error.
    func json(_ response: OpenSearchResponse, request: OpenSearchRequest) throws(OpenSearchError) -> JSONValue {
        guard let json = response.json else {
            throw invalidResponse("response body is not JSON", response, request: request)
        }
        return json
    }

    /// The full URL: endpoint, percent-encoded path segments, query.
    func url(for request: OpenSearchRequest) -> String {
        var url = baseURL + "/" + request.path.map(Self.percentEncoded).joined(separator: "/")
        if !request.query.isEmpty {
            url +=
                "?"
                + request.query.map { "\(Self.percentEncoded($0.name))=\(Self.percentEncoded($0.value))" }
                .joined(separator: "&")
        }
        return url
    }

    /// The request path for logs (document ids included, never credentials).
    private func pathText(_ request: OpenSearchRequest) -> String {
        "/" + request.path.map(Self.percentEncoded).joined(separator: "/")
    }

    /// `text` with every byte outside RFC 3986 unreserved characters percent-encoded,
    /// so ids like `a/b`, `a b` or `a?b` stay one path segment; `.` and `..`
    /// are encoded whole so no one reads them as dot-segments.
    static func percentEncoded(_ text: String) -> String {
        if text == "." || text == ".." { return String(repeating: "%2E", count: text.count) }
        return SigV4Signer.percentEncode(text)
    }

    private func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
