import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import StreamModel
import Synchronization

/// A small HTTP/1.1 reverse proxy on 127.0.0.1 (a free port) that forwards
/// to a real upstream server and fails the requests a test chooses.
///
/// It exists because real servers cannot produce 429 or 5xx on demand:
/// osmem and moto answer writes correctly, so retry paths for throttling and
/// server errors need a stand-in. Everything not chosen to fail goes to the
/// real server unchanged (the `Host` header included, so SigV4 signatures made
/// for the proxy's address still verify upstream), and every request is
/// recorded so tests can count tries and inspect headers.
///
/// ```swift
/// let proxy = try await FaultProxy.start(upstream: server.url)
/// proxy.failNext(2, status: 429)
/// // … a client pointed at proxy.url is throttled twice, then reaches the server
/// #expect(proxy.requestCount == 3)
/// ```
///
/// For AWS JSON services pass an AWS error body, such as
/// `FaultProxy.awsJSONErrorBody(type: "ThrottlingException", message: "slow down")` with status 400.
/// ``delayNext(_:by:)`` holds requests back, for timeout paths.
public final class FaultProxy: Sendable {
    /// A request the proxy received.
    public struct RecordedRequest: Sendable, Hashable {
        /// The HTTP method, such as `POST`.
        public var method: String
        /// The request target as received: path and query, still percent-encoded.
        public var uri: String
        /// Header fields in the order received.
        public var headers: [HeaderField]
        /// The request body.
        public var body: [UInt8]
        /// The status the proxy answered with itself, or nil when it forwarded the request.
        public var injectedStatus: Int?
        /// Whether the proxy held the request back before answering or forwarding it.
        public var wasDelayed: Bool

        /// The first value of a header, by case-insensitive name.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// The body as UTF-8 text.
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// One header field.
    public struct HeaderField: Sendable, Hashable {
        /// The field name as received.
        public var name: String
        /// The field value.
        public var value: String
    }

    /// An answer the proxy gives itself instead of forwarding.
    struct InjectedAnswer: Sendable {
        var status: Int
        var body: String
        var headers: [HeaderField]
    }

    /// Which requests to fail or hold back, and how.
    struct Fault: Sendable {
        var method: String?
        var pathContaining: String?
        var amzTarget: String?
        /// Matches left; nil applies to every matching request.
        var remaining: Int?
        /// How long to hold the request before answering or forwarding.
        var delay: Duration = .zero
        /// The answer to give; nil forwards the request (after the delay).
        var answer: InjectedAnswer?
        /// Forward the request first, and give ``answer`` instead of the real server's.
        var forwardFirst = false
        /// Matching requests to forward untouched before this fault applies.
        var skip = 0
        /// Answer a DynamoDB Streams `GetRecords` with an empty page whose next iterator is the
        /// request's own (the shard position does not move), instead of ``answer``.
        var emptyStreamPage = false

        func matches(method: String, uri: String, headers: [HeaderField]) -> Bool {
            if let expected = self.method, expected.uppercased() != method.uppercased() { return false }
            if let pathContaining, !uri.contains(pathContaining) { return false }
            if let amzTarget {
                let target = headers.first { $0.name.lowercased() == "x-amz-target" }?.value ?? ""
                if !target.contains(amzTarget) { return false }
            }
            return true
        }
    }

    /// Faults and recordings, shared with the connection tasks.
    final class State: Sendable {
        struct Contents {
            var faults: [Fault] = []
            var requests: [RecordedRequest] = []
        }
        let contents = Mutex(Contents())

        /// Records the request and returns the fault to answer it with, if any.
        func take(method: String, uri: String, headers: [HeaderField], body: [UInt8]) -> Fault? {
            contents.withLock { contents in
                var chosen: Fault?
                if let position = contents.faults.firstIndex(where: { $0.matches(method: method, uri: uri, headers: headers) }),
                    contents.faults[position].skip > 0
                {
                    contents.faults[position].skip -= 1
                } else if let position = contents.faults.firstIndex(where: {
                    $0.matches(method: method, uri: uri, headers: headers)
                }) {
                    chosen = contents.faults[position]
                    if let remaining = contents.faults[position].remaining {
                        if remaining <= 1 {
                            contents.faults.remove(at: position)
                        } else {
                            contents.faults[position].remaining = remaining - 1
                        }
                    }
                }
                contents.requests.append(
                    RecordedRequest(
                        method: method, uri: uri, headers: headers, body: body, injectedStatus: chosen?.answer?.status,
                        wasDelayed: (chosen?.delay ?? .zero) > .zero))
                return chosen
            }
        }
    }

    /// The proxy's base URL, such as `http://127.0.0.1:41234`; point the client under test here.
    public let url: URL
    /// The real server requests are forwarded to.
    public let upstream: URL
    private let state: State
    private let serverTask: Task<Void, Never>

    private init(url: URL, upstream: URL, state: State, serverTask: Task<Void, Never>) {
        self.url = url
        self.upstream = upstream
        self.state = state
        self.serverTask = serverTask
    }

    deinit { serverTask.cancel() }

    /// Starts a proxy in front of `upstream`.
    /// - Parameters:
    ///   - upstream: The real server, such as an ``OSMemServer`` or ``MotoServer`` URL.
    ///   - httpClient: The client used to forward requests.
    /// - Returns: The running proxy; it stops with ``stop()`` or when released.
    /// - Throws: When no loopback port can be bound.
    public static func start(upstream: URL, httpClient: HTTPClient = .shared) async throws -> FaultProxy {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        guard let port = server.channel.localAddress?.port, let url = URL(string: "http://127.0.0.1:\(port)") else {
            try? await server.channel.close()
            throw PeerProcess.StartError(description: "FaultProxy bound no port")
        }
        let state = State()
        var upstreamBase = upstream.absoluteString
        while upstreamBase.hasSuffix("/") { upstreamBase.removeLast() }
        let forwarder = Forwarder(upstreamBase: upstreamBase, httpClient: httpClient, state: state)
        let serverTask = Task<Void, Never> {
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask { await forwarder.serve(connection) }
                        }
                    }
                } catch {
                    // The listening socket failed or was closed by stop(): accept no more.
                }
            }
        }
        return FaultProxy(url: url, upstream: upstream, state: state, serverTask: serverTask)
    }

    /// Stops accepting and closes open connections; later requests to ``url`` are refused.
    public func stop() { serverTask.cancel() }

    // MARK: - Choosing failures

    /// Fails the next `count` requests, whatever they are, with `status`.
    /// - Parameters:
    ///   - count: How many requests to fail.
    ///   - status: The status to answer, such as 429, 503 or 400.
    ///   - body: The response body; a small OpenSearch-style error by default.
    ///   - headers: Extra response headers, such as `content-type` for AWS (`application/x-amz-json-1.0`).
    public func failNext(_ count: Int, status: Int, body: String? = nil, headers: [String: String] = [:]) {
        fail(times: count, status: status, body: body, headers: headers)
    }

    /// Fails requests matching a method, a path substring and an AWS operation.
    /// - Parameters:
    ///   - method: The HTTP method to match (any when nil).
    ///   - pathContaining: A substring of the request target to match (any when nil), such as `/_bulk`.
    ///   - amzTarget: A substring of the `X-Amz-Target` header to match (any when nil), such as
    ///     `ReceiveMessage` or `DynamoDB_20120810.GetItem`: AWS JSON calls all go to `/`.
    ///   - times: How many matching requests to fail; nil fails every one.
    ///   - after: How many matching requests to forward before the first failure.
    ///   - status: The status to answer.
    ///   - body: The response body; a small OpenSearch-style error by default.
    ///   - headers: Extra response headers.
    ///   - forwardingFirst: Whether the request still reaches the real server first (its answer
    ///     discarded): the request takes effect, but the client sees the failure, as behind a
    ///     gateway that lost the server's answer.
    public func fail(
        method: String? = nil, pathContaining: String? = nil, amzTarget: String? = nil, times: Int? = nil,
        after: Int = 0, status: Int, body: String? = nil, headers: [String: String] = [:], forwardingFirst: Bool = false
    ) {
        if let times, times <= 0 { return }
        var fields = [HeaderField(name: "content-type", value: "application/json")]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            fields.removeAll { $0.name.lowercased() == name.lowercased() }
            fields.append(HeaderField(name: name, value: value))
        }
        let answer = InjectedAnswer(
            status: status,
            body: body
                ?? Self.openSearchErrorBody(
                    type: "fault_proxy_injected", reason: "FaultProxy injected HTTP \(status)", status: status),
            headers: fields)
        var fault = Fault(method: method, pathContaining: pathContaining, amzTarget: amzTarget, remaining: times, answer: answer)
        fault.skip = after
        fault.forwardFirst = forwardingFirst
        state.contents.withLock { $0.faults.append(fault) }
    }

    /// Holds the next `count` requests back for `delay`, then forwards them, so
    /// a client with a shorter timeout gives up first.
    /// - Parameters:
    ///   - count: How many requests to hold.
    ///   - delay: How long to hold each.
    public func delayNext(_ count: Int, by delay: Duration) {
        guard count > 0 else { return }
        state.contents.withLock { $0.faults.append(Fault(remaining: count, delay: delay)) }
    }

    /// Answers DynamoDB Streams `GetRecords` calls with empty pages that do not move the
    /// shard position (`{"Records": [], "NextShardIterator": <the iterator asked with>}`), as
    /// the service may answer in the middle of a shard; the following call with that iterator
    /// reaches moto and gets the records.
    /// - Parameters:
    ///   - times: How many `GetRecords` calls to answer empty.
    ///   - after: How many `GetRecords` calls to forward first.
    public func answerEmptyStreamPages(times: Int, after: Int = 0) {
        guard times > 0 else { return }
        state.contents.withLock {
            $0.faults.append(Fault(amzTarget: "GetRecords", remaining: times, skip: after, emptyStreamPage: true))
        }
    }

    /// Removes every pending fault; later requests are all forwarded.
    public func clearFaults() { state.contents.withLock { $0.faults.removeAll() } }

    // MARK: - What it saw

    /// Every request received, oldest first.
    public var requests: [RecordedRequest] { state.contents.withLock { $0.requests } }

    /// How many requests were received (failed or forwarded).
    public var requestCount: Int { state.contents.withLock { $0.requests.count } }

    /// The requests received that match a method and a target substring.
    /// - Parameters:
    ///   - method: The HTTP method (any when nil).
    ///   - pathContaining: A substring of the request target (any when nil).
    public func requests(method: String? = nil, pathContaining: String? = nil) -> [RecordedRequest] {
        requests.filter { request in
            (method.map { $0.uppercased() == request.method } ?? true)
                && (pathContaining.map { request.uri.contains($0) } ?? true)
        }
    }

    /// Forgets the requests recorded so far.
    public func clearRecordedRequests() { state.contents.withLock { $0.requests.removeAll() } }

    // MARK: - Error bodies

    /// An OpenSearch error body: `{"error":{"reason":…,"type":…},"status":…}`.
    public static func openSearchErrorBody(type: String, reason: String, status: Int) -> String {
        JSONValue.object([
            "error": .object(["type": .string(type), "reason": .string(reason)]),
            "status": .number(String(status)),
        ]).serialized
    }

    /// An AWS JSON-protocol error body: `{"__type":…,"message":…}`.
    public static func awsJSONErrorBody(type: String, message: String) -> String {
        JSONValue.object(["__type": .string(type), "message": .string(message)]).serialized
    }
}

/// Serves one proxy connection: reads requests, answers faults, forwards the rest.
private struct Forwarder: Sendable {
    let upstreamBase: String
    let httpClient: HTTPClient
    let state: FaultProxy.State

    /// Hop-by-hop fields (RFC 9110 §7.6.1) and the length, which is set for the new body.
    static let notForwarded: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "content-length",
    ]

    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end:
                    guard let requestHead = head else { continue }
                    let (status, headers, responseBody) = await respond(to: requestHead, body: Array(body.readableBytesView))
                    var responseHeaders = HTTPHeaders()
                    for field in headers where !Self.notForwarded.contains(field.name.lowercased()) {
                        responseHeaders.add(name: field.name, value: field.value)
                    }
                    let upstreamLength = headers.first { $0.name.lowercased() == "content-length" }?.value
                    let length = requestHead.method == .HEAD ? upstreamLength : nil
                    responseHeaders.replaceOrAdd(name: "content-length", value: length ?? String(responseBody.count))
                    if !requestHead.isKeepAlive { responseHeaders.replaceOrAdd(name: "connection", value: "close") }
                    try await outbound.write(
                        .head(
                            HTTPResponseHead(
                                version: requestHead.version, status: .init(statusCode: status), headers: responseHeaders)))
                    if requestHead.method != .HEAD {
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: responseBody))))
                    }
                    try await outbound.write(.end(nil))
                    if !requestHead.isKeepAlive { return }
                    head = nil
                }
            }
        }
    }

    /// The answer to one request: an injected fault, the upstream's answer, or 502 when upstream fails.
    private func respond(to head: HTTPRequestHead, body: [UInt8]) async
        -> (status: Int, headers: [FaultProxy.HeaderField], body: [UInt8])
    {
        let fields = head.headers.map { FaultProxy.HeaderField(name: $0.name, value: $0.value) }
        let fault = state.take(method: head.method.rawValue, uri: head.uri, headers: fields, body: body)
        if let delay = fault?.delay, delay > .zero {
            try? await Task.sleep(for: delay)
        }
        if let answer = fault?.answer {
            if fault?.forwardFirst == true { _ = await forward(head, fields: fields, body: body) }
            return (answer.status, answer.headers, Array(answer.body.utf8))
        }
        if fault?.emptyStreamPage == true, let iterator = (try? JSONValue(parsing: body))?["ShardIterator"] {
            let page = JSONValue.object(["Records": .array([]), "NextShardIterator": iterator]).serialized
            return (
                200, [FaultProxy.HeaderField(name: "content-type", value: "application/x-amz-json-1.0")], Array(page.utf8)
            )
        }
        return await forward(head, fields: fields, body: body)
    }

    /// The upstream's answer to one request, or 502 when upstream fails.
    private func forward(_ head: HTTPRequestHead, fields: [FaultProxy.HeaderField], body: [UInt8]) async
        -> (status: Int, headers: [FaultProxy.HeaderField], body: [UInt8])
    {
        var request = HTTPClientRequest(url: upstreamBase + head.uri)
        request.method = head.method
        for field in fields where !Self.notForwarded.contains(field.name.lowercased()) {
            request.headers.add(name: field.name, value: field.value)
        }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(60))
            let responseBody = try await response.body.collect(upTo: 256 * 1024 * 1024)
            let headers = response.headers.map { FaultProxy.HeaderField(name: $0.name, value: $0.value) }
            return (Int(response.status.code), headers, Array(responseBody.readableBytesView))
        } catch {
            let text = FaultProxy.openSearchErrorBody(
                type: "fault_proxy_upstream_failed", reason: "FaultProxy could not reach upstream: \(error)", status: 502)
            return (502, [FaultProxy.HeaderField(name: "content-type", value: "application/json")], Array(text.utf8))
        }
    }
}
