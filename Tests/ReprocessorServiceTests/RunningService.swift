import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

extension JSONValue {
    /// The element at `index` of an array, `nil` otherwise.
    subscript(index: Int) -> JSONValue? {
        guard let elements = arrayValue, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}

/// Every `serve` test. They run one at a time: each starts moto, osmem and the service,
/// and on two cores several at once would starve the rest of the suite.
@Suite("serve", .serialized)
enum ServeTests {}

/// A condition a test waited for did not come true in time.
struct TimedOut: Error, CustomStringConvertible {
    let description: String
}

/// An answer from the service.
struct HTTPAnswer: CustomStringConvertible {
    var status: Int
    var contentType: String
    var headers: HTTPHeaders
    var body: String
    /// The body parsed as JSON, when it is.
    var json: JSONValue? { try? JSONValue(parsing: body) }
    /// `"error"` of a JSON error body.
    var error: String? { json?["error"]?.stringValue }

    var description: String { "HTTP \(status) \(contentType): \(body.prefix(500))" }
}

/// `dlq-reprocessor serve` started as a process against a world, on a free port.
final class RunningService: Sendable {
    let process: PeerProcess
    let baseURL: String

    static let readyPrefix = "dlq-reprocessor serving on "

    private init(process: PeerProcess, baseURL: String) {
        self.process = process
        self.baseURL = baseURL
    }

    /// The `read` token every service started here also accepts (``get(_:)`` sends it), so
    /// tests of the queries need not configure one.
    static let readerToken = "test-reader-token-0123456789"

    /// Starts `serve` (replay every second, 1 s long polls, info logs) and waits until it listens.
    /// - Parameters:
    ///   - world: The peers and settings.
    ///   - arguments: More arguments.
    ///   - environment: More variables; `OPERATOR_TOKENS` gets the reader's entry appended.
    ///   - withReader: Whether to add the reader's token (false: exactly the tokens given).
    static func start(
        _ world: ReprocessorWorld, arguments: [String] = [], environment: [String: String] = [:], withReader: Bool = true
    ) async throws -> RunningService {
        var environment = environment
        if withReader {
            let reader = "test-reader:read:\(readerToken)"
            environment["OPERATOR_TOKENS"] = environment["OPERATOR_TOKENS"].map { "\($0),\(reader)" } ?? reader
        }
        let (process, url) = try await PeerProcess.start(
            executable: ReprocessorExecutable.path,
            arguments: ["serve", "--http", "127.0.0.1:0", "--interval", "1", "--wait", "1", "--log-level", "info"] + arguments,
            environment: world.environment(environment),
            readyWhen: { line -> String? in
                guard let start = line.range(of: readyPrefix) else { return nil }
                return String(line[start.upperBound...]).trimmingCharacters(in: .whitespaces)
            },
            timeout: .seconds(120))
        return RunningService(process: process, baseURL: url)
    }

    /// Sends a request and reads the whole answer.
    func request(
        _ method: HTTPMethod, _ path: String, body: String? = nil, token: String? = nil,
        authorization: String? = nil
    ) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.body = .bytes(ByteBuffer(string: body))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return HTTPAnswer(
            status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type") ?? "",
            headers: response.headers, body: String(buffer: bytes))
    }

    /// `GET path` with the reader's token (``readerToken``), or `token`.
    func get(_ path: String, token: String? = readerToken) async throws -> HTTPAnswer {
        try await request(.GET, path, token: token)
    }

    /// `POST path` with a JSON body.
    func post(_ path: String, _ body: String? = nil, token: String? = nil) async throws -> HTTPAnswer {
        try await request(.POST, path, body: body, token: token)
    }

    /// The value of one sample of `/metrics`, such as `dlq_changes{status="applied"}`; `nil` when absent.
    func metric(_ sample: String) async throws -> Double? {
        Self.sample(sample, in: try await get("/metrics").body)
    }

    /// The value of `sample` in Prometheus text.
    static func sample(_ sample: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard line.hasPrefix(sample + " ") else { continue }
            return Double(line.dropFirst(sample.count + 1).split(separator: " ").first ?? "")
        }
        return nil
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` passes.
    func eventually(
        _ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TimedOut(
            description:
                "timed out waiting for \(what); service output: \(process.recentOutput.suffix(8).joined(separator: " | "))")
    }
}
