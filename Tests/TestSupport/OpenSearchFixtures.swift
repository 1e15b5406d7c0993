import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StreamModel

/// Plain REST calls to an OpenSearch-compatible server for test setup and
/// checks: create an index, block writes, close it, count or read documents.
///
/// It talks HTTP directly rather than through `OpenSearchClient`, so a bug in
/// the client under test cannot hide itself in the checks.
public struct OpenSearchFixtures: Sendable {
    /// A failed fixture call: method, path, status and body.
    public struct RequestError: Error, CustomStringConvertible {
        /// One line naming the call and the answer.
        public let description: String
    }

    /// A complete answer.
    public struct Response: Sendable {
        /// The HTTP status.
        public var status: Int
        /// The body as text.
        public var body: String
        /// The response headers.
        public var headers: [(name: String, value: String)]

        /// The first value of a header, by case-insensitive name.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// The server's base URL.
    public let url: URL
    private let httpClient: HTTPClient

    /// Creates fixtures for the server at `url`.
    /// - Parameters:
    ///   - url: The server's base URL, such as ``OSMemServer/url``.
    ///   - httpClient: The HTTP client to use.
    public init(url: URL, httpClient: HTTPClient = .shared) {
        self.url = url
        self.httpClient = httpClient
    }

    /// A fresh lowercase index name, so parallel tests never share an index.
    /// - Parameter prefix: A readable start, such as the test's subject.
    public static func uniqueIndexName(_ prefix: String = "test") -> String {
        "\(prefix.lowercased())-\(UUID().uuidString.lowercased().prefix(12))"
    }

    /// Sends one request and returns the status and body, whatever the status.
    /// - Parameters:
    ///   - method: The HTTP method, such as `PUT`.
    ///   - path: The path and query, already percent-encoded, such as `/artists/_doc/a%2Fb`.
    ///   - body: A JSON (or NDJSON) body.
    ///   - contentType: The body's media type.
    ///   - headers: Extra request headers.
    /// - Throws: When the server cannot be reached.
    @discardableResult
    public func send(
        _ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String = "application/json",
        headers: [String: String] = [:]
    ) async throws -> Response {
        var base = url.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "content-type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await httpClient.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Response(
            status: Int(response.status.code), body: String(buffer: bytes),
            headers: response.headers.map { (name: $0.name, value: $0.value) })
    }

    /// Sends one request that must succeed (2xx) and returns its JSON body.
    /// - Throws: ``RequestError`` for another status or a body that is not JSON.
    @discardableResult
    public func json(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> JSONValue {
        let response = try await send(method, path, body: body)
        let (status, text) = (response.status, response.body)
        guard (200..<300).contains(status) else {
            throw RequestError(description: "\(method.rawValue) \(path) answered \(status): \(text)")
        }
        return try JSONValue(parsing: text)
    }

    /// Creates an index.
    /// - Parameters:
    ///   - index: The index name.
    ///   - body: The create-index body, such as `{"settings": {…}}`.
    public func createIndex(_ index: String, body: String = "{}") async throws {
        try await json(.PUT, "/\(index)", body: body)
    }

    /// Updates index settings (`PUT /{index}/_settings`).
    /// - Parameters:
    ///   - index: The index name.
    ///   - settings: The settings JSON, such as `{"index.blocks.write": true}`.
    public func putSettings(index: String, settings: String) async throws {
        try await json(.PUT, "/\(index)/_settings", body: settings)
    }

    /// Blocks or allows writes (`index.blocks.write`); blocked writes answer
    /// 403 `cluster_block_exception`.
    /// - Parameters:
    ///   - index: The index name.
    ///   - blocked: Whether writes are refused.
    public func blockWrites(index: String, _ blocked: Bool = true) async throws {
        try await putSettings(index: index, settings: #"{"index.blocks.write": \#(blocked)}"#)
    }

    /// Deletes an index and creates it again, empty, with `body` (mappings, settings).
    public func recreateIndex(_ index: String, body: String = "{}") async throws {
        try await json(.DELETE, "/\(index)")
        try await createIndex(index, body: body)
    }

    /// Recreates `index` empty, with `name` mapped as a number, so that every artist document is
    /// refused with 400 `mapper_parsing_exception`: a document's own error, as a mapping conflict
    /// gives in production. `recreateIndex(index)` undoes it.
    public func refuseArtistDocuments(index: String) async throws {
        try await recreateIndex(index, body: #"{"mappings": {"properties": {"name": {"type": "long"}}}}"#)
    }

    /// Closes an index; reads and writes then answer 400 `index_closed_exception`.
    public func closeIndex(_ index: String) async throws {
        try await json(.POST, "/\(index)/_close")
    }

    /// Opens a closed index.
    public func openIndex(_ index: String) async throws {
        try await json(.POST, "/\(index)/_open")
    }

    /// Stores a document and refreshes, for setting up state.
    /// - Parameters:
    ///   - index: The index name.
    ///   - id: The document id, unencoded.
    ///   - json: The document JSON.
    public func putDocument(index: String, id: String, json document: String) async throws {
        try await json(.PUT, "/\(index)/_doc/\(Self.pathSegment(id))?refresh=true", body: document)
    }

    /// A document's `_source` read directly, or nil when it does not exist.
    /// - Parameters:
    ///   - index: The index name.
    ///   - id: The document id, unencoded.
    public func source(index: String, id: String) async throws -> JSONValue? {
        let response = try await send(.GET, "/\(index)/_doc/\(Self.pathSegment(id))")
        let (status, text) = (response.status, response.body)
        if status == 404 { return nil }
        guard status == 200 else {
            throw RequestError(description: "GET \(index)/\(id) answered \(status): \(text)")
        }
        return try JSONValue(parsing: text)["_source"]
    }

    /// How many documents the index holds, after a refresh.
    public func count(index: String) async throws -> Int {
        try await json(.POST, "/\(index)/_refresh")
        let answer = try await json(.GET, "/\(index)/_count")
        guard let count = answer["count"]?.intValue else {
            throw RequestError(description: "GET \(index)/_count answered without a count: \(answer.serialized)")
        }
        return count
    }

    /// `id` percent-encoded as one path segment (only ASCII letters and digits stay as they are).
    public static func pathSegment(_ id: String) -> String {
        var allowed = CharacterSet()
        allowed.insert(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }
}

extension OSMemServer {
    /// Fixtures for this server.
    public var fixtures: OpenSearchFixtures { OpenSearchFixtures(url: url) }
}
