import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

/// A world for the console's tests: artist 1 applied, artists 2 and 3 parked by a mapping error
/// (artist 3 named like a script), a quarantined message full of HTML; then the mapping fixed and
/// `serve` started with an operator (`alice`) and a reader (`rita`).
struct ConsoleFixture {
    static let operatorToken = "alice-console-token-0123456789"
    static let readerToken = "rita-console-token-abcdefghijk"
    static let tokens = ["OPERATOR_TOKENS": "alice:operate:\(operatorToken),rita:read:\(readerToken)"]
    static let scriptName = "<script>alert(1)</script>"
    static let htmlBody = #"<html><body><img src=x onerror="alert(2)"><b>bold</b><script>alert(3)</script></body></html>"#

    let world: ReprocessorWorld
    let service: RunningService

    /// Seeds the world through the command line, then starts `serve` with `environment` added.
    static func start(environment: [String: String] = [:]) async throws -> ConsoleFixture {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("1", name: "Ada Applied")
        let first = try await world.streamRecords()
        try await world.send([world.failedBatchBody(first, requestID: "applied")])
        let applied = try await world.cli("run", "--once")
        #expect(applied.status == 0, "\(applied)")

        try await world.openSearchServer.fixtures.refuseArtistDocuments(index: world.index)
        try await world.putArtist("2", name: "Bea Parked")
        try await world.putArtist("3", name: scriptName)
        let records = try await world.streamRecords()
        try await world.send([world.failedBatchBody(Array(records[first.count...]), requestID: "parked"), htmlBody])
        let parked = try await world.cli("run", "--once", "--max-attempts", "1")
        #expect(parked.status == 3, "two changes parked: \(parked)")
        try await world.openSearchServer.fixtures.recreateIndex(world.index)

        let service = try await RunningService.start(
            world, environment: tokens.merging(environment) { $1 }, withReader: false)
        return ConsoleFixture(world: world, service: service)
    }

    /// The id of the change to artist `id`.
    func changeID(artist id: String) async throws -> Int64 {
        let (_, list) = try await world.cliJSON("list", "--key", id)
        return Int64(try #require(list?["changes"]?[0]?["id"]?.intValue))
    }
}

/// A browser-like client of the console: keeps its cookies, does not follow redirects, sends forms.
final class ConsoleBrowser {
    let baseURL: String
    private(set) var cookies: [String: String] = [:]

    /// One client for every test, alive as long as the test process.
    private static let client = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    init(baseURL: String) {
        self.baseURL = baseURL
    }

    /// Sends a request with the kept cookies and keeps the ones the answer sets.
    func send(_ method: HTTPMethod, _ path: String, form: [(String, String)]? = nil, headers: [(String, String)] = [])
        async throws -> HTTPAnswer
    {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if !cookies.isEmpty {
            request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let form {
            let encoded = form.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: encoded))
        }
        let response = try await Self.client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        for header in response.headers["Set-Cookie"] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { continue }
            if header.contains("Max-Age=0") {
                cookies[String(pair[0])] = nil
            } else {
                cookies[String(pair[0])] = String(pair[1])
            }
        }
        return HTTPAnswer(
            status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type") ?? "",
            headers: response.headers, body: String(buffer: bytes))
    }

    func get(_ path: String) async throws -> HTTPAnswer { try await send(.GET, path) }

    func post(_ path: String, _ form: [(String, String)], headers: [(String, String)] = []) async throws -> HTTPAnswer {
        try await send(.POST, path, form: form, headers: headers)
    }

    /// Logs in with `token` through the login form.
    func logIn(_ token: String, headers: [(String, String)] = []) async throws -> HTTPAnswer {
        let page = try await get("/ui/login")
        return try await post("/ui/login", [("csrf", try Self.csrf(in: page.body)), ("token", token)], headers: headers)
    }

    /// The CSRF token of the first form in `html`.
    static func csrf(in html: String) throws -> String {
        let marker = #"name="csrf" value=""#
        let start = try #require(html.range(of: marker), "no CSRF field in the page").upperBound
        return String(html[start...].prefix { $0 != "\"" })
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}
