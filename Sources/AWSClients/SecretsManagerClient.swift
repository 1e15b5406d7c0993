import AsyncHTTPClient
import Logging
import StreamModel

/// AWS Secrets Manager: reads a secret's string value.
///
/// The value is returned to the caller only; it is never logged or put in an error.
public struct SecretsManagerClient: Sendable {
    private let client: AWSJSONClient

    /// Creates a client.
    /// - Parameters:
    ///   - configuration: Region, credentials and endpoints.
    ///   - httpClient: The HTTP client.
    ///   - retryPolicy: How throttling, 5xx and connection failures are retried.
    ///   - logger: Where calls and retries are logged.
    ///   - requestTimeout: How long one attempt may take.
    public init(
        configuration: AWSConfiguration, httpClient: HTTPClient = .shared, retryPolicy: RetryPolicy = .standard,
        logger: Logger, requestTimeout: Duration = .seconds(30)
    ) {
        client = AWSJSONClient(
            service: .secretsManager, configuration: configuration, httpClient: httpClient, retryPolicy: retryPolicy,
            requestTimeout: requestTimeout, logger: logger)
    }

    /// The current `SecretString` of a secret.
    /// - Parameter secretID: The secret's ARN or name.
    /// - Throws: ``AWSError`` (``AWSError/Code/resourceNotFound`` for a missing secret,
    ///   ``AWSError/Code/invalidResponse`` for a binary-only secret).
    public func getSecretString(secretID: String) async throws(AWSError) -> String {
        let response = try await client.call("GetSecretValue", .object(["SecretId": .string(secretID)]))
        guard let value = response["SecretString"]?.stringValue else {
            throw AWSError(
                code: .invalidResponse, service: AWSService.secretsManager.displayName, operation: "GetSecretValue",
                message: "secret \(secretID) has no SecretString (binary secrets are not supported)")
        }
        return value
    }
}
