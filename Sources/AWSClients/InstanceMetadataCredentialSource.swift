import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// Credentials of the EC2 instance's role, from the instance metadata service with IMDSv2
/// session tokens: `PUT /latest/api/token`, then with that token
/// `GET /latest/meta-data/iam/security-credentials/` (the role name) and
/// `GET /latest/meta-data/iam/security-credentials/<role>`.
public struct InstanceMetadataCredentialSource: AWSCredentialSource {
    /// The service's base URL: `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else `http://169.254.169.254`.
    public let endpoint: URL
    let httpClient: HTTPClient
    /// How long each metadata call may take (the service is local; off EC2 it does not answer).
    let timeout: Duration

    /// `instance metadata`.
    public var name: String { "instance metadata" }

    /// `http://169.254.169.254`.
    public static let defaultEndpoint = URL(string: "http://169.254.169.254")!

    /// A source for the metadata service at `endpoint`.
    /// - Parameters:
    ///   - endpoint: The service's base URL.
    ///   - timeout: How long each call may take.
    ///   - httpClient: The HTTP client.
    public init(
        endpoint: URL = defaultEndpoint, timeout: Duration = .seconds(2), httpClient: HTTPClient = .shared
    ) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.httpClient = httpClient
    }

    /// Fetches the role's credentials.
    /// - Throws: ``AWSError`` ``AWSError/Code/credentials`` naming the step that failed.
    public func fetch() async throws(AWSError) -> AWSCredentials {
        let base = endpoint.absoluteString.hasSuffix("/") ? String(endpoint.absoluteString.dropLast()) : endpoint.absoluteString
        let tokenResponse = try await CredentialHTTP.send(
            .PUT, base + "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], source: name,
            operation: "PUT /latest/api/token", timeout: timeout, httpClient: httpClient)
        guard tokenResponse.status == 200, !tokenResponse.body.isEmpty else {
            throw CredentialHTTP.failure(
                name, "PUT /latest/api/token", "no IMDSv2 session token (HTTP \(tokenResponse.status))",
                status: tokenResponse.status)
        }
        let session = [("X-aws-ec2-metadata-token", tokenResponse.body.trimmingCharacters(in: .whitespacesAndNewlines))]
        let rolePath = "/latest/meta-data/iam/security-credentials/"
        let roles = try await CredentialHTTP.send(
            .GET, base + rolePath, headers: session, source: name, operation: "GET \(rolePath)", timeout: timeout,
            httpClient: httpClient)
        guard roles.status == 200,
            let role = roles.body.split(whereSeparator: \.isNewline).first.map(String.init),
            !role.isEmpty, role.allSatisfy({ $0.isLetter || $0.isNumber || "+=,.@_-".contains($0) })
        else {
            throw CredentialHTTP.failure(
                name, "GET \(rolePath)", "the instance has no IAM role (HTTP \(roles.status))", status: roles.status)
        }
        let response = try await CredentialHTTP.send(
            .GET, base + rolePath + role, headers: session, source: name, operation: "GET \(rolePath)\(role)",
            timeout: timeout, httpClient: httpClient)
        guard response.status == 200 else {
            throw CredentialHTTP.failure(
                name, "GET \(rolePath)\(role)", "the role's credentials were refused (HTTP \(response.status))",
                status: response.status)
        }
        return try CredentialHTTP.credentials(fromJSON: response.body, source: name, operation: "GET \(rolePath)\(role)")
    }
}
