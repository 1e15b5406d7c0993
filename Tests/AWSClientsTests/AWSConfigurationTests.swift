import Foundation
import Testing

@testable import AWSClients

/// A temporary HOME with optional ~/.aws/credentials and ~/.aws/config.
struct TemporaryAWSHome {
    let home: URL

    init(credentials: String? = nil, config: String? = nil) throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("aws-home-\(UUID().uuidString)")
        let awsDirectory = home.appendingPathComponent(".aws")
        try FileManager.default.createDirectory(at: awsDirectory, withIntermediateDirectories: true)
        if let credentials {
            try credentials.write(to: awsDirectory.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        }
        if let config {
            try config.write(to: awsDirectory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        }
    }

    /// An environment whose only source of settings is this HOME plus `extra`.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": home.path].merging(extra) { $1 }
    }

    func remove() { try? FileManager.default.removeItem(at: home) }
}

@Suite("AWS configuration")
struct AWSConfigurationTests {
    static let secret = "wJalrXUtnFEMI-SECRET-do-not-print"
    static let token = "SESSION-TOKEN-do-not-print"

    private func resolve(_ environment: [String: String]) throws(AWSError) -> AWSConfiguration {
        try AWSConfiguration.fromEnvironment(environment)
    }

    /// The fixed key pair a configuration resolved to (environment or profile).
    static func staticCredentials(_ configuration: AWSConfiguration) -> AWSCredentials {
        (configuration.credentialProvider.source as? StaticCredentialSource)?.credentials
            ?? AWSCredentials(accessKeyID: "not a fixed key pair", secretAccessKey: "")
    }

    private func configurationError(_ environment: [String: String]) -> AWSError? {
        do {
            _ = try resolve(environment)
            return nil
        } catch {
            return error
        }
    }

    @Test("environment keys, session token and AWS_REGION over AWS_DEFAULT_REGION")
    func environmentCredentials() throws {
        let home = try TemporaryAWSHome(
            credentials: "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n")
        defer { home.remove() }
        let configuration = try resolve(
            home.environment([
                "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": Self.token,
                "AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "us-east-1",
            ]))
        #expect(
            Self.staticCredentials(configuration)
                == AWSCredentials(accessKeyID: "ENVKEY", secretAccessKey: Self.secret, sessionToken: Self.token))
        #expect(configuration.region == "eu-west-2")
    }

    @Test("AWS_DEFAULT_REGION when AWS_REGION is unset")
    func defaultRegionVariable() throws {
        let configuration = try resolve([
            "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_DEFAULT_REGION": "us-east-1", "HOME": "/nonexistent",
        ])
        #expect(configuration.region == "us-east-1")
    }

    @Test("the default profile from ~/.aws/credentials, its region from ~/.aws/config")
    func defaultProfileFromHome() throws {
        let home = try TemporaryAWSHome(
            credentials: """
                # a comment
                [default]
                aws_access_key_id = AKIDDEFAULT
                aws_secret_access_key = \(Self.secret)

                [other]
                aws_access_key_id = AKIDOTHER
                aws_secret_access_key = othersecret
                """,
            config: "[default]\nregion = eu-west-1\n[profile other]\nregion = ap-southeast-2\n")
        defer { home.remove() }
        let configuration = try resolve(home.environment())
        #expect(Self.staticCredentials(configuration).accessKeyID == "AKIDDEFAULT")
        #expect(Self.staticCredentials(configuration).secretAccessKey == Self.secret)
        #expect(Self.staticCredentials(configuration).sessionToken == nil)
        #expect(configuration.region == "eu-west-1")
    }

    @Test("AWS_PROFILE picks [name] in credentials and [profile name] in config")
    func namedProfile() throws {
        let home = try TemporaryAWSHome(
            credentials:
                "[default]\naws_access_key_id=AKIDDEFAULT\naws_secret_access_key=x\n[dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=devsecret\naws_session_token=devtoken\n",
            config: "[default]\nregion=eu-west-1\n[profile dev]\nregion = eu-central-1\n[dev]\nregion = wrong-section\n")
        defer { home.remove() }
        let configuration = try resolve(home.environment(["AWS_PROFILE": "dev"]))
        #expect(
            Self.staticCredentials(configuration)
                == AWSCredentials(accessKeyID: "AKIDDEV", secretAccessKey: "devsecret", sessionToken: "devtoken"))
        #expect(configuration.region == "eu-central-1")
    }

    @Test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE replace the ~/.aws paths; config may hold the keys")
    func explicitFiles() throws {
        let home = try TemporaryAWSHome(credentials: "[default]\naws_access_key_id=HOMEKEY\naws_secret_access_key=homesecret\n")
        defer { home.remove() }
        let elsewhere = try TemporaryAWSHome(
            config: "[profile ci]\naws_access_key_id = CIKEY\naws_secret_access_key = cisecret\nregion = us-west-2\n")
        defer { elsewhere.remove() }
        let configuration = try resolve(
            home.environment([
                "AWS_SHARED_CREDENTIALS_FILE": elsewhere.home.appendingPathComponent("missing-credentials").path,
                "AWS_CONFIG_FILE": elsewhere.home.appendingPathComponent(".aws/config").path,
                "AWS_PROFILE": "ci",
            ]))
        #expect(Self.staticCredentials(configuration).accessKeyID == "CIKEY")
        #expect(configuration.region == "us-west-2")
    }

    @Test("environment keys win over the profile's keys but the profile still gives the region")
    func environmentOverProfile() throws {
        let home = try TemporaryAWSHome(
            credentials: "[default]\naws_access_key_id=FILEKEY\naws_secret_access_key=filesecret\n",
            config: "[default]\nregion = sa-east-1\n")
        defer { home.remove() }
        let configuration = try resolve(home.environment(["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret"]))
        #expect(Self.staticCredentials(configuration).accessKeyID == "ENVKEY")
        #expect(configuration.region == "sa-east-1")
    }

    @Test("no credentials anywhere: one line naming the variables")
    func missingCredentials() throws {
        let home = try TemporaryAWSHome()
        defer { home.remove() }
        let error = try #require(
            configurationError(home.environment(["AWS_REGION": "eu-west-2", "AWS_EC2_METADATA_DISABLED": "true"])))
        #expect(error.code == .configuration)
        #expect(
            error.description.hasPrefix("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"))
        #expect(!error.description.contains("\n"))
    }

    @Test("half a key pair names the missing variable and never echoes the half given")
    func halfKeyPair() throws {
        let home = try TemporaryAWSHome()
        defer { home.remove() }
        let onlyID = try #require(
            configurationError(home.environment(["AWS_ACCESS_KEY_ID": "AKIDONLY", "AWS_REGION": "eu-west-2"])))
        #expect(onlyID.code == .configuration)
        #expect(onlyID.description.contains("AWS_SECRET_ACCESS_KEY is not"))
        let onlySecret = try #require(
            configurationError(home.environment(["AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_REGION": "eu-west-2"])))
        #expect(onlySecret.description.contains("AWS_ACCESS_KEY_ID is not"))
        #expect(!onlySecret.description.contains(Self.secret))
    }

    @Test("a profile with a key id but no secret is named, and nothing secret is printed")
    func incompleteProfile() throws {
        let home = try TemporaryAWSHome(
            credentials: "[default]\naws_session_token = \(Self.token)\naws_access_key_id = AKIDHALF\n")
        defer { home.remove() }
        let error = try #require(
            configurationError(home.environment(["AWS_REGION": "eu-west-2", "AWS_EC2_METADATA_DISABLED": "true"])))
        #expect(error.description.contains("profile 'default' needs both aws_access_key_id and aws_secret_access_key"))
        #expect(!error.description.contains(Self.token))
    }

    @Test("an AWS_PROFILE that no file has is an error naming AWS_PROFILE")
    func unknownProfile() throws {
        let home = try TemporaryAWSHome(credentials: "[default]\naws_access_key_id=K\naws_secret_access_key=\(Self.secret)\n")
        defer { home.remove() }
        let error = try #require(configurationError(home.environment(["AWS_PROFILE": "nope", "AWS_REGION": "eu-west-2"])))
        #expect(error.code == .configuration)
        #expect(error.description.contains("AWS profile 'nope' (AWS_PROFILE)"))
        #expect(!error.description.contains(Self.secret))
    }

    @Test("an unknown AWS_PROFILE does not matter when the environment gives keys and region")
    func unknownProfileNotNeeded() throws {
        let home = try TemporaryAWSHome()
        defer { home.remove() }
        let configuration = try resolve(
            home.environment([
                "AWS_PROFILE": "ci", "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_REGION": "eu-west-2",
            ]))
        #expect(Self.staticCredentials(configuration).accessKeyID == "K")
        let noRegion = try #require(
            configurationError(
                home.environment(["AWS_PROFILE": "ci", "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S"])))
        #expect(noRegion.description.hasPrefix("AWS profile 'ci' (AWS_PROFILE) is not in"))
    }

    @Test("no region: the error names AWS_REGION, AWS_DEFAULT_REGION and the profile")
    func missingRegion() throws {
        let home = try TemporaryAWSHome(credentials: "[default]\naws_access_key_id=K\naws_secret_access_key=\(Self.secret)\n")
        defer { home.remove() }
        let error = try #require(configurationError(home.environment()))
        #expect(
            error.description.hasPrefix("no AWS region: set AWS_REGION or AWS_DEFAULT_REGION, or region in profile 'default'"))
        #expect(!error.description.contains(Self.secret))
    }

    @Test("a malformed region is refused")
    func malformedRegion() throws {
        let error = try #require(
            configurationError([
                "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_REGION": "eu west/2", "HOME": "/nonexistent",
            ]))
        #expect(error.description.contains("AWS_REGION"))
    }

    @Test("default endpoints follow the region")
    func defaultEndpoints() throws {
        let configuration = try resolve([
            "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_REGION": "eu-west-2", "HOME": "/nonexistent",
        ])
        #expect(configuration.endpoint(for: .sqs).absoluteString == "https://sqs.eu-west-2.amazonaws.com")
        #expect(configuration.endpoint(for: .dynamodb).absoluteString == "https://dynamodb.eu-west-2.amazonaws.com")
        #expect(
            configuration.endpoint(for: .dynamodbStreams).absoluteString == "https://streams.dynamodb.eu-west-2.amazonaws.com")
        #expect(configuration.endpoint(for: .secretsManager).absoluteString == "https://secretsmanager.eu-west-2.amazonaws.com")
        #expect(configuration.endpoint(for: .iam).absoluteString == "https://iam.amazonaws.com")
        #expect(configuration.endpointOverride == nil)
        #expect(configuration.serviceEndpointOverrides.isEmpty)
    }

    @Test("AWS_ENDPOINT_URL for all services, AWS_ENDPOINT_URL_<SERVICE> for one")
    func endpointOverrides() throws {
        let configuration = try resolve([
            "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_REGION": "eu-west-2", "HOME": "/nonexistent",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
            "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9324",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://127.0.0.1:8001",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:8002",
        ])
        #expect(configuration.endpoint(for: .sqs).absoluteString == "http://127.0.0.1:9324")
        #expect(configuration.endpoint(for: .dynamodb).absoluteString == "http://127.0.0.1:8000")
        #expect(configuration.endpoint(for: .dynamodbStreams).absoluteString == "http://127.0.0.1:8001")
        #expect(configuration.endpoint(for: .secretsManager).absoluteString == "http://127.0.0.1:8002")
        #expect(configuration.endpoint(for: .iam).absoluteString == "http://127.0.0.1:4566")
    }

    @Test("a malformed endpoint names its variable")
    func malformedEndpoint() throws {
        let error = try #require(
            configurationError([
                "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_REGION": "eu-west-2", "HOME": "/nonexistent",
                "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "localhost:8000",
            ]))
        #expect(error.code == .configuration)
        #expect(error.description.hasPrefix("AWS_ENDPOINT_URL_DYNAMODB_STREAMS is not an http(s) URL"))
    }

    @Test("a configuration never prints its secret or token")
    func configurationRedacted() throws {
        let configuration = try resolve([
            "AWS_ACCESS_KEY_ID": "AKIDVISIBLE", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": Self.token,
            "AWS_REGION": "eu-west-2", "HOME": "/nonexistent",
        ])
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(configuration)", String(reflecting: configuration), dumped, "\(Self.staticCredentials(configuration))"] {
            #expect(text.contains("AKIDVISIBLE"))
            #expect(!text.contains(Self.secret))
            #expect(!text.contains(Self.token))
        }
    }

    @Test("the INI parser ignores comments, other sections and keeps values with '='")
    func iniParsing() {
        let file = SharedConfigFile.parse(
            """
            ; comment
            [profile a]
              REGION = eu-west-3
            aws_secret_access_key = abc=def
            [sso-session corp]
            region = us-east-1
            [default]
            region=eu-north-1
            """, isConfigFile: true)
        #expect(file.profiles["a"] == ["region": "eu-west-3", "aws_secret_access_key": "abc=def"])
        #expect(file.profiles["default"] == ["region": "eu-north-1"])
        #expect(file.profiles["sso-session corp"] == nil)
        #expect(file.profiles.count == 2)
    }
}
