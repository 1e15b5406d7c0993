import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Reprocessor
import StreamModel
import TestSupport
import Testing

@testable import ReprocessorService

/// `/v1`'s bounded input answered in process: the responder `serve` listens with
/// (``ReprocessorServer/wire(registry:)``: the gate, the route table, the access check, the
/// operations), served by HummingbirdTesting's `.live` framework inside the test process, on a
/// loopback port, without starting `serve` or its loop. (`.router` skips the server that gives
/// every request its id, which each problem answer carries.) What needs a real `serve` (start,
/// stop, the lease, the loop) stays in the live suites.
@Suite("in process: /v1's bounded input")
struct InProcessInputTests {
    static let reader = "inproc-reader-token-0123456789"
    static let operator_ = "inproc-operator-token-0123456789"

    /// Times no database millisecond can hold, ages reaching before 1970, and their spellings.
    static let badTimes = [
        "1e300d", "1e300s", "99999999999999999999d", "9999999999999d", "inf" + "d", "nan" + "h", "-5m", "1e3h",
        "10000-01-01", "1969-12-31T23:59:59Z", "\u{0663}d", "2026-13-45",
    ]

    /// The application `serve` would run, over `world`'s peers and a store of its own.
    static func application(_ world: ReprocessorWorld) async throws -> some ApplicationProtocol {
        // A handler that keeps metadata (the request id lives there), quiet below critical.
        var quiet = Logger(label: "in-process", factory: { StreamLogHandler.standardError(label: $0) })
        quiet.logLevel = .critical
        let settings = try ReprocessorSettings.resolve(.init(), environment: world.environment())
        let reprocessor = try Reprocessor(settings: settings, environment: world.environment(), logger: quiet)
        let options = ServeOptions(
            address: try HTTPAddress(parsing: "127.0.0.1:0"), replayInterval: .seconds(30),
            ingest: IngestOptions(waitTimeSeconds: 1, concurrency: 1),
            tokens: try OperatorTokens.load(
                file: nil, environment: ["OPERATOR_TOKENS": "rita:read:\(reader),otto:operate:\(operator_)"]))
        let wiring = try await ReprocessorServer(reprocessor: reprocessor, options: options)
            .wire(registry: PrometheusCollectorRegistry())
        return Application(responder: wiring.responder, logger: quiet)
    }

    /// Sends one request and returns its status and the problem's `error` line.
    static func send(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String, body: String? = nil
    ) async throws -> (status: Int, error: String?) {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            let json = try? JSONValue(parsing: Array(response.body.readableBytesView))
            return (Int(response.status.code), json?["error"]?.stringValue)
        }
    }

    @Test("GET /v1 with times, limits and ids out of range, and POST bodies out of bounds: 400 naming the field")
    func outOfRange() async throws {
        let world = try await ReprocessorWorld.start()
        let app = try await Self.application(world)
        try await app.test(.live) { client in
            var paths: [(String, String)] = []
            for time in Self.badTimes.map(ConsoleBrowser.encode) {
                paths += [
                    ("/v1/changes?since=\(time)", "since"), ("/v1/changes?until=\(time)", "until"),
                    ("/v1/history/1?at=\(time)", "at"), ("/v1/audit?since=\(time)", "since"),
                    ("/v1/audit?until=\(time)", "until"), ("/v1/audit/export?format=csv&since=\(time)", "since"),
                ]
            }
            for limit in ["0", "-1", "1001", "99999999999999999999", "-9223372036854775809", "1e3", "1.5", "%F0%9F%8E%B8"] {
                paths += [
                    ("/v1/changes?limit=\(limit)", "limit"), ("/v1/audit?limit=\(limit)", "limit"),
                    ("/v1/quarantined?limit=\(limit)", "limit"), ("/v1/batches?limit=\(limit)", "limit"),
                ]
            }
            paths += [
                ("/v1/reconcile?limit=101", "limit"), ("/v1/reconcile?limit=0", "limit"),
                ("/v1/changes/0", "change id"), ("/v1/changes/-1", "change id"),
                ("/v1/changes/9223372036854775808", "change id"), ("/v1/changes/99999999999999999999", "change id"),
                ("/v1/changes?cursor=" + String(repeating: "A", count: 600), "cursor"),
            ]
            for (path, field) in paths {
                let answer = try await Self.send(client, .get, path, token: Self.reader)
                #expect(answer.status == 400, "\(path): \(answer)")
                #expect(answer.error?.hasPrefix(field + " ") == true, "\(path) names \(field): \(answer)")
            }
            let fine = try await Self.send(client, .get, "/v1/changes?since=2d&until=9999-12-31&limit=1000", token: Self.reader)
            #expect(fine.status == 200, "times and limits in range pass: \(fine)")

            for (body, field) in [
                (#"{"ids": [0]}"#, "\"ids\""), (#"{"ids": [9223372036854775808]}"#, "\"ids\""), (#"{"ids": [-3]}"#, "\"ids\""),
                (#"{"ids": [1], "rate": 1e-12}"#, "\"rate\""), (#"{"ids": [1], "rate": 1e999}"#, "\"rate\""),
                (#"{"filter": {"since": "1e300d"}}"#, "since"), (#"{"filter": {"until": "99999999999999d"}}"#, "until"),
                (#"{}"#, "\"ids\""), (#"{"ids": [], "reason": "r"}"#, "\"ids\""),
                (#"{"ids": [], "filter": {"status": ["parked"]}}"#, "\"ids\""),
                (#"{"ids": [1], "filter": {"status": ["parked"]}}"#, "\"filter\""),
                (#"{"ids": [1], "force": true}"#, "\"force\""), (#"{"ids": [1], "reason": " "}"#, "\"reason\""),
            ] {
                let answer = try await Self.send(client, .post, "/v1/changes/retry", token: Self.operator_, body: body)
                #expect(answer.status == 400, "\(body): \(answer)")
                #expect(answer.error?.hasPrefix(field + " ") == true, "\(body) names \(field): \(answer)")
            }
            let noReason = try await Self.send(client, .post, "/v1/changes/skip", token: Self.operator_, body: #"{"ids": [1]}"#)
            #expect(noReason.status == 400 && noReason.error?.hasPrefix("\"reason\" is required for skip") == true, "\(noReason)")
            for (body, field) in [
                (#"{"dryRun": true, "segments": 0}"#, "\"segments\""), (#"{"dryRun": true, "segments": 1e6}"#, "\"segments\""),
                (#"{"dryRun": true, "segments": 2.5}"#, "\"segments\""), (#"{"dryRun": true, "rate": 1e-12}"#, "\"rate\""),
                (#"{"dryRun": true, "rate": 5}"#, "\"rate\""), (#"{"reason": "r", "rate": 100000}"#, "\"rate\""),
                (#"{"rate": 5}"#, "\"reason\""),
            ] {
                let answer = try await Self.send(client, .post, "/v1/reconcile", token: Self.operator_, body: body)
                #expect(answer.status == 400, "\(body): \(answer)")
                #expect(answer.error?.hasPrefix(field + " ") == true, "\(body) names \(field): \(answer)")
            }
            let runs = try await client.execute(
                uri: "/v1/reconcile", method: .get, headers: [.authorization: "Bearer \(Self.reader)"]
            ) { response in try JSONValue(parsing: Array(response.body.readableBytesView))["runs"]?.arrayValue }
            #expect(runs?.isEmpty == true, "no refused reconcile recorded a run")
        }
    }
}
