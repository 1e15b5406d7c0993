import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// Credentials from the container's credentials endpoint (ECS, EKS Pod Identity):
/// `GET` the endpoint with the authorization token, answered with
/// `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}`.
public struct ContainerCredentialSource: AWSCredentialSource {
    /// The endpoint: `AWS_CONTAINER_CREDENTIALS_FULL_URI`, or
    /// `http://169.254.170.2` + `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
    public let url: URL
    /// The `Authorization` value (`AWS_CONTAINER_AUTHORIZATION_TOKEN`), if any.
    let authorizationToken: String?
    /// A file holding the `Authorization` value (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`),
    /// read at each fetch since it is rotated; it wins over ``authorizationToken``.
    let authorizationTokenFile: String?
    /// How long the call may take.
    let timeout: Duration
    let httpClient: HTTPClient

    /// `container credentials`.
    public var name: String { "container credentials" }

    /// Hosts an `http` full URI may name: loopback, and the ECS and EKS endpoints (as the AWS SDKs allow).
    static let allowedHTTPHosts: Set<String> = ["localhost", "169.254.170.2", "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]"]

    /// A source for `url`.
    /// - Parameters:
    ///   - url: The credentials endpoint.
    ///   - authorizationToken: The `Authorization` header value, if any.
    ///   - authorizationTokenFile: A file holding it (wins over `authorizationToken`).
    ///   - timeout: How long the call may take.
    ///   - httpClient: The HTTP client.
    /// - Throws: ``AWSError`` ``AWSError/Code/configuration`` for an `http` URL whose host is
    ///   not loopback or the container endpoints (a token must not travel in clear elsewhere).
    public init(
        url: URL, authorizationToken: String? = nil, authorizationTokenFile: String? = nil, timeout: Duration = .seconds(5),
        httpClient: HTTPClient = .shared
    ) throws(AWSError) {
        let host = url.host()?.lowercased() ?? ""
        let loopback = host.hasPrefix("127.") || host == "::1" || host == "[::1]"
        guard
            url.scheme?.lowercased() == "https"
                || (url.scheme?.lowercased() == "http" && (loopback || Self.allowedHTTPHosts.contains(host)))
        else {
            throw AWSConfiguration.configurationError(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback or container endpoint address, not \(host)"
            )
        }
        self.url = url
        self.authorizationToken = authorizationToken
        self.authorizationTokenFile = authorizationTokenFile
        self.timeout = timeout
        self.httpClient = httpClient
    }

    /// Fetches the credentials.
    /// - Throws: ``AWSError`` ``AWSError/Code/credentials`` naming the status or the unreadable token file.
    public func fetch() async throws(AWSError) -> AWSCredentials {
        var token = authorizationToken
        if let authorizationTokenFile {
            guard let data = FileManager.default.contents(atPath: authorizationTokenFile) else {
                throw CredentialHTTP.failure(name, "GET", "cannot read the authorization token file \(authorizationTokenFile)")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let token, token.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw CredentialHTTP.failure(name, "GET", "the authorization token holds a line break")
        }
        let response = try await CredentialHTTP.send(
            .GET, url.absoluteString, headers: token.map { [("Authorization", $0)] } ?? [], source: name, operation: "GET",
            timeout: timeout, httpClient: httpClient)
        guard response.status == 200 else {
            throw CredentialHTTP.failure(name, "GET", "the endpoint answered HTTP \(response.status)", status: response.status)
        }
        return try CredentialHTTP.credentials(fromJSON: response.body, source: name, operation: "GET")
    }
}
