import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// Credentials for a role assumed with a web identity token (EKS IAM roles for service
/// accounts): STS `AssumeRoleWithWebIdentity` with the token read from a file at each
/// fetch (the platform rotates it). The call is not signed: the token is the proof.
public struct WebIdentityCredentialSource: AWSCredentialSource {
    /// The token file (`AWS_WEB_IDENTITY_TOKEN_FILE`).
    public let tokenFile: String
    /// The role to assume (`AWS_ROLE_ARN`).
    public let roleARN: String
    /// The session name (`AWS_ROLE_SESSION_NAME`, else `dlq-reprocessor-<time>`).
    public let sessionName: String
    /// STS's endpoint.
    public let stsEndpoint: URL
    let httpClient: HTTPClient

    /// `web identity`.
    public var name: String { "web identity" }

    /// A source assuming `roleARN` through STS at `stsEndpoint`.
    /// - Parameters:
    ///   - tokenFile: The token file.
    ///   - roleARN: The role.
    ///   - sessionName: The session name.
    ///   - stsEndpoint: STS's base URL.
    ///   - httpClient: The HTTP client.
    public init(tokenFile: String, roleARN: String, sessionName: String, stsEndpoint: URL, httpClient: HTTPClient = .shared) {
        self.tokenFile = tokenFile
        self.roleARN = roleARN
        self.sessionName = sessionName
        self.stsEndpoint = stsEndpoint
        self.httpClient = httpClient
    }

    /// Assumes the role.
    /// - Throws: ``AWSError`` ``AWSError/Code/credentials`` with STS's error code and message,
    ///   or naming the unreadable token file; never the token.
    public func fetch() async throws(AWSError) -> AWSCredentials {
        let operation = "AssumeRoleWithWebIdentity"
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw CredentialHTTP.failure(name, operation, "cannot read the web identity token file \(tokenFile)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let form = [
            ("Action", operation), ("Version", "2011-06-15"), ("RoleArn", roleARN), ("RoleSessionName", sessionName),
            ("WebIdentityToken", token),
        ]
        .map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
        .joined(separator: "&")
        let response = try await CredentialHTTP.send(
            .POST, stsEndpoint.absoluteString, headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(form.utf8), source: name, operation: operation, timeout: .seconds(30), httpClient: httpClient)
        guard response.status == 200 else {
            let code = Self.xmlText("Code", in: response.body) ?? "HTTP \(response.status)"
            let message = Self.xmlText("Message", in: response.body).map { ": \($0)" } ?? ""
            throw AWSError(
                code: .credentials, service: "STS", operation: operation, statusCode: response.status, type: code,
                message: "assuming \(roleARN) was refused\(message)", requestID: Self.xmlText("RequestId", in: response.body))
        }
        guard let keyID = Self.xmlText("AccessKeyId", in: response.body),
            let secret = Self.xmlText("SecretAccessKey", in: response.body),
            let sessionToken = Self.xmlText("SessionToken", in: response.body)
        else {
            throw CredentialHTTP.failure("STS", operation, "the answer has no AccessKeyId, SecretAccessKey and SessionToken")
        }
        return AWSCredentials(
            accessKeyID: keyID, secretAccessKey: secret, sessionToken: sessionToken,
            expiration: Self.xmlText("Expiration", in: response.body).flatMap(CredentialHTTP.time))
    }

    /// The unescaped text of the first `<name>…</name>` of STS's XML answer.
    static func xmlText(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"),
            let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex)
        else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
