import AuditLog
import Foundation
import StreamModel
import TestSupport
import Testing

@testable import ReprocessorService

extension ServeTests {
    /// 10,000 generated requests against a running `serve`, sent byte for byte on raw connections:
    /// every route of the table, any method, the path as routed or spelt otherwise, query strings,
    /// bearer tokens and session cookies of every role, JSON, form and binary bodies, huge values.
    @Suite("serve: fuzzed requests")
    struct APIFuzzTests {
        static let reader = "fuzz-reader-token-0123456789"
        static let operator_ = "fuzz-operator-token-0123456789"

        /// One generated request.
        struct FuzzRequest: CustomStringConvertible {
            var method: String
            var target: String
            var headers: [(String, String)]
            var body: [UInt8]?
            var description: String {
                "\(method) \(target.prefix(160)) \(headers.map { "\($0.0): \($0.1.prefix(40))" }) body \(String(decoding: (body ?? []).prefix(80), as: UTF8.self))"
            }

            /// The request as sent: one request, then the connection closes.
            var bytes: [UInt8] {
                var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                for (name, value) in headers { head += "\(name): \(value)\r\n" }
                if let body { head += "Content-Length: \(body.count)\r\n" }
                return Array((head + "\r\n").utf8) + (body ?? [])
            }
        }

        /// What the generator draws from: the sessions' cookies and CSRF tokens, the change's id.
        struct Material: Sendable {
            var readCookie: String
            var operateCookie: String
            var csrf: String
            var changeID: Int
        }

        static let queryNames = [
            "status", "key", "event", "since", "until", "error", "errorEquals", "limit", "cursor", "at", "actor", "action",
            "format", "x",
        ]
        static let values = [
            "", "1", "0", "-1", "1000", "1001", "99999999999999999999", "pending", "parked,failed", "bogus", "MODIFY", "2h",
            "2026-11-24", "yesterday", "ARTIST#1", "%", "'; DROP TABLE actions; --", "<script>", "null", "q:1:2", "garbage",
            "1e-10", "NaN", "\u{1F3B8}", "1e300d", "-1e300s", "99999999999999999999d", "inf", "nan", "9223372036854775808",
            "1969-12-31T23:59:59Z", "10000-01-01", "-0", "csv", "ndjson", "2026-02-30T25:61:00Z", "9999999999d",
        ]
        static let jsonBodies = [
            "", "{}", "[]", "null", "not json", "{\"reason\":", #"{"ids": [1]}"#, #"{"ids": []}"#, #"{"ids": ["a"]}"#,
            #"{"ids": [1e300]}"#, #"{"ids": [-1, 0, 9223372036854775807]}"#, #"{"filter": {}}"#,
            #"{"filter": {"status": "nope"}}"#, #"{"filter": {"since": "1e300d"}}"#, #"{"rate": 1e-10}"#, #"{"rate": -1}"#,
            #"{"rate": 1e400}"#, #"{"rate": "fast"}"#, #"{"dryRun": "yes"}"#, #"{"force": true}"#, #"{"unknown": 1}"#,
            #"{"ids": [1], "filter": {"status": "parked"}}"#, #"{"reason": 42}"#, #"{"segments": 0}"#,
            #"{"segments": 1e9}"#, "{\"ids\": [1], \"dryRun\": true, \"rate\": 1000}",
            #"{"dryRun": true, "reason": "fuzz"}"#, String(repeating: "[", count: 5_000),
        ]

        static func percentEncoded(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        }

        static func randomText(_ random: inout SeededGenerator, length: ClosedRange<Int>) -> String {
            String(
                (0..<Int.random(in: length, using: &random)).map { _ in
                    Character(Unicode.Scalar(UInt8.random(in: 33...126, using: &random)))
                })
        }

        /// A path for `route`: its pattern with captures filled in, valid or not.
        static func path(_ route: Route, _ material: Material, _ random: inout SeededGenerator) -> String {
            let ids = ["\(material.changeID)", "0", "-1", "abc", "99999999999999999999", "1e3", "%20", "9223372036854775807"]
            let keys = ["ARTIST%231", "1", "%00", "ARTIST%23", "%E2%82%AC", String(repeating: "k", count: 2_000)]
            return route.path.replacingOccurrences(of: "{id}", with: ids.randomElement(using: &random)!)
                .replacingOccurrences(of: "{key}", with: keys.randomElement(using: &random)!)
                .replacingOccurrences(of: "{messageId}", with: keys.randomElement(using: &random)!)
        }

        /// `path` spelt otherwise: doubled slashes, dot segments, encoded dots and slashes, case.
        static func respelt(_ path: String, _ random: inout SeededGenerator) -> String {
            switch Int.random(in: 0..<8, using: &random) {
            case 0: "/" + path
            case 1: path + "/"
            case 2: path.replacingOccurrences(of: "/", with: "//")
            case 3: path.replacingOccurrences(of: "/v1/", with: "/v1/./").replacingOccurrences(of: "/ui/", with: "/ui/x/../")
            case 4: path.replacingOccurrences(of: "/", with: "%2F")
            case 5: path.uppercased()
            case 6: path.replacingOccurrences(of: "v", with: "%76")
            default:
                "/"
                    + (0..<Int.random(in: 1...4, using: &random)).map { _ in percentEncoded(randomText(&random, length: 0...12)) }
                    .joined(separator: "/")
            }
        }

        static func generate(_ random: inout SeededGenerator, _ material: Material) -> FuzzRequest {
            let route = RouteTable.all.randomElement(using: &random)!
            let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
            let method = Int.random(in: 0..<10, using: &random) < 7 ? "\(route.method)" : methods.randomElement(using: &random)!
            var target = path(route, material, &random)
            if Int.random(in: 0..<4, using: &random) == 0 { target = respelt(target, &random) }
            var query: [String] = []
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                var value = values.randomElement(using: &random)!
                if Int.random(in: 0..<50, using: &random) == 0 { value = String(repeating: "x", count: 8_000) }
                query.append("\(queryNames.randomElement(using: &random)!)=\(percentEncoded(value))")
            }
            if !query.isEmpty { target += "?" + query.joined(separator: "&") }

            var headers: [(String, String)] = []
            switch Int.random(in: 0..<6, using: &random) {
            case 0: headers.append(("Authorization", "Bearer \(reader)"))
            case 1, 2: headers.append(("Authorization", "Bearer \(operator_)"))
            case 3: headers.append(("Authorization", "Bearer \(randomText(&random, length: 0...64))"))
            case 4: headers.append(("Authorization", "Basic YWxpY2U6eA=="))
            default: break
            }
            switch Int.random(in: 0..<5, using: &random) {
            case 0: headers.append(("Cookie", material.readCookie))
            case 1, 2: headers.append(("Cookie", material.operateCookie))
            case 3: headers.append(("Cookie", "dlq_console_session=\(randomText(&random, length: 0...70)); dlq_console_login=x"))
            default: break
            }
            if Bool.random(using: &random) {
                let types = ["application/json", "application/x-www-form-urlencoded", "text/plain", "x/y"]
                headers.append(("Content-Type", types.randomElement(using: &random)!))
            }
            if Int.random(in: 0..<10, using: &random) == 0 { headers.append(("X-Fuzz", String(repeating: "h", count: 4_000))) }
            if Int.random(in: 0..<20, using: &random) == 0 { headers.append(("X-Forwarded-Proto", "https")) }

            var body: [UInt8]?
            if method != "GET", method != "HEAD", Int.random(in: 0..<4, using: &random) != 0 {
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<5: body = Array(jsonBodies.randomElement(using: &random)!.utf8)
                case 5..<8:
                    let commands = ["retry", "skip", "rollback", "resync", "explode", ""]
                    var fields = [
                        "csrf=\(Bool.random(using: &random) ? material.csrf : "wrong")",
                        "command=\(commands.randomElement(using: &random)!)",
                    ]
                    if Bool.random(using: &random) {
                        fields.append("id=\(["\(material.changeID)", "0", "x"].randomElement(using: &random)!)")
                    }
                    if Bool.random(using: &random) {
                        fields.append(
                            "f_\(queryNames.randomElement(using: &random)!)=\(percentEncoded(values.randomElement(using: &random)!))"
                        )
                    }
                    if Bool.random(using: &random) { fields.append("reason=fuzz") }
                    if Bool.random(using: &random) { fields.append("token=\(randomText(&random, length: 0...40))") }
                    body = Array(fields.joined(separator: "&").utf8)
                case 8:
                    body = (0..<Int.random(in: 0...512, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                default:
                    // Over the 64 KiB limit: 413, and the connection closes.
                    body = Array(repeating: UInt8(ascii: "r"), count: Int.random(in: 65_537...300_000, using: &random))
                }
            }
            return FuzzRequest(method: method, target: target, headers: headers, body: body)
        }

        static func residentKiB(_ pid: Int32) -> Int? {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
            else { return nil }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }

        @Test("10,000 generated requests on every route: no 5xx (but a not-ready /readyz), the process alive, memory flat")
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
            let changeID = try #require(
                try await service.get("/v1/changes", token: Self.reader).json?["changes"]?[0]?["id"]?.intValue)
            let readBrowser = ConsoleBrowser(baseURL: service.baseURL)
            _ = try await readBrowser.logIn(Self.reader)
            let operateBrowser = ConsoleBrowser(baseURL: service.baseURL)
            _ = try await operateBrowser.logIn(Self.operator_)
            let material = Material(
                readCookie: "dlq_console_session=\(readBrowser.cookies["dlq_console_session"] ?? "")",
                operateCookie: "dlq_console_session=\(operateBrowser.cookies["dlq_console_session"] ?? "")",
                csrf: try ConsoleBrowser.csrf(in: try await operateBrowser.get("/ui/changes").body), changeID: changeID)
            let port = try #require(Int(service.baseURL.split(separator: ":").last ?? ""))
            let pid = service.process.pid

            let total = 10_000
            let requests = (0..<total).map { _ in Self.generate(&random, material) }
            let (failures, statuses, warm) = try await RawHTTPConnection.blocking {
                () -> ([String], [Int: Int], Int?) in
                var failures: [String] = []
                var statuses: [Int: Int] = [:]
                var warm: Int?
                for (index, request) in requests.enumerated() {
                    let connection: RawHTTPConnection
                    do {
                        connection = try RawHTTPConnection(port: port)
                    } catch {
                        failures.append("request \(index): \(error), after \(requests[max(0, index - 1)])")
                        break
                    }
                    do {
                        try connection.send(request.bytes)
                    } catch {
                        // The server may answer and close before an oversized or malformed request is all sent.
                    }
                    let (text, closed) = connection.readUntilClosed()
                    let status = Int(text.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0
                    statuses[status, default: 0] += 1
                    let notReady = status == 503 && request.target.hasPrefix("/readyz")
                    if status == 0 || (status >= 500 && !notReady) || !closed {
                        failures.append("request \(index): \(request) → \(closed ? "" : "(not closed) ")\(text.prefix(300))")
                    }
                    if index == 1_000 { warm = Self.residentKiB(pid) }
                }
                return (failures, statuses, warm)
            }
            #expect(
                failures.isEmpty,
                "seed \(seed): \(failures.count) failures:\n\(failures.prefix(20).joined(separator: "\n"))\nservice: \(service.process.recentOutput.suffix(15).joined(separator: "\n"))"
            )
            #expect(service.process.isRunning, "seed \(seed)")
            #expect(try await service.get("/healthz", token: nil).status == 200)
            if let warm, let end = Self.residentKiB(pid) {
                #expect(end - warm < 32 * 1024, "seed \(seed): resident set grew from \(warm) to \(end) KiB")
            }
            let log = try AuditLog(path: world.auditDatabasePath)
            #expect(try await log.verify().isIntact)
            for status in [200, 303, 400, 401, 403, 404, 413] {
                #expect(statuses.keys.contains(status), "seed \(seed): no \(status) among \(statuses.sorted { $0.key < $1.key })")
            }
        }
    }
}
