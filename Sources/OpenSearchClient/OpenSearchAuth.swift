import AWSClients
import Foundation

/// How requests to the cluster are authenticated.
///
/// Its description and mirror never show a password or secret key.
public enum OpenSearchAuth: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// No authentication (a local or VPC-internal cluster).
    case none
    /// HTTP basic authentication (the security plugin's internal users).
    case basic(username: String, password: String)
    /// AWS Signature Version 4 for Amazon OpenSearch Service (signing name `es`),
    /// with `x-amz-content-sha256` sent and signed, with the provider's current credentials.
    case sigV4(credentials: AWSCredentialProvider, region: String)

    /// `none`, `basic(username: alice, password: <redacted>)` or
    /// `sigV4(credentials: <source name>, region: eu-west-2)`.
    public var description: String {
        switch self {
        case .none: "none"
        case .basic(let username, _): "basic(username: \(username), password: <redacted>)"
        case .sigV4(let credentials, let region): "sigV4(credentials: \(credentials.source.name), region: \(region))"
        }
    }

    /// The same redacted line as ``description``.
    public var debugDescription: String { description }

    /// A mirror without secrets, so `dump` and debuggers do not show them either.
    public var customMirror: Mirror { Mirror(self, children: ["auth": description]) }

    /// `headers` plus what authenticates the request: an `authorization` header,
    /// and for SigV4 also `host`, `x-amz-date`, `x-amz-content-sha256` and
    /// `x-amz-security-token` (with a session token).
    /// - Throws: ``AWSError`` when SigV4 credentials cannot be fetched.
    func authenticate(method: String, url: URL, headers: [(name: String, value: String)], body: [UInt8], date: Date)
        async throws(AWSError) -> [(name: String, value: String)]
    {
        switch self {
        case .none:
            return headers
        case .basic(let username, let password):
            let token = Data("\(username):\(password)".utf8).base64EncodedString()
            return headers + [(name: "authorization", value: "Basic \(token)")]
        case .sigV4(let provider, let region):
            let signer = SigV4Signer(credentials: try await provider.credentials(), region: region, service: "es")
            return signer.sign(
                method: method, url: url, headers: headers, body: body, date: date, addContentSHA256Header: true)
        }
    }
}
