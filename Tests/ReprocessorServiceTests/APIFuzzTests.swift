import AsyncHTTPClient
import AuditLog
import Foundation
import NIOCore
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// 10,000 generated requests against a running `serve`: random methods, paths, query
    /// strings, headers, JSON and non-JSON bodies, huge values, with and without tokens.
    @Suite("serve: fuzzed requests")
    struct APIFuzzTests {
        static let reader = "fuzz-reader-token-0123456789"
        static let operator_ = "fuzz-operator-token-0123456789"

        /// One generated request.
        struct FuzzRequest: CustomStringConvertible {
            var method: HTTPMethod
            var path: String
            var headers: [(String, String)]
            var body: String?
            var description: String { "\(method) \(path.prefix(120)) body \(body?.prefix(80) ?? "none")" }
        }

        static let paths = [
            "/healthz", "/readyz", "/metrics", "/v1", "/v1/", "/v1/stats", "/v1/changes", "/v1/changes/1", "/v1/changes/0",
            "/v1/changes/-1", "/v1/changes/99999999999999999999", "/v1/changes/abc", "/v1/history/42", "/v1/history/ARTIST%2342",
            "/v1/history/%00", "/v1/audit", "/v1/errors", "/v1/quarantined", "/v1/changes/1/retry", "/v1/changes/1/skip",
            "/v1/changes/1/rollback", "/v1/changes/1/resync", "/v1/changes/retry", "/v1/changes/skip", "/v1/changes/rollback",
            "/v1/changes/resync", "/v1/changes/1/explode", "/ui", "/", "/v2/stats", "/v1/changes/1/retry/extra",
        ]
        static let queryNames = [
            "status", "key", "event", "since", "until", "error", "limit", "cursor", "at", "actor", "action", "x",
        ]
        static let values = [
            "", "1", "0", "-1", "1000", "1001", "99999999999999999999", "pending", "parked,failed", "bogus", "MODIFY", "2h",
            "2026-11-24", "yesterday", "ARTIST#1", "%", "'; DROP TABLE actions; --", "<script>", "null", "q:1:2", "garbage",
            "1e-10", "NaN", "\u{1F3B8}", "1e300d", "-1e300s", "99999999999999999999d", "inf", "nan", "9223372036854775808",
            "1969-12-31T23:59:59Z", "10000-01-01",
        ]
        static let bodies = [
            "", "{}", "[]", "null", "not json", "{\"reason\":", #"{"ids": [1]}"#, #"{"ids": []}"#, #"{"ids": ["a"]}"#,
            #"{"filter": {}}"#, #"{"filter": {"status": "nope"}}"#, #"{"rate": 1e-10}"#, #"{"rate": -1}"#, #"{"rate": 1e400}"#,
            #"{"rate": "fast"}"#, #"{"dryRun": "yes"}"#, #"{"force": true}"#, #"{"unknown": 1}"#,
            #"{"ids": [1], "filter": {"status": "parked"}}"#,
            #"{"reason": 42}"#, "{\"ids\": [1], \"dryRun\": true, \"rate\": 1000}",
        ]

        static func percentEncoded(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        }

        static func generate(_ random: inout SeededGenerator) -> FuzzRequest {
            let methods: [HTTPMethod] = [.GET, .GET, .GET, .POST, .POST, .PUT, .DELETE, .PATCH, .HEAD, .OPTIONS]
            let method = methods.randomElement(using: &random)!
            var path = paths.randomElement(using: &random)!
            if Int.random(in: 0..<10, using: &random) == 0 {
                path =
                    "/"
                    + (0..<Int.random(in: 1...4, using: &random)).map { _ in
                        percentEncoded(
                            String(
                                (0..<Int.random(in: 0...12, using: &random)).map { _ in
                                    Character(Unicode.Scalar(UInt8.random(in: 33...126, using: &random)))
                                }))
                    }.joined(separator: "/")
            }
            var query: [String] = []
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                var value = values.randomElement(using: &random)!
                if Int.random(in: 0..<50, using: &random) == 0 { value = String(repeating: "x", count: 8_000) }
                query.append("\(queryNames.randomElement(using: &random)!)=\(percentEncoded(value))")
            }
            if !query.isEmpty { path += "?" + query.joined(separator: "&") }
            var headers: [(String, String)] = []
            switch Int.random(in: 0..<6, using: &random) {
            case 0: headers.append(("Authorization", "Bearer \(reader)"))
            case 1, 2: headers.append(("Authorization", "Bearer \(operator_)"))
            case 3:
                headers.append(
                    ("Authorization", "Bearer \(String(repeating: "z", count: Int.random(in: 0...64, using: &random)))"))
            case 4: headers.append(("Authorization", "Basic YWxpY2U6eA=="))
            default: break
            }
            if Bool.random(using: &random) {
                headers.append(("Content-Type", ["application/json", "text/plain", "x/y"].randomElement(using: &random)!))
            }
            if Int.random(in: 0..<10, using: &random) == 0 { headers.append(("X-Fuzz", String(repeating: "h", count: 4_000))) }
            var body: String?
            if method != .GET, method != .HEAD, Bool.random(using: &random) {
                body = bodies.randomElement(using: &random)!
                if Int.random(in: 0..<40, using: &random) == 0 {
                    body = "{\"reason\": \"" + String(repeating: "r", count: 100_000) + "\"}"
                }
            }
            return FuzzRequest(method: method, path: path, headers: headers, body: body)
        }

        static func residentKiB(_ pid: Int32) -> Int? {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
            else { return nil }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }

        @Test("10,000 generated requests: no 5xx but 503, the process alive, memory flat, refused requests change no audit row")
        func fuzz() async throws {
            let seed = ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
            var random = SeededGenerator(seed: seed)
            let world = try await ReprocessorWorld.start()
            try await world.putArtist("1", name: "One")
            let service = try await RunningService.start(
                world, environment: ["OPERATOR_TOKENS": "rita:read:\(Self.reader),otto:operate:\(Self.operator_)"],
                withReader: false)
            defer { service.process.stop() }
            try await world.send([world.failedBatchBody(try await world.streamRecords(), requestID: "fuzz")])
            try await service.eventually("the change applied") {
                try await service.get("/v1/stats", token: Self.reader).json?["changes"]?["applied"]?.intValue == 1
            }
            let log = try AuditLog(path: world.auditDatabasePath)
            let total = 10_000
            var statuses: [Int: Int] = [:]
            var warmResident: Int?
            var head = try await log.head()
            for index in 0..<total {
                let generated = Self.generate(&random)
                var request = HTTPClientRequest(url: service.baseURL + generated.path)
                request.method = generated.method
                for (name, value) in generated.headers { request.headers.add(name: name, value: value) }
                if let body = generated.body { request.body = .bytes(ByteBuffer(string: body)) }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                let status = Int(response.status.code)
                let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
                statuses[status, default: 0] += 1
                #expect(
                    status < 500 || status == 503, "seed \(seed), request \(index): \(generated) → \(status) \(text.prefix(200))")
                if status >= 400, generated.method != .HEAD {
                    #expect(
                        (try? JSONValue(parsing: text))?["error"]?.stringValue != nil || status == 503,
                        "seed \(seed), request \(index): \(generated) → \(status) is not a JSON error: \(text.prefix(200))")
                }
                let now = try await log.head()
                if status >= 400 {
                    #expect(now == head, "seed \(seed), request \(index): refused \(generated) changed the audit log")
                }
                head = now
                if index == 1_000 { warmResident = Self.residentKiB(service.process.pid) }
            }
            #expect(service.process.isRunning, "seed \(seed)")
            #expect(try await service.get("/healthz", token: nil).status == 200)
            let endResident = Self.residentKiB(service.process.pid)
            if let warmResident, let endResident {
                #expect(
                    endResident - warmResident < 32 * 1024,
                    "seed \(seed): resident set grew from \(warmResident) to \(endResident) KiB")
            }
            #expect(try await log.verify().isIntact)
            #expect(statuses.keys.contains(401) && statuses.keys.contains(200) && statuses.keys.contains(400), "\(statuses)")
        }
    }
}
