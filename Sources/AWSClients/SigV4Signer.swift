import Crypto
import Foundation

/// Signs HTTP requests with AWS Signature Version 4 (header signing).
///
/// Follows the AWS SigV4 test suite: the path on the request line is
/// normalised (dot segments removed, repeated slashes collapsed) and each
/// byte outside the unreserved set is percent-encoded once. A path that is
/// already percent-encoded on the wire (`/a%2Fb`) is therefore encoded again
/// (`/a%252Fb`), which is what every AWS service except S3 expects.
/// Query parameters are decoded, re-encoded and sorted; header names are
/// lower-cased, values trimmed with inner whitespace runs collapsed, and
/// repeated headers joined with commas in the order given.
public struct SigV4Signer: Sendable {
    /// The key pair (and session token) that signs.
    public let credentials: AWSCredentials
    /// The region in the credential scope, such as `eu-west-2`.
    public let region: String
    /// The signing name of the service, such as `sqs`, `dynamodb` or `es`.
    public let service: String

    /// Creates a signer for one service in one region.
    /// - Parameters:
    ///   - credentials: The key pair that signs.
    ///   - region: The region of the credential scope.
    ///   - service: The service's signing name (`es` for OpenSearch, `dynamodb` for DynamoDB Streams too).
    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Signs a request.
    ///
    /// - Parameters:
    ///   - method: The HTTP method, such as `POST`.
    ///   - url: The full request URL; its percent-encoded path and query are signed.
    ///   - headers: The headers that will be sent; all of them are signed.
    ///     A `host`, `x-amz-date` or `authorization` header given here is replaced.
    ///   - body: The exact body bytes.
    ///   - date: The signing time.
    ///   - addContentSHA256Header: Also send (and sign) `x-amz-content-sha256`.
    /// - Returns: The headers to send: the input headers plus `host` (if
    ///   missing), `x-amz-date`, `x-amz-content-sha256` (when asked),
    ///   `x-amz-security-token` (with a session token) and `authorization`.
    public func sign(
        method: String, url: URL, headers: [(name: String, value: String)], body: [UInt8], date: Date,
        addContentSHA256Header: Bool = false
    ) -> [(name: String, value: String)] {
        var headers = headers
        if !headers.contains(where: { $0.name.lowercased() == "host" }) {
            headers.insert((name: "host", value: Self.hostHeader(for: url)), at: 0)
        }
        let path = url.path(percentEncoded: true)
        return sign(
            method: method, path: path.isEmpty ? "/" : path, query: url.query(percentEncoded: true) ?? "",
            headers: headers, body: body, date: date, addContentSHA256Header: addContentSHA256Header)
    }

    /// Signs a request given its request-line path and raw query (the form
    /// the test suite's `.req` files use). `headers` must include `host`.
    func sign(
        method: String, path: String, query: String, headers: [(name: String, value: String)], body: [UInt8],
        date: Date, addContentSHA256Header: Bool = false
    ) -> [(name: String, value: String)] {
        let replaced: Set<String> = ["x-amz-date", "authorization", "x-amz-security-token", "x-amz-content-sha256"]
        var signed = headers.filter { !replaced.contains($0.name.lowercased()) }
        let payloadHash = Self.hexSHA256(body)
        let timestamp = Self.timestamp(date)
        signed.append((name: "x-amz-date", value: timestamp))
        if addContentSHA256Header {
            signed.append((name: "x-amz-content-sha256", value: payloadHash))
        }
        if let token = credentials.sessionToken {
            signed.append((name: "x-amz-security-token", value: token))
        }
        let canonical = Self.canonicalRequest(
            method: method, path: path, query: query, headers: signed, payloadHash: payloadHash)
        let authorization = authorization(canonicalRequest: canonical, date: date)
        return signed + [(name: "authorization", value: authorization)]
    }

    /// The `Authorization` header value for a canonical request.
    func authorization(canonicalRequest: CanonicalRequest, date: Date) -> String {
        let toSign = stringToSign(canonicalRequest: canonicalRequest, date: date)
        let signature = HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: signingKey(date: date))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(credentialScope(date: date)), "
            + "SignedHeaders=\(canonicalRequest.signedHeaders), Signature=\(Self.hex(signature))"
    }

    /// The string to sign: algorithm, timestamp, scope and the canonical request's hash.
    func stringToSign(canonicalRequest: CanonicalRequest, date: Date) -> String {
        [
            "AWS4-HMAC-SHA256",
            Self.timestamp(date),
            credentialScope(date: date),
            Self.hexSHA256(Array(canonicalRequest.text.utf8)),
        ].joined(separator: "\n")
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    func credentialScope(date: Date) -> String {
        "\(Self.day(date))/\(region)/\(service)/aws4_request"
    }

    /// HMAC chain `AWS4<secret>` → day → region → service → `aws4_request`.
    func signingKey(date: Date) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [Self.day(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// A canonical request and the list of headers it signs.
    struct CanonicalRequest: Equatable {
        /// The six lines joined with newlines.
        var text: String
        /// Lower-cased, sorted header names joined with `;`.
        var signedHeaders: String
    }

    /// Builds the canonical request.
    /// - Parameters:
    ///   - path: The path as on the request line (raw or percent-encoded).
    ///   - query: The query as on the request line, without `?`.
    ///   - headers: Every header to sign, in the order sent.
    ///   - payloadHash: Hex SHA-256 of the body.
    static func canonicalRequest(
        method: String, path: String, query: String, headers: [(name: String, value: String)], payloadHash: String
    ) -> CanonicalRequest {
        var grouped: [String: [String]] = [:]
        for header in headers {
            grouped[header.name.lowercased(), default: []].append(canonicalHeaderValue(header.value))
        }
        let names = grouped.keys.sorted()
        let headerLines = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let text = [
            method.uppercased(),
            canonicalURI(path),
            canonicalQuery(query),
            headerLines,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        return CanonicalRequest(text: text, signedHeaders: signedHeaders)
    }

    /// Normalises the path (RFC 3986 dot segments, repeated slashes) and
    /// percent-encodes every byte outside the unreserved set, keeping `/`.
    static func canonicalURI(_ path: String) -> String {
        var segments: [Substring] = []
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for part in parts {
            switch part {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(part)
            }
        }
        let trailingSlash = path.hasSuffix("/") || parts.last == "." || parts.last == ".."
        var uri = "/" + segments.map { percentEncode(String($0)) }.joined(separator: "/")
        if trailingSlash && !segments.isEmpty { uri += "/" }
        return uri
    }

    /// Decodes each name and value, re-encodes them and sorts by name, then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { parameter in
            let name: Substring
            let value: Substring
            if let equals = parameter.firstIndex(of: "=") {
                name = parameter[..<equals]
                value = parameter[parameter.index(after: equals)...]
            } else {
                name = parameter
                value = ""
            }
            return (percentEncode(percentDecode(name)), percentEncode(percentDecode(value)))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Trims the value and collapses each run of spaces and tabs to one space.
    static func canonicalHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// Percent-encodes every UTF-8 byte except the RFC 3986 unreserved `A-Z a-z 0-9 - . _ ~`,
    /// as SigV4 canonical requests (and safe URL path segments) want.
    /// - Parameter text: Any text.
    /// - Returns: The encoded text, with upper-case hex digits.
    public static func percentEncode(_ text: String) -> String {
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + hexDigits(byte).uppercased()
            }
        }
        return encoded
    }

    /// Decodes `%XX` escapes (and `+` stays `+`); malformed escapes are kept as text.
    static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let high = hexValue(utf8[utf8.startIndex]), let low = hexValue(utf8[utf8.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `host` or `host:port` when the port is not the scheme's default.
    static func hostHeader(for url: URL) -> String {
        let host = url.host(percentEncoded: false) ?? ""
        guard let port = url.port else { return host }
        switch (url.scheme?.lowercased(), port) {
        case ("https", 443), ("http", 80): return host
        default: return "\(host):\(port)"
        }
    }

    /// Lower-case hex SHA-256 of `bytes`.
    static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map(hexDigits).joined()
    }

    private static let lowerHexDigits = Array("0123456789abcdef")

    private static func hexDigits(_ byte: UInt8) -> String {
        String([lowerHexDigits[Int(byte >> 4)], lowerHexDigits[Int(byte & 0x0F)]])
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let dayNumber = secondOfDay < 0 ? days - 1 : days
        let second = secondOfDay < 0 ? secondOfDay + 86_400 : secondOfDay
        let (year, month, day) = civilDate(daysSinceEpoch: dayNumber)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", year, month, day, second / 3600, second / 60 % 60, second % 60)
    }

    /// `yyyyMMdd` in UTC.
    static func day(_ date: Date) -> String {
        String(timestamp(date).prefix(8))
    }

    /// Proleptic Gregorian year, month and day of a day count from 1970-01-01
    /// (Howard Hinnant's `civil_from_days`).
    private static func civilDate(daysSinceEpoch: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
