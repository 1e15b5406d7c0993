import Foundation
import Logging

/// Where credentials come from: a fixed key pair, STS for a web identity, the container's
/// credentials endpoint or the instance metadata service.
public protocol AWSCredentialSource: Sendable {
    /// The source's name in logs and errors, such as `web identity` (never a secret).
    var name: String { get }

    /// Fetches credentials now.
    /// - Throws: ``AWSError`` saying what failed, without any secret.
    func fetch() async throws(AWSError) -> AWSCredentials
}

/// The credentials every client signs with: fetched from one source on first use, cached,
/// and fetched again before they expire.
///
/// A client asks at each request, so a refreshed key is used at once. Concurrent callers
/// share one fetch. When a refresh fails but the cached credentials have not expired yet,
/// they are used (and the failure logged) until they do.
public actor AWSCredentialProvider: CustomStringConvertible, CustomDebugStringConvertible {
    /// How long before expiry credentials are fetched again.
    public static let refreshMargin: Duration = .seconds(300)

    /// Where the credentials come from.
    public nonisolated let source: any AWSCredentialSource
    private let logger: Logger
    private var cached: AWSCredentials?
    private var refresh: Task<AWSCredentials, any Error>?

    /// A provider that fetches from `source`.
    /// - Parameters:
    ///   - source: Where the credentials come from.
    ///   - logger: Where refresh failures are logged (never with a secret).
    public init(source: any AWSCredentialSource, logger: Logger = Logger(label: "aws-credentials")) {
        self.source = source
        self.logger = logger
    }

    /// A provider of a fixed key pair (environment variables, a profile, tests).
    /// - Parameter credentials: The key pair.
    public init(_ credentials: AWSCredentials) {
        self.init(source: StaticCredentialSource(credentials: credentials))
    }

    /// The current credentials: the cached ones while they are more than ``refreshMargin``
    /// from expiry, else freshly fetched.
    /// - Parameter now: The current time.
    /// - Returns: Credentials to sign with.
    /// - Throws: ``AWSError`` when they cannot be fetched and none valid are cached.
    public func credentials(now: Date = Date()) async throws(AWSError) -> AWSCredentials {
        if let cached, !Self.needsRefresh(cached, now: now) { return cached }
        let task: Task<AWSCredentials, any Error>
        if let refresh {
            task = refresh
        } else {
            let source = source
            task = Task { try await source.fetch() }
            refresh = task
        }
        let result = await task.result
        if refresh == task { refresh = nil }
        switch result {
        case .success(let fresh):
            cached = fresh
            return fresh
        case .failure(let error):
            let failure =
                error as? AWSError
                ?? AWSError(code: .credentials, service: "credentials", operation: source.name, message: "\(error)")
            if let cached, cached.expiration.map({ $0 > now }) ?? true {
                logger.warning(
                    "could not refresh AWS credentials; using the cached ones until they expire",
                    metadata: ["source": "\(source.name)", "error": "\(failure)"])
                return cached
            }
            throw failure
        }
    }

    /// `AWSCredentialProvider(<source name>)`: no secret.
    public nonisolated var description: String { "AWSCredentialProvider(\(source.name))" }

    /// The same line as ``description``.
    public nonisolated var debugDescription: String { description }

    /// Whether `credentials` expire within ``refreshMargin`` of `now`.
    static func needsRefresh(_ credentials: AWSCredentials, now: Date) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return expiration.timeIntervalSince(now) <= Double(refreshMargin.components.seconds)
    }
}

/// A fixed key pair.
public struct StaticCredentialSource: AWSCredentialSource {
    /// The key pair.
    public let credentials: AWSCredentials
    /// `static key <access key id>`.
    public var name: String { "static key \(credentials.accessKeyID)" }

    /// A source that always answers `credentials`.
    /// - Parameter credentials: The key pair.
    public init(credentials: AWSCredentials) {
        self.credentials = credentials
    }

    /// The key pair.
    public func fetch() async throws(AWSError) -> AWSCredentials {
        credentials
    }
}
