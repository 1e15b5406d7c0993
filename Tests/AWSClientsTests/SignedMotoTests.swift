import AWSClients
import Foundation
import Logging
import StreamModel
import Synchronization
import TestSupport
import Testing

@Suite("SigV4 checked by moto, and transport failures")
struct SignedMotoTests {
    @Test("calls signed with a real IAM key succeed; a wrong secret is signatureDoesNotMatch")
    func signatureVerified() async throws {
        let moto = try await MotoServer.start(initialNoAuthActionCount: AWSFixtures.iamBootstrapCalls)
        defer { moto.stop() }
        let credentials = try await AWSFixtures.createIAMUserWithAccessKey(motoURL: moto.url)
        let signed = AWSFixtures.configuration(motoURL: moto.url, credentials: credentials)

        let sqs = SQSClient(configuration: signed, retryPolicy: .none, logger: AWSFixtures.quietLogger)
        let queueURL = try await sqs.createQueue(name: "signed")
        #expect(try await sqs.getQueueURL(name: "signed") == queueURL)
        let table = "signed-table"
        let streamARN = try await AWSFixtures.createTableWithStream(named: table, configuration: signed)
        let dynamoDB = DynamoDBClient(configuration: signed, retryPolicy: .none, logger: AWSFixtures.quietLogger)
        #expect(try await dynamoDB.latestStreamARN(tableName: table) == streamARN)
        let streams = DynamoDBStreamsClient(configuration: signed, retryPolicy: .none, logger: AWSFixtures.quietLogger)
        #expect(try await streams.describeStream(streamARN: streamARN).count == 1)

        let wrongSecret = AWSFixtures.configuration(
            motoURL: moto.url,
            credentials: AWSCredentials(
                accessKeyID: credentials.accessKeyID, secretAccessKey: "wrong-\(credentials.secretAccessKey)"))
        let refused = await #expect(throws: AWSError.self) {
            try await SQSClient(configuration: wrongSecret, logger: AWSFixtures.quietLogger).getQueueURL(name: "signed")
        }
        #expect(refused?.code == .signatureDoesNotMatch)
        #expect(refused?.statusCode == 403)
        #expect(refused?.isRetryable == false)
        #expect(refused.map { !$0.description.contains(credentials.secretAccessKey) } == true)

        let refusedDynamoDB = await #expect(throws: AWSError.self) {
            try await DynamoDBClient(configuration: wrongSecret, logger: AWSFixtures.quietLogger).latestStreamARN(
                tableName: table)
        }
        #expect(refusedDynamoDB?.code == .signatureDoesNotMatch)

        let unknownKey = AWSFixtures.configuration(
            motoURL: moto.url, credentials: AWSCredentials(accessKeyID: "AKIAUNKNOWNKEY000000", secretAccessKey: "x"))
        let unknown = await #expect(throws: AWSError.self) {
            try await SQSClient(configuration: unknownKey, logger: AWSFixtures.quietLogger).getQueueURL(name: "signed")
        }
        #expect(unknown?.code == .clientError)
        #expect(unknown?.type == "InvalidClientTokenId")
    }

    @Test("a refused connection is a connection error after the retries")
    func connectionRefused() async throws {
        // A port held by a socket that never listens: every connect is refused at once, and no
        // other test can take the port meanwhile. (A just-stopped moto was used before; under
        // load its first connect had not failed within a 1 s deadline, and AsyncHTTPClient
        // then reports a timeout, which is not what is tested.)
        let refusing = try LoopbackPort.Refusing()
        let endpoint = try #require(URL(string: "http://127.0.0.1:\(refusing.port)"))
        // AsyncHTTPClient keeps retrying a refused connect until the request deadline and then
        // fails with the last connect error: the deadline only bounds how long that takes.
        let sqs = SQSClient(
            configuration: AWSFixtures.configuration(motoURL: endpoint),
            retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)),
            logger: AWSFixtures.quietLogger, requestTimeout: .seconds(3))
        let error = await #expect(throws: AWSError.self) {
            try await sqs.getQueueURL(name: "anything")
        }
        #expect(error?.code == .connection, "\(String(describing: error))")
        #expect(error?.isRetryable == true)
        #expect(error?.message.hasPrefix("cannot reach \(endpoint.absoluteString)") == true)
        withExtendedLifetime(refusing) {}
    }

    @Test("retries are logged, and no log line or error carries the secret or the session token")
    func logsRedacted() async throws {
        let refusing = try LoopbackPort.Refusing()
        defer { withExtendedLifetime(refusing) {} }
        let endpoint = try #require(URL(string: "http://127.0.0.1:\(refusing.port)"))
        let secret = "SECRET-\(UUID().uuidString)"
        let token = "TOKEN-\(UUID().uuidString)"
        let configuration = AWSFixtures.configuration(
            motoURL: endpoint,
            credentials: AWSCredentials(accessKeyID: "AKIDLOGGED", secretAccessKey: secret, sessionToken: token))
        let sink = LogSink()
        var logger = Logger(label: "redaction-test", factory: { _ in RecordingLogHandler(sink: sink) })
        logger.logLevel = .trace
        let sqs = SQSClient(
            configuration: configuration, retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1)),
            logger: logger, requestTimeout: .seconds(1))
        let error = await #expect(throws: AWSError.self) {
            try await sqs.getQueueURL(name: "anything")
        }
        let lines = sink.lines
        #expect(lines.filter { $0.hasPrefix("notice retrying AWS call") }.count == 2)
        #expect(lines.filter { $0.hasPrefix("debug AWS call") }.count == 3)
        for text in lines + [error.map(String.init(describing:)) ?? "", "\(configuration)"] {
            #expect(!text.contains(secret))
            #expect(!text.contains(token))
        }
    }

    @Test("a response slower than the request timeout is a timeout")
    func requestTimeout() async throws {
        let direct = try await SharedMoto.configuration()
        let queueURL = try await AWSFixtures.createQueue(named: AWSFixtures.uniqueName("slow"), configuration: direct)
        // A proxy holds the call a minute, far past the client's 300 ms: the answer certainly
        // comes after the timeout, whatever the machine's load. (A long poll on moto was used
        // before, and a loaded moto sometimes answers one at once, empty.)
        let proxy = try await FaultProxy.start(upstream: try #require(direct.endpointOverride))
        defer { proxy.stop() }
        proxy.delayNext(1, by: .seconds(60))
        let client = AWSJSONClient(
            service: .sqs, configuration: AWSFixtures.configuration(motoURL: proxy.url), retryPolicy: .none,
            requestTimeout: .milliseconds(300), logger: AWSFixtures.quietLogger)
        do {
            _ = try await client.call("GetQueueAttributes", .object(["QueueUrl": .string(queueURL)]))
            Issue.record("answered, though the proxy held the call past the timeout")
        } catch let error as AWSError {
            #expect(error.code == .timeout, "\(error)")
            #expect(error.isRetryable)
        }
    }

    @Test("a response larger than the cap is refused with a clear error")
    func responseSizeCap() async throws {
        let configuration = try await SharedMoto.configuration()
        let queueURL = try await AWSFixtures.createQueue(named: AWSFixtures.uniqueName("big"), configuration: configuration)
        let sqs = SQSClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        _ = try await sqs.sendMessageBatch(
            queueURL: queueURL, entries: [(id: "big", body: String(repeating: "x", count: 8 * 1024), attributes: [:])])
        let capped = AWSJSONClient(
            service: .sqs, configuration: configuration, retryPolicy: .none, maxResponseBytes: 4 * 1024,
            logger: AWSFixtures.quietLogger)
        let error = await #expect(throws: AWSError.self) {
            try await capped.call("ReceiveMessage", .object(["QueueUrl": .string(queueURL), "WaitTimeSeconds": .number("1")]))
        }
        #expect(error?.code == .invalidResponse)
        #expect(error?.message == "response body larger than 4096 bytes")
    }

    @Test("IAM is not a JSON-protocol service")
    func iamRefused() async throws {
        let configuration = try await SharedMoto.configuration()
        let client = AWSJSONClient(service: .iam, configuration: configuration, logger: AWSFixtures.quietLogger)
        let error = await #expect(throws: AWSError.self) {
            try await client.call("ListUsers", .object([:]))
        }
        #expect(error?.code == .configuration)
    }
}

/// Where ``RecordingLogHandler`` puts its lines; the `Mutex` guards them.
final class LogSink: Sendable {
    private let recorded = Mutex<[String]>([])
    var lines: [String] { recorded.withLock { $0 } }
    func append(_ line: String) { recorded.withLock { $0.append(line) } }
}

/// A log handler that records every line (level, message, metadata) in a ``LogSink``.
struct RecordingLogHandler: LogHandler {
    let sink: LogSink
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        sink.append("\(event.level) \(event.message) \(fields.joined(separator: " "))")
    }
}
