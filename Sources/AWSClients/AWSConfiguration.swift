import Foundation

/// Region, credentials and endpoints for the AWS clients.
///
/// ``fromEnvironment(_:)`` resolves them the way the AWS SDKs do, in their
/// order: environment variables, the shared credentials and config files for
/// `AWS_PROFILE`, a web identity (STS), the container's credentials endpoint,
/// then EC2 instance metadata (IMDSv2).
public struct AWSConfiguration: Sendable {
    /// The region, such as `eu-west-2`.
    public var region: String
    /// Where the credentials that sign every call come from; clients ask it at each
    /// request, so refreshed credentials are used at once.
    public var credentialProvider: AWSCredentialProvider
    /// One endpoint for every service (`AWS_ENDPOINT_URL`), such as a local moto.
    public var endpointOverride: URL?
    /// Per-service endpoints (`AWS_ENDPOINT_URL_SQS`, …); they win over ``endpointOverride``.
    public var serviceEndpointOverrides: [AWSService: URL]

    /// Creates a configuration with a fixed key pair.
    /// - Parameters:
    ///   - region: The region.
    ///   - credentials: The key pair.
    ///   - endpointOverride: One endpoint for all services, if any.
    ///   - serviceEndpointOverrides: Per-service endpoints.
    public init(
        region: String, credentials: AWSCredentials, endpointOverride: URL? = nil,
        serviceEndpointOverrides: [AWSService: URL] = [:]
    ) {
        self.init(
            region: region, credentialProvider: AWSCredentialProvider(credentials), endpointOverride: endpointOverride,
            serviceEndpointOverrides: serviceEndpointOverrides)
    }

    /// Creates a configuration whose credentials come from `credentialProvider`.
    /// - Parameters:
    ///   - region: The region.
    ///   - credentialProvider: Where the credentials come from.
    ///   - endpointOverride: One endpoint for all services, if any.
    ///   - serviceEndpointOverrides: Per-service endpoints.
    public init(
        region: String, credentialProvider: AWSCredentialProvider, endpointOverride: URL? = nil,
        serviceEndpointOverrides: [AWSService: URL] = [:]
    ) {
        self.region = region
        self.credentialProvider = credentialProvider
        self.endpointOverride = endpointOverride
        self.serviceEndpointOverrides = serviceEndpointOverrides
    }

    /// The endpoint of `service`: its own override, else the global one,
    /// else the public AWS endpoint for ``region``.
    /// - Parameter service: The service.
    /// - Returns: A base URL such as `https://sqs.eu-west-2.amazonaws.com`.
    public func endpoint(for service: AWSService) -> URL {
        if let url = serviceEndpointOverrides[service] ?? endpointOverride { return url }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        let host =
            switch service {
            case .iam: "iam.\(suffix)"
            default: "\(service.rawValue).\(region).\(suffix)"
            }
        // Region names are letters, digits and dashes; anything else was
        // rejected when the configuration was resolved or built by a caller.
        guard let url = URL(string: "https://\(host)") else {
            preconditionFailure("region \(region) does not form a host name")
        }
        return url
    }

    /// Resolves the configuration from environment variables and the shared files.
    ///
    /// - Credentials, the first source that is configured: `AWS_ACCESS_KEY_ID` +
    ///   `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`); the profile `AWS_PROFILE` (default
    ///   `default`) from the credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default
    ///   `~/.aws/credentials`), then from the config file (`AWS_CONFIG_FILE`, default
    ///   `~/.aws/config`, sections `[profile name]`); a web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`
    ///   + `AWS_ROLE_ARN`, optional `AWS_ROLE_SESSION_NAME`; STS at `AWS_ENDPOINT_URL_STS`, else
    ///   `AWS_ENDPOINT_URL`, else the regional endpoint); container credentials
    ///   (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with
    ///   `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN`); else EC2
    ///   instance metadata with IMDSv2 (`AWS_EC2_METADATA_SERVICE_ENDPOINT`), unless
    ///   `AWS_EC2_METADATA_DISABLED=true`. Container and metadata calls time out after
    ///   `AWS_METADATA_SERVICE_TIMEOUT` seconds (default 2). Temporary credentials are fetched on first use and
    ///   refreshed before they expire (``AWSCredentialProvider``).
    /// - Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
    /// - Endpoints: `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.
    ///
    /// - Parameter environment: The variables to read (the process environment by default).
    /// - Returns: The configuration.
    /// - Throws: ``AWSError`` with code ``AWSError/Code/configuration`` whose description names the
    ///   variables to set; it never contains a secret.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(AWSError) -> AWSConfiguration {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        let profileName = value("AWS_PROFILE") ?? "default"
        let home = value("HOME") ?? NSHomeDirectory()
        let credentialsPath = value("AWS_SHARED_CREDENTIALS_FILE") ?? "\(home)/.aws/credentials"
        let configPath = value("AWS_CONFIG_FILE") ?? "\(home)/.aws/config"
        let credentialsFile = try SharedConfigFile.load(path: credentialsPath, isConfigFile: false)
        let configFile = try SharedConfigFile.load(path: configPath, isConfigFile: true)
        let fromCredentialsFile = credentialsFile?.profiles[profileName]
        let fromConfigFile = configFile?.profiles[profileName]

        // A named profile that no file has is an error only when something must come from it.
        let unknownProfile =
            value("AWS_PROFILE") != nil && fromCredentialsFile == nil && fromConfigFile == nil
            ? configurationError(
                "AWS profile '\(profileName)' (AWS_PROFILE) is not in \(credentialsPath) or \(configPath): "
                    + "set AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            : nil

        var staticCredentials: AWSCredentials?
        switch (value("AWS_ACCESS_KEY_ID"), value("AWS_SECRET_ACCESS_KEY")) {
        case (let keyID?, let secret?):
            staticCredentials = AWSCredentials(
                accessKeyID: keyID, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
        case (.some, nil):
            throw configurationError(
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither and use AWS_PROFILE")
        case (nil, .some):
            throw configurationError(
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither and use AWS_PROFILE")
        case (nil, nil):
            if let unknownProfile { throw unknownProfile }
            if let profile = [fromCredentialsFile, fromConfigFile].compactMap({ $0 }).first(where: {
                $0["aws_access_key_id"] != nil || $0["aws_secret_access_key"] != nil
            }) {
                guard let keyID = profile["aws_access_key_id"], let secret = profile["aws_secret_access_key"] else {
                    throw configurationError(
                        "AWS profile '\(profileName)' needs both aws_access_key_id and aws_secret_access_key: "
                            + "fix the profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
                }
                staticCredentials = AWSCredentials(
                    accessKeyID: keyID, secretAccessKey: secret, sessionToken: profile["aws_session_token"])
            }
        }

        guard
            let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? fromConfigFile?["region"]
                ?? fromCredentialsFile?["region"]
        else {
            if let unknownProfile { throw unknownProfile }
            throw configurationError(
                "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION, or region in profile '\(profileName)' of \(configPath)")
        }
        guard region.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) })
        else {
            throw configurationError("AWS region '\(region)' is not a region name (such as eu-west-2): fix AWS_REGION")
        }

        let endpointOverride = try endpointURL(value("AWS_ENDPOINT_URL"), variable: "AWS_ENDPOINT_URL")
        var serviceEndpoints: [AWSService: URL] = [:]
        for service in AWSService.allCases {
            serviceEndpoints[service] = try endpointURL(value(service.endpointVariable), variable: service.endpointVariable)
        }
        let source: any AWSCredentialSource
        if let staticCredentials {
            source = StaticCredentialSource(credentials: staticCredentials)
        } else if let dynamic = try dynamicCredentialSource(
            value, region: region, stsEndpoint: serviceEndpoints[.sts] ?? endpointOverride)
        {
            source = dynamic
        } else {
            throw configurationError(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
                    + "(profile '\(profileName)' has no aws_access_key_id in \(credentialsPath) or \(configPath)), "
                    + "or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or AWS_CONTAINER_CREDENTIALS_FULL_URI; "
                    + "instance metadata is off (AWS_EC2_METADATA_DISABLED)")
        }
        return AWSConfiguration(
            region: region, credentialProvider: AWSCredentialProvider(source: source), endpointOverride: endpointOverride,
            serviceEndpointOverrides: serviceEndpoints)
    }

    /// The web identity, container or instance metadata source the environment sets up, in
    /// that order; nil when none is (instance metadata turned off).
    private static func dynamicCredentialSource(
        _ value: (String) -> String?, region: String, stsEndpoint: URL?
    ) throws(AWSError) -> (any AWSCredentialSource)? {
        switch (value("AWS_WEB_IDENTITY_TOKEN_FILE"), value("AWS_ROLE_ARN")) {
        case (let tokenFile?, let roleARN?):
            let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
            return WebIdentityCredentialSource(
                tokenFile: tokenFile, roleARN: roleARN,
                sessionName: value("AWS_ROLE_SESSION_NAME") ?? "dlq-reprocessor-\(Int(Date().timeIntervalSince1970))",
                stsEndpoint: stsEndpoint ?? URL(string: "https://sts.\(region).\(suffix)")!)
        case (.some, nil):
            throw configurationError("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: set both")
        case (nil, .some):
            throw configurationError("AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not: set both")
        case (nil, nil):
            break
        }
        let containerURL: URL?
        if let relative = value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            guard let url = URL(string: "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)) else {
                throw configurationError("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path: '\(relative)'")
            }
            containerURL = url
        } else if let full = value("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            containerURL = try endpointURL(full, variable: "AWS_CONTAINER_CREDENTIALS_FULL_URI")
        } else {
            containerURL = nil
        }
        var timeout = Duration.seconds(2)
        if let text = value("AWS_METADATA_SERVICE_TIMEOUT") {
            guard let seconds = Int(text), (1...300).contains(seconds) else {
                throw configurationError("AWS_METADATA_SERVICE_TIMEOUT must be whole seconds from 1 to 300, not '\(text)'")
            }
            timeout = .seconds(seconds)
        }
        if let containerURL {
            return try ContainerCredentialSource(
                url: containerURL, authorizationToken: value("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                authorizationTokenFile: value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), timeout: timeout)
        }
        guard value("AWS_EC2_METADATA_DISABLED")?.lowercased() != "true" else { return nil }
        let endpoint = try endpointURL(
            value("AWS_EC2_METADATA_SERVICE_ENDPOINT"), variable: "AWS_EC2_METADATA_SERVICE_ENDPOINT")
        return InstanceMetadataCredentialSource(
            endpoint: endpoint ?? InstanceMetadataCredentialSource.defaultEndpoint, timeout: timeout)
    }

    private static func endpointURL(_ text: String?, variable: String) throws(AWSError) -> URL? {
        guard let text else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host() != nil
        else {
            throw configurationError("\(variable) is not an http(s) URL: '\(text)'")
        }
        return url
    }

    static func configurationError(_ message: String) -> AWSError {
        AWSError(code: .configuration, service: "configuration", operation: "resolve", message: message)
    }
}

/// An AWS shared credentials or config file: INI sections of `key = value`.
struct SharedConfigFile {
    /// Profile name to its settings (keys lower-cased).
    var profiles: [String: [String: String]]

    /// Reads and parses `path`; `nil` when the file does not exist.
    static func load(path: String, isConfigFile: Bool) throws(AWSError) -> SharedConfigFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AWSConfiguration.configurationError("cannot read AWS \(isConfigFile ? "config" : "credentials") file \(path)")
        }
        return parse(text, isConfigFile: isConfigFile)
    }

    /// Parses the INI text. In a config file, `[profile name]` names profile
    /// `name` and `[default]` the default; other sections (`[sso-session …]`,
    /// `[services …]`) are ignored. Comments start with `#` or `;`.
    static func parse(_ text: String, isConfigFile: Bool) -> SharedConfigFile {
        var profiles: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if !isConfigFile {
                    current = section
                } else if section == "default" {
                    current = "default"
                } else if section.hasPrefix("profile ") {
                    current = section.dropFirst("profile ".count).trimmingCharacters(in: .whitespaces)
                } else {
                    current = nil
                }
                if let current, profiles[current] == nil { profiles[current] = [:] }
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            profiles[current]?[key] = value
        }
        return SharedConfigFile(profiles: profiles)
    }
}
