import AWSClients
import AuditLog
import Foundation
import Logging

extension Reprocessor {
    /// The audit chain key the settings name: the text of ``ReprocessorSettings/auditKeyFile``
    /// or the `SecretString` of ``ReprocessorSettings/auditKeySecretARN``, white space around it
    /// removed, at least 32 bytes; nil when neither is set (the chain stays unkeyed).
    ///
    /// Errors name the setting, never the key.
    /// - Parameters:
    ///   - settings: Resolved settings.
    ///   - environment: Where AWS settings are read from (for the secret).
    ///   - logger: The logger.
    /// - Throws: ``ReprocessorError`` `.invalidSetting` for an unreadable or too short key;
    ///   `AWSError` when the secret cannot be read.
    public static func loadAuditKey(
        settings: ReprocessorSettings, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) async throws -> AuditChainKey? {
        let source = ReprocessorSettings.Source.self
        let text: String
        let origin: String
        if let path = settings.auditKeyFile {
            origin = "audit key file \(path) (\(source.auditKeyFile.0) / \(source.auditKeyFile.1))"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ReprocessorError(.invalidSetting, "cannot read the \(origin)")
            }
            text = String(decoding: data, as: UTF8.self)
        } else if let arn = settings.auditKeySecretARN {
            origin = "audit key secret \(arn) (\(source.auditKeySecret.0) / \(source.auditKeySecret.1))"
            let secrets = SecretsManagerClient(
                configuration: try AWSConfiguration.fromEnvironment(environment), httpClient: SharedHTTPClient.client,
                logger: logger)
            text = try await secrets.getSecretString(secretID: arn)
        } else {
            return nil
        }
        do {
            return try AuditChainKey(text: text)
        } catch {
            throw ReprocessorError(.invalidSetting, "the \(origin) is not a usable key: \(error.description)")
        }
    }
}
