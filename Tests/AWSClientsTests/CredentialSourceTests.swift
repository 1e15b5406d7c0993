import AWSClients
import Foundation
import Logging
import TestSupport
import Testing

/// The credential chain beyond static keys: web identity against moto's STS, and the
/// container and instance metadata sources against ``CredentialsEndpoint`` (the sanctioned
/// stand-in: no real peer serves those link-local endpoints). Caching and refresh are
/// checked by counting requests, never by timing.
@Suite("Credential sources")
struct CredentialSourceTests {
    static let secret = "SECRET-do-not-print-0123456789"
    static let token = "TOKEN-do-not-print"

    static func credentialsJSON(
        _ keyID: String, secret: String = secret, token: String? = token, expiresIn seconds: TimeInterval
    ) -> String {
        CredentialsEndpoint.credentialsJSON(
            keyID: keyID, secret: secret, token: token, expiration: Date().addingTimeInterval(seconds))
    }

    @Test("web identity: the token file is exchanged with STS for a role's credentials, which sign calls moto verifies")
    func webIdentityAgainstMoto() async throws {
        // moto verifies signatures after 3 calls: CreateRole, PutRolePolicy, and the unsigned AssumeRoleWithWebIdentity.
        let moto = try await MotoServer.start(initialNoAuthActionCount: 3)
        defer { moto.stop() }
        let roleARN = try await AWSFixtures.createRoleAllowingAll(motoURL: moto.url)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("web-identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token").path
        FileManager.default.createFile(atPath: tokenFile, contents: Data("eyJhbGciOi.web-identity.token".utf8))

        let configuration = try AWSConfiguration.fromEnvironment([
            "HOME": directory.path, "AWS_REGION": AWSFixtures.region, "AWS_ENDPOINT_URL": moto.url.absoluteString,
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": roleARN, "AWS_ROLE_SESSION_NAME": "test-session",
        ])
        #expect(configuration.credentialProvider.source is WebIdentityCredentialSource)
        let credentials = try await configuration.credentialProvider.credentials()
        #expect(credentials.sessionToken != nil)
        #expect(credentials.expiration != nil)
        #expect(!"\(credentials)".contains(credentials.secretAccessKey))
        // Signed with the assumed role's key and session token, and verified by moto.
        let sqs = SQSClient(configuration: configuration, retryPolicy: .none, logger: AWSFixtures.quietLogger)
        let queueURL = try await sqs.createQueue(name: "web-identity")
        #expect(try await sqs.getQueueURL(name: "web-identity") == queueURL)
    }

    @Test("web identity needs both variables; a missing token file is named, its contents never shown")
    func webIdentitySettings() async throws {
        let half = #expect(throws: AWSError.self) {
            try AWSConfiguration.fromEnvironment(["HOME": "/nonexistent", "AWS_REGION": "eu-west-2", "AWS_ROLE_ARN": "arn:x"])
        }
        #expect(half?.description.contains("AWS_WEB_IDENTITY_TOKEN_FILE") == true)
        let source = WebIdentityCredentialSource(
            tokenFile: "/nonexistent/token", roleARN: "arn:aws:iam::123456789012:role/r", sessionName: "s",
            stsEndpoint: URL(string: "http://127.0.0.1:9")!)
        let error = await #expect(throws: AWSError.self) { try await source.fetch() }
        #expect(error?.code == .credentials)
        #expect(error?.description.contains("/nonexistent/token") == true)
    }

    @Test("container credentials: the token file is sent as Authorization, the answer cached until near expiry")
    func containerCaching() async throws {
        let endpoint = try await CredentialsEndpoint.start()
        defer { endpoint.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("container-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token").path
        FileManager.default.createFile(atPath: tokenFile, contents: Data("pod-token-1\n".utf8))
        endpoint.answer(
            "GET", "/creds", body: Self.credentialsJSON("ASIAFIRST", expiresIn: 3600),
            requiredHeader: ("Authorization", "pod-token-1"))

        let configuration = try AWSConfiguration.fromEnvironment([
            "HOME": directory.path, "AWS_REGION": "eu-west-2",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url.absoluteString + "/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile, "AWS_METADATA_SERVICE_TIMEOUT": "30",
        ])
        let provider = configuration.credentialProvider
        #expect(provider.source is ContainerCredentialSource)
        let first = try await provider.credentials()
        #expect(first.accessKeyID == "ASIAFIRST")
        #expect(first.sessionToken == Self.token)
        #expect(try await provider.credentials() == first)
        #expect(endpoint.requests.count == 1, "an hour from expiry, the cached credentials are used")

        // Near expiry (within the refresh margin) they are fetched again, with the rotated token file.
        endpoint.answer(
            "GET", "/creds", body: Self.credentialsJSON("ASIASECOND", expiresIn: 3600),
            requiredHeader: ("Authorization", "pod-token-2"))
        FileManager.default.createFile(atPath: tokenFile, contents: Data("pod-token-2".utf8))
        let nearExpiry = try #require(first.expiration).addingTimeInterval(-60)
        #expect(try await provider.credentials(now: nearExpiry).accessKeyID == "ASIASECOND")
        #expect(endpoint.requests.count == 2)
        #expect(endpoint.requests.last?.headers["authorization"] == "pod-token-2")
    }

    @Test("a failed refresh keeps the cached credentials until they expire; then the error names no secret")
    func refreshFailure() async throws {
        let endpoint = try await CredentialsEndpoint.start()
        defer { endpoint.stop() }
        endpoint.answer("GET", "/creds", body: Self.credentialsJSON("ASIAONLY", expiresIn: 3600))
        let source = try ContainerCredentialSource(
            url: URL(string: endpoint.url.absoluteString + "/creds")!, authorizationToken: Self.token, timeout: .seconds(30))
        let provider = AWSCredentialProvider(source: source, logger: AWSFixtures.quietLogger)
        let cached = try await provider.credentials()
        endpoint.answer("GET", "/creds", status: 500, body: "busy")
        let expiration = try #require(cached.expiration)
        #expect(try await provider.credentials(now: expiration.addingTimeInterval(-60)) == cached)
        let error = await #expect(throws: AWSError.self) {
            try await provider.credentials(now: expiration.addingTimeInterval(1))
        }
        #expect(error?.code == .credentials)
        #expect(error?.statusCode == 500)
        for secret in [Self.secret, Self.token] {
            #expect(error.map { !$0.description.contains(secret) } == true)
        }
    }

    @Test("a plain-http container URI must be loopback or a container endpoint")
    func containerURIRestricted() throws {
        let error = #expect(throws: AWSError.self) {
            try AWSConfiguration.fromEnvironment([
                "HOME": "/nonexistent", "AWS_REGION": "eu-west-2",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://evil.example.com/creds",
            ])
        }
        #expect(error?.code == .configuration)
        let relative = try AWSConfiguration.fromEnvironment([
            "HOME": "/nonexistent", "AWS_REGION": "eu-west-2", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
        ])
        let source = try #require(relative.credentialProvider.source as? ContainerCredentialSource)
        #expect(source.url.absoluteString == "http://169.254.170.2/v2/credentials/abc")
    }

    @Test("instance metadata: an IMDSv2 session token, then the role name, then its credentials")
    func instanceMetadata() async throws {
        let endpoint = try await CredentialsEndpoint.start()
        defer { endpoint.stop() }
        endpoint.answer("PUT", "/latest/api/token", body: "imds-session-token")
        endpoint.answer(
            "GET", "/latest/meta-data/iam/security-credentials/", body: "reprocessor-role\n",
            requiredHeader: ("X-aws-ec2-metadata-token", "imds-session-token"))
        endpoint.answer(
            "GET", "/latest/meta-data/iam/security-credentials/reprocessor-role",
            body: Self.credentialsJSON("ASIAINSTANCE", expiresIn: 3600),
            requiredHeader: ("X-aws-ec2-metadata-token", "imds-session-token"))
        let configuration = try AWSConfiguration.fromEnvironment([
            "HOME": "/nonexistent", "AWS_REGION": "eu-west-2", "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint.url.absoluteString,
            // Generous, so a loaded test machine does not time the stand-in out.
            "AWS_METADATA_SERVICE_TIMEOUT": "30",
        ])
        #expect(configuration.credentialProvider.source is InstanceMetadataCredentialSource)
        let credentials = try await configuration.credentialProvider.credentials()
        #expect(credentials.accessKeyID == "ASIAINSTANCE")
        #expect(credentials.secretAccessKey == Self.secret)
        #expect(
            endpoint.requests.map { "\($0.method) \($0.path)" } == [
                "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
                "GET /latest/meta-data/iam/security-credentials/reprocessor-role",
            ])
        #expect(endpoint.requests[0].headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600")

        endpoint.answer("GET", "/latest/meta-data/iam/security-credentials/", status: 404, body: "")
        let fresh = InstanceMetadataCredentialSource(endpoint: endpoint.url, timeout: .seconds(30))
        let error = await #expect(throws: AWSError.self) { try await fresh.fetch() }
        #expect(error?.description.contains("no IAM role") == true)
    }

    @Test("every call asks the provider: rotated credentials are used by the next request, verified by moto")
    func clientsUseCurrentCredentials() async throws {
        let moto = try await MotoServer.start(initialNoAuthActionCount: AWSFixtures.iamBootstrapCalls)
        defer { moto.stop() }
        let key = try await AWSFixtures.createIAMUserWithAccessKey(motoURL: moto.url)
        let endpoint = try await CredentialsEndpoint.start()
        defer { endpoint.stop() }
        // Credentials within the refresh margin are fetched at every request (a long-lived key: no token).
        endpoint.answer(
            "GET", "/creds", body: Self.credentialsJSON(key.accessKeyID, secret: "stale-secret", token: nil, expiresIn: 60))
        let configuration = AWSConfiguration(
            region: AWSFixtures.region,
            credentialProvider: AWSCredentialProvider(
                source: try ContainerCredentialSource(
                    url: URL(string: endpoint.url.absoluteString + "/creds")!, timeout: .seconds(30)),
                logger: AWSFixtures.quietLogger),
            endpointOverride: moto.url)
        let sqs = SQSClient(configuration: configuration, retryPolicy: .none, logger: AWSFixtures.quietLogger)
        let refused = await #expect(throws: AWSError.self) { try await sqs.createQueue(name: "rotated") }
        #expect(refused?.code == .signatureDoesNotMatch)
        endpoint.answer(
            "GET", "/creds", body: Self.credentialsJSON(key.accessKeyID, secret: key.secretAccessKey, token: nil, expiresIn: 60))
        _ = try await sqs.createQueue(name: "rotated")
    }
}
