import Foundation
import Testing

@testable import AWSClients

/// One case of the AWS SigV4 test suite (Fixtures/aws-sig-v4-test-suite, Apache 2.0, see its NOTICE).
struct SigV4SuiteCase: Sendable, CustomStringConvertible {
    let name: String
    let method: String
    let path: String
    let query: String
    let headers: [(name: String, value: String)]
    let body: [UInt8]
    let canonicalRequest: String
    let stringToSign: String
    let authorization: String

    var description: String { name }

    static let suiteDirectory = Bundle.module.resourceURL!
        .appendingPathComponent("Fixtures/aws-sig-v4-test-suite", isDirectory: true)

    /// Every case directory holding a `.req`, found recursively (normalize-path and post-sts-token nest them).
    static func all() throws -> [SigV4SuiteCase] {
        let enumerator = FileManager.default.enumerator(at: suiteDirectory, includingPropertiesForKeys: nil)
        var cases: [SigV4SuiteCase] = []
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "req" else { continue }
            cases.append(
                try load(name: url.deletingPathExtension().lastPathComponent, directory: url.deletingLastPathComponent()))
        }
        return cases.sorted { $0.name < $1.name }
    }

    /// Parses `<name>.req`: request line, headers (a line starting with
    /// whitespace continues the previous header as another value), blank line, body.
    static func load(name: String, directory: URL) throws -> SigV4SuiteCase {
        func read(_ suffix: String) throws -> String {
            try String(contentsOf: directory.appendingPathComponent("\(name).\(suffix)"), encoding: .utf8)
        }
        let request = try read("req")
        let (head, body): (Substring, Substring) =
            if let blank = request.range(of: "\n\n") {
                (request[..<blank.lowerBound], request[blank.upperBound...])
            } else {
                (request[...], "")
            }
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count)
        let (path, query): (Substring, Substring) =
            if let question = target.firstIndex(of: "?") {
                (target[..<question], target[target.index(after: question)...])
            } else {
                (target, "")
            }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            if line.first == " " || line.first == "\t", let previous = headers.last {
                headers.append((name: previous.name, value: String(line)))
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
            }
        }
        return SigV4SuiteCase(
            name: name, method: method, path: String(path), query: String(query), headers: headers,
            body: Array(body.utf8), canonicalRequest: try read("creq"), stringToSign: try read("sts"),
            authorization: try read("authz"))
    }
}

@Suite("SigV4 signer")
struct SigV4SignerTests {
    /// The suite's key, region, service and time (20150830T123600Z).
    static let suiteCredentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)
    static let sessionToken =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    @Test("the suite's date formats as its X-Amz-Date")
    func suiteDate() {
        #expect(SigV4Signer.timestamp(Self.suiteDate) == "20150830T123600Z")
        #expect(SigV4Signer.day(Self.suiteDate) == "20150830")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 951_825_599)) == "20000229T115959Z")
    }

    @Test("the fixture folder holds every case the brief lists")
    func caseList() throws {
        let names = Set(try SigV4SuiteCase.all().map(\.name))
        let expected: Set<String> = [
            "get-vanilla", "get-vanilla-query", "get-vanilla-query-order-key", "get-vanilla-query-order-key-case",
            "get-vanilla-query-order-value", "get-vanilla-query-unreserved", "get-vanilla-empty-query-key",
            "get-unreserved", "get-utf8", "get-vanilla-utf8-query", "get-header-key-duplicate",
            "get-header-value-order", "get-header-value-trim", "get-header-value-multiline", "get-relative",
            "get-relative-relative", "get-slash", "get-slash-dot-slash", "get-slash-pointless-dot", "get-slashes",
            "get-space", "post-header-key-case", "post-header-key-sort", "post-header-value-case", "post-vanilla",
            "post-vanilla-empty-query-value", "post-vanilla-query", "post-x-www-form-urlencoded",
            "post-x-www-form-urlencoded-parameters", "post-sts-header-before", "post-sts-header-after",
        ]
        #expect(names == expected)
    }

    /// The `.sts` and `.authz` of two cases were generated from an older request than their `.req`
    /// (their `.sreq` shows it): without `Content-Length`, and for -parameters with `charset=utf8`.
    /// Their `.creq` does match the `.req`, so the canonical request is checked against the `.req`
    /// and the string to sign and signature against the request they were really computed from.
    /// The -parameters `.authz` also lists `content-length` in SignedHeaders although its
    /// signature does not cover it, so only its signature is compared.
    static func signedRequestHeaders(for suiteCase: SigV4SuiteCase) -> (
        headers: [(name: String, value: String)], wholeAuthorization: Bool
    ) {
        let withoutLength = suiteCase.headers.filter { $0.name.lowercased() != "content-length" }
        switch suiteCase.name {
        case "post-x-www-form-urlencoded":
            return (withoutLength, true)
        case "post-x-www-form-urlencoded-parameters":
            return (
                withoutLength.map {
                    $0.name.lowercased() == "content-type"
                        ? (name: $0.name, value: "application/x-www-form-urlencoded; charset=utf8") : $0
                }, false
            )
        default:
            return (suiteCase.headers, true)
        }
    }

    @Test("canonical request, string to sign and authorization match the suite", arguments: try SigV4SuiteCase.all())
    func suiteCase(_ suiteCase: SigV4SuiteCase) {
        // post-sts-header-before signs the token; -after adds it only after signing, so it signs without one.
        let credentials =
            suiteCase.name == "post-sts-header-before"
            ? AWSCredentials(
                accessKeyID: Self.suiteCredentials.accessKeyID,
                secretAccessKey: Self.suiteCredentials.secretAccessKey, sessionToken: Self.sessionToken)
            : Self.suiteCredentials
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        func sign(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
            signer.sign(
                method: suiteCase.method, path: suiteCase.path, query: suiteCase.query,
                headers: headers.filter { !["x-amz-date", "x-amz-security-token"].contains($0.name.lowercased()) },
                body: suiteCase.body, date: Self.suiteDate)
        }
        func canonical(_ signed: [(name: String, value: String)]) -> SigV4Signer.CanonicalRequest {
            SigV4Signer.canonicalRequest(
                method: suiteCase.method, path: suiteCase.path, query: suiteCase.query,
                headers: signed.filter { $0.name != "authorization" }, payloadHash: SigV4Signer.hexSHA256(suiteCase.body))
        }
        #expect(canonical(sign(suiteCase.headers)).text == suiteCase.canonicalRequest)

        let (headers, wholeAuthorization) = Self.signedRequestHeaders(for: suiteCase)
        let signed = sign(headers)
        #expect(signer.stringToSign(canonicalRequest: canonical(signed), date: Self.suiteDate) == suiteCase.stringToSign)
        #expect(signed.last?.name == "authorization")
        let authorization = signed.last?.value ?? ""
        if wholeAuthorization {
            #expect(authorization == suiteCase.authorization)
        } else {
            #expect(
                authorization.split(separator: "Signature=").last == suiteCase.authorization.split(separator: "Signature=").last)
        }
    }

    @Test("signing a URL adds host, x-amz-date and authorization and matches the suite")
    func signURL() throws {
        let suiteCase = try #require(try SigV4SuiteCase.all().first { $0.name == "get-vanilla-query-order-key-case" })
        let signer = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
        let url = try #require(URL(string: "https://example.amazonaws.com/?Param2=value2&Param1=value1"))
        let signed = signer.sign(method: "GET", url: url, headers: [], body: [], date: Self.suiteDate)
        #expect(signed.map(\.name) == ["host", "x-amz-date", "authorization"])
        #expect(signed.first?.value == "example.amazonaws.com")
        #expect(signed[1].value == "20150830T123600Z")
        #expect(signed.last?.value == suiteCase.authorization)
    }

    @Test("a session token and the content hash header are sent and signed")
    func sessionTokenAndContentHash() throws {
        let credentials = AWSCredentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            sessionToken: "token-value")
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-2", service: "es")
        let url = try #require(URL(string: "http://127.0.0.1:9200/artists/_doc/1"))
        let body = Array(#"{"a":1}"#.utf8)
        let signed = signer.sign(
            method: "PUT", url: url, headers: [(name: "Content-Type", value: "application/json")], body: body,
            date: Self.suiteDate, addContentSHA256Header: true)
        let byName = Dictionary(signed.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        #expect(byName["host"] == "127.0.0.1:9200")
        #expect(byName["x-amz-security-token"] == "token-value")
        #expect(byName["x-amz-content-sha256"] == SigV4Signer.hexSHA256(body))
        let authorization = try #require(byName["authorization"])
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-2/es/aws4_request, "))
        #expect(
            authorization.contains(
                "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="))
        #expect(!authorization.contains(credentials.secretAccessKey))
    }

    @Test("host headers keep non-default ports only")
    func hostHeader() throws {
        #expect(
            SigV4Signer.hostHeader(for: try #require(URL(string: "https://sqs.eu-west-2.amazonaws.com/")))
                == "sqs.eu-west-2.amazonaws.com")
        #expect(SigV4Signer.hostHeader(for: try #require(URL(string: "https://h.example:443/"))) == "h.example")
        #expect(SigV4Signer.hostHeader(for: try #require(URL(string: "http://h.example:80/"))) == "h.example")
        #expect(SigV4Signer.hostHeader(for: try #require(URL(string: "http://127.0.0.1:5000/"))) == "127.0.0.1:5000")
    }

    @Test("an already percent-encoded path is encoded again, as non-S3 services expect")
    func doubleEncodedWirePath() throws {
        #expect(SigV4Signer.canonicalURI("/artists/_doc/a%2Fb") == "/artists/_doc/a%252Fb")
        #expect(SigV4Signer.canonicalURI("/artists/_doc/ARTIST%2342") == "/artists/_doc/ARTIST%252342")
        #expect(SigV4Signer.canonicalURI("") == "/")
        #expect(SigV4Signer.canonicalQuery("b=2&a=x%20y&a=1&flag") == "a=1&a=x%20y&b=2&flag=")
    }

    @Test("the same request signed with another secret gets another signature")
    func secretMatters() throws {
        let url = try #require(URL(string: "https://example.amazonaws.com/"))
        let first = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
            .sign(method: "GET", url: url, headers: [], body: [], date: Self.suiteDate)
        let second = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "other"), region: "us-east-1",
            service: "service"
        ).sign(method: "GET", url: url, headers: [], body: [], date: Self.suiteDate)
        #expect(first.last?.value != second.last?.value)
    }

    @Test("credentials never show the secret or the token")
    func credentialsRedacted() {
        let credentials = AWSCredentials(accessKeyID: "AKIDVISIBLE", secretAccessKey: "s3cr3t-VALUE", sessionToken: "t0k3n-VALUE")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, String(reflecting: credentials), "\(credentials)", dumped] {
            #expect(text.contains("AKIDVISIBLE"))
            #expect(!text.contains("s3cr3t-VALUE"))
            #expect(!text.contains("t0k3n-VALUE"))
        }
    }
}
