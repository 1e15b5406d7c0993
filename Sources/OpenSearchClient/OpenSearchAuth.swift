import Foundation

/// How requests to the cluster are authenticated.
public enum OpenSearchAuth: Sendable {
    /// No authentication (a local or VPC-internal cluster).
    case none
    /// HTTP basic authentication (the security plugin's internal users).
    case basic(username: String, password: String)

    /// The headers that authenticate a request.
    func headers(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8], date: Date)
        -> [(name: String, value: String)]
    {
        switch self {
        case .none:
            return headers
        case .basic(let username, let password):
            let token = Data("\(username):\(password)".utf8).base64EncodedString()
            return headers + [(name: "authorization", value: "Basic \(token)")]
        }
    }
}
