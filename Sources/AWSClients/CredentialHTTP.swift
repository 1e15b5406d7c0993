import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StreamModel

/// The HTTP calls of the credential sources: small requests with a short timeout, whose
/// failures become ``AWSError``s with code ``AWSError/Code/credentials`` that name the
/// source and the status, never a token or a key.
enum CredentialHTTP {
    /// The largest credentials response read.
    static let maxResponseBytes = 64 * 1024

    /// Sends one request and returns the status and body.
    static func send(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, source: String,
        operation: String, timeout: Duration = .seconds(5), httpClient: HTTPClient
    ) async throws(AWSError) -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        do {
            let response = try await httpClient.execute(request, timeout: .milliseconds(timeout.components.seconds * 1000))
            let buffer = try await response.body.collect(upTo: maxResponseBytes)
            return (Int(response.status.code), String(buffer: buffer))
        } catch {
            throw failure(source, operation, "the request failed: \(shortReason(error))")
        }
    }

    /// A credentials error of `source`.
    static func failure(_ source: String, _ operation: String, _ message: String, status: Int? = nil) -> AWSError {
        AWSError(code: .credentials, service: source, operation: operation, statusCode: status, message: message)
    }

    /// `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}` (container and instance metadata answers).
    static func credentials(fromJSON text: String, source: String, operation: String) throws(AWSError) -> AWSCredentials {
        guard let object = try? JSONValue(parsing: text), let keyID = object["AccessKeyId"]?.stringValue,
            let secret = object["SecretAccessKey"]?.stringValue
        else {
            throw failure(source, operation, "the answer is not JSON with AccessKeyId and SecretAccessKey")
        }
        let expiration = try object["Expiration"]?.stringValue.map { text throws(AWSError) in
            guard let date = time(text) else { throw failure(source, operation, "Expiration \(text) is not an ISO-8601 time") }
            return date
        }
        return AWSCredentials(
            accessKeyID: keyID, secretAccessKey: secret, sessionToken: object["Token"]?.stringValue, expiration: expiration)
    }

    /// An ISO-8601 time with or without fractional seconds.
    static func time(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }

    /// The error's kind without its details (an HTTP client error can carry the URL, never a secret; keep it short).
    private static func shortReason(_ error: any Error) -> String {
        String(String(describing: error).prefix(200))
    }
}
