import AWSClients
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StreamModel

/// Test helpers for AWS resources on a moto server: configurations, queues,
/// tables with streams, secrets, and IAM keys for signature checks.
public enum AWSFixtures {
    /// A fixture step that failed, with what moto answered.
    public struct FixtureError: Error, CustomStringConvertible {
        /// One line.
        public let description: String
    }

    /// The region the fixtures use.
    public static let region = "eu-west-2"

    /// The key moto accepts when it does not check signatures.
    public static let testCredentials = AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing")

    /// How many unsigned calls ``createIAMUserWithAccessKey(motoURL:userName:)`` spends: start moto with
    /// `MotoServer.start(initialNoAuthActionCount: AWSFixtures.iamBootstrapCalls)` (or more).
    public static let iamBootstrapCalls = 3

    /// A logger that drops everything, for clients in tests.
    public static let quietLogger = Logger(label: "aws-fixtures", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A configuration that sends every service to `motoURL`.
    /// - Parameters:
    ///   - motoURL: The moto base URL (``MotoServer/url``).
    ///   - credentials: The key to sign with.
    public static func configuration(motoURL: URL, credentials: AWSCredentials = testCredentials) -> AWSConfiguration {
        AWSConfiguration(region: region, credentials: credentials, endpointOverride: motoURL)
    }

    /// `sequence + amount`, in decimal digits (sequence numbers outgrow 64-bit integers).
    public static func sequence(_ sequence: SequenceNumber, plus amount: Int) -> SequenceNumber {
        var digits = Array(sequence.digits.utf8.map { Int($0 - 48) })
        var carry = amount
        var index = digits.count - 1
        while carry > 0 {
            if index < 0 {
                digits.insert(0, at: 0)
                index = 0
            }
            let sum = digits[index] + carry
            digits[index] = sum % 10
            carry = sum / 10
            index -= 1
        }
        return SequenceNumber(String(digits.map { Character(String($0)) }))!
    }

    /// `prefix` plus a random suffix, so parallel tests never share a name.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Creates a standard queue.
    /// - Parameters:
    ///   - name: The queue name.
    ///   - attributes: Queue attributes such as `VisibilityTimeout`.
    ///   - configuration: Where and as whom.
    /// - Returns: The queue URL.
    public static func createQueue(
        named name: String, attributes: [String: String] = [:], configuration: AWSConfiguration
    ) async throws -> String {
        try await SQSClient(configuration: configuration, logger: quietLogger)
            .createQueue(name: name, attributes: attributes)
    }

    /// Creates a table keyed by `PK` (hash) and `SK` (range), both strings,
    /// with a `NEW_AND_OLD_IMAGES` stream.
    /// - Returns: The stream ARN.
    public static func createTableWithStream(named name: String, configuration: AWSConfiguration) async throws -> String {
        try await DynamoDBClient(configuration: configuration, logger: quietLogger).createTableWithStream(tableName: name)
    }

    /// Creates a Secrets Manager secret with a string value.
    /// - Returns: The secret's ARN.
    public static func createSecret(named name: String, value: String, configuration: AWSConfiguration) async throws
        -> String
    {
        let client = AWSJSONClient(service: .secretsManager, configuration: configuration, logger: quietLogger)
        let response = try await client.call(
            "CreateSecret", .object(["Name": .string(name), "SecretString": .string(value)]))
        guard let arn = response["ARN"]?.stringValue else {
            throw FixtureError(description: "CreateSecret \(name) returned no ARN")
        }
        return arn
    }

    /// Creates an IAM user allowed to do everything, and an access key for it,
    /// in ``iamBootstrapCalls`` calls that moto does not verify (IAM's Query
    /// protocol: CreateUser, PutUserPolicy, CreateAccessKey). moto routes a
    /// request by the service in its credential scope, so these calls are
    /// signed with a throwaway key it ignores.
    /// - Parameters:
    ///   - motoURL: A moto started with `initialNoAuthActionCount` ≥ ``iamBootstrapCalls``, before any other call.
    ///   - userName: The user to create.
    /// - Returns: The new key, which moto then checks signatures against.
    public static func createIAMUserWithAccessKey(motoURL: URL, userName: String = "reprocessor-test") async throws
        -> AWSCredentials
    {
        let allowAll = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try await iamCall(motoURL: motoURL, ["Action": "CreateUser", "UserName": userName])
        _ = try await iamCall(
            motoURL: motoURL,
            ["Action": "PutUserPolicy", "UserName": userName, "PolicyName": "allow-all", "PolicyDocument": allowAll])
        let response = try await iamCall(motoURL: motoURL, ["Action": "CreateAccessKey", "UserName": userName])
        guard let keyID = xmlText("AccessKeyId", in: response),
            let secret = xmlText("SecretAccessKey", in: response)
        else {
            throw FixtureError(description: "CreateAccessKey answered without AccessKeyId/SecretAccessKey")
        }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret)
    }

    /// Creates an IAM role allowed to do everything, which any web identity may assume, in
    /// 2 calls that moto does not verify (CreateRole, PutRolePolicy).
    /// - Parameters:
    ///   - motoURL: A moto started with `initialNoAuthActionCount` ≥ 2, before any other call.
    ///   - roleName: The role to create.
    /// - Returns: The role's ARN.
    public static func createRoleAllowingAll(motoURL: URL, roleName: String = "reprocessor-role") async throws -> String {
        let trust =
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#
        let allowAll = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        let response = try await iamCall(
            motoURL: motoURL, ["Action": "CreateRole", "RoleName": roleName, "AssumeRolePolicyDocument": trust])
        _ = try await iamCall(
            motoURL: motoURL,
            ["Action": "PutRolePolicy", "RoleName": roleName, "PolicyName": "allow-all", "PolicyDocument": allowAll])
        guard let arn = xmlText("Arn", in: response) else {
            throw FixtureError(description: "CreateRole answered without an Arn")
        }
        return arn
    }

    private static func iamCall(motoURL: URL, _ parameters: [String: String]) async throws -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let form = (parameters.merging(["Version": "2010-05-08"]) { $1 })
            .sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value)" }
            .joined(separator: "&")
        let body = Array(form.utf8)
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "bootstrap", secretAccessKey: "bootstrap"), region: "us-east-1",
            service: AWSService.iam.signingName)
        let headers = signer.sign(
            method: "POST", url: motoURL,
            headers: [(name: "content-type", value: "application/x-www-form-urlencoded; charset=utf-8")], body: body,
            date: Date())
        var request = HTTPClientRequest(url: motoURL.absoluteString)
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(body)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1024 * 1024))
        guard response.status.code == 200 else {
            throw FixtureError(
                description: "IAM \(parameters["Action"] ?? "") failed with HTTP \(response.status.code): "
                    + (xmlText("Message", in: text) ?? text.prefix(200).description))
        }
        return text
    }

    /// The text of the first `<name>…</name>` (IAM answers in XML; the values needed hold no entities).
    private static func xmlText(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"),
            let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex)
        else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
    }
}
