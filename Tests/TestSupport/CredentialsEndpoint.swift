import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A stand-in for the container credentials endpoint and the EC2 instance metadata
/// service, on 127.0.0.1 (a free port).
///
/// It exists because no real peer serves these: they are link-local services of ECS, EKS
/// and EC2. Tests choose each route's answer and read back every request (method, path,
/// headers), so a credential source can be checked for the calls and tokens it sends.
public final class CredentialsEndpoint: Sendable {
    /// A request received.
    public struct RecordedRequest: Sendable {
        /// The method, such as `PUT`.
        public var method: String
        /// The path.
        public var path: String
        /// Header fields, names lower-cased.
        public var headers: [String: String]
    }

    /// One route's answer.
    struct Answer: Sendable {
        var status: Int
        var body: String
        /// A header the request must carry with this value, else 401.
        var requiredHeader: (name: String, value: String)?
    }

    /// Answers and recordings, shared with the connection tasks.
    final class State: Sendable {
        struct Contents {
            var answers: [String: Answer] = [:]
            var requests: [RecordedRequest] = []
        }
        let contents = Mutex(Contents())
    }

    /// The base URL, such as `http://127.0.0.1:41234`.
    public let url: URL
    private let state: State
    private let serverTask: Task<Void, Never>

    private init(url: URL, state: State, serverTask: Task<Void, Never>) {
        self.url = url
        self.state = state
        self.serverTask = serverTask
    }

    deinit { serverTask.cancel() }

    /// Starts an endpoint that answers 404 until routes are set.
    /// - Throws: When no loopback port can be bound.
    public static func start() async throws -> CredentialsEndpoint {
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
            throw PeerProcess.StartError(description: "CredentialsEndpoint bound no port")
        }
        let state = State()
        let serverTask = Task<Void, Never> {
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask { await Self.serve(connection, state: state) }
                        }
                    }
                } catch {
                    // The listening socket closed: accept no more.
                }
            }
        }
        return CredentialsEndpoint(url: url, state: state, serverTask: serverTask)
    }

    /// Answers `method path` with `status` and `body` from now on.
    /// - Parameters:
    ///   - method: Such as `GET`.
    ///   - path: Such as `/latest/api/token`.
    ///   - status: The status.
    ///   - body: The body.
    ///   - requiredHeader: A header the request must carry with this value; else the answer is 401.
    public func answer(
        _ method: String, _ path: String, status: Int = 200, body: String, requiredHeader: (String, String)? = nil
    ) {
        state.contents.withLock {
            $0.answers["\(method) \(path)"] = Answer(
                status: status, body: body, requiredHeader: requiredHeader.map { (name: $0.0.lowercased(), value: $0.1) })
        }
    }

    /// A credentials answer as the container endpoint and instance metadata give it.
    /// - Parameters:
    ///   - keyID: `AccessKeyId`.
    ///   - secret: `SecretAccessKey`.
    ///   - token: `Token` (none for a long-lived key).
    ///   - expiration: `Expiration`.
    public static func credentialsJSON(keyID: String, secret: String, token: String?, expiration: Date) -> String {
        let time = expiration.formatted(Date.ISO8601FormatStyle())
        let tokenField = token.map { #","Token":"\#($0)""# } ?? ""
        return
            #"{"Code":"Success","AccessKeyId":"\#(keyID)","SecretAccessKey":"\#(secret)"\#(tokenField),"Expiration":"\#(time)"}"#
    }

    /// Every request received, oldest first.
    public var requests: [RecordedRequest] { state.contents.withLock { $0.requests } }

    /// Stops accepting; later requests are refused.
    public func stop() { serverTask.cancel() }

    /// Serves one connection: records each request and gives its route's answer (404 when none).
    private static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, state: State) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                case .body:
                    continue
                case .end:
                    guard let requestHead = head else { continue }
                    let path = String(requestHead.uri.split(separator: "?", maxSplits: 1).first ?? "")
                    var headers: [String: String] = [:]
                    for field in requestHead.headers { headers[field.name.lowercased()] = field.value }
                    let (status, body) = state.contents.withLock { contents -> (Int, String) in
                        contents.requests.append(
                            RecordedRequest(method: requestHead.method.rawValue, path: path, headers: headers))
                        guard let answer = contents.answers["\(requestHead.method.rawValue) \(path)"] else {
                            return (404, "not found")
                        }
                        if let required = answer.requiredHeader, headers[required.name] != required.value {
                            return (401, "unauthorized")
                        }
                        return (answer.status, answer.body)
                    }
                    var responseHeaders = HTTPHeaders()
                    responseHeaders.add(name: "content-length", value: String(body.utf8.count))
                    try await outbound.write(
                        .head(
                            HTTPResponseHead(
                                version: requestHead.version, status: .init(statusCode: status), headers: responseHeaders)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
                    try await outbound.write(.end(nil))
                    head = nil
                }
            }
        }
    }
}
