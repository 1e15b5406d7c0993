import AWSClients
import Foundation
import TestSupport
import Testing

/// One moto for the AWS integration suites of this process; every test uses its own queue, table or secret names.
enum SharedMoto {
    private static let server = Task { try await MotoServer.start() }

    /// A configuration pointing at the shared moto.
    static func configuration() async throws -> AWSConfiguration {
        AWSFixtures.configuration(motoURL: try await server.value.url)
    }
}

@Suite("SQS against moto")
struct SQSIntegrationTests {
    @Test("send batch, receive with attributes, change visibility, delete batch with a per-entry failure")
    func queueRoundTrip() async throws {
        let configuration = try await SharedMoto.configuration()
        let sqs = SQSClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        let queueURL = try await AWSFixtures.createQueue(
            named: AWSFixtures.uniqueName("round-trip"), attributes: ["VisibilityTimeout": "30"],
            configuration: configuration)
        #expect(try await sqs.getQueueURL(name: URL(string: queueURL)!.lastPathComponent) == queueURL)

        let bodies = [
            "a": #"{"Records":[{"eventName":"INSERT","n":12345678901234567890.123}]}"#,
            "b": "not json at all ✓",
            "c": #"{"DDBStreamBatchInfo":{}}"#,
        ]
        let sent = try await sqs.sendMessageBatch(
            queueURL: queueURL,
            entries: bodies.keys.sorted().map { (id: $0, body: bodies[$0]!, attributes: ["correlationId": "corr-\($0)"]) })
        #expect(Set(sent.successful) == ["a", "b", "c"])
        #expect(sent.failed.isEmpty)
        #expect(try await sqs.approximateMessageCounts(queueURL: queueURL) == (visible: 3, inFlight: 0))

        var received: [SQSMessage] = []
        for _ in 0..<10 where received.count < 3 {
            received += try await sqs.receiveMessages(queueURL: queueURL, maxMessages: 50, waitTimeSeconds: 1)
        }
        #expect(received.count == 3)
        #expect(Set(received.map(\.body)) == Set(bodies.values))
        for message in received {
            let id = try #require(bodies.first { $0.value == message.body }?.key)
            #expect(message.messageAttributes == ["correlationId": "corr-\(id)"])
            #expect(message.receiveCount == 1)
            #expect(message.attributes["ApproximateReceiveCount"] == "1")
            let sentTimestamp = try #require(message.attributes["SentTimestamp"])
            #expect(message.sentAt == Date(timeIntervalSince1970: Double(sentTimestamp)! / 1000))
            #expect(message.attributes["SenderId"] != nil)
        }
        #expect(try await sqs.approximateMessageCounts(queueURL: queueURL) == (visible: 0, inFlight: 3))

        // Make one visible again: it comes back with a higher receive count.
        let first = received[0]
        try await sqs.changeMessageVisibility(queueURL: queueURL, receiptHandle: first.receiptHandle, timeoutSeconds: 0)
        let again = try await sqs.receiveMessages(queueURL: queueURL, maxMessages: 10, waitTimeSeconds: 1)
        #expect(again.map(\.messageID) == [first.messageID])
        #expect(again.first?.receiveCount == 2)

        let handles = [again[0]] + received.dropFirst()
        let deleted = try await sqs.deleteMessageBatch(
            queueURL: queueURL,
            entries: handles.enumerated().map { (id: "m\($0.offset)", receiptHandle: $0.element.receiptHandle) }
                + [(id: "bogus", receiptHandle: "not-a-receipt-handle")])
        #expect(Set(deleted.successful) == ["m0", "m1", "m2"])
        #expect(deleted.failed.count == 1)
        let failure = try #require(deleted.failed.first)
        #expect(failure.id == "bogus")
        #expect(failure.code == "ReceiptHandleIsInvalid")
        #expect(failure.senderFault)
        #expect(try await sqs.approximateMessageCounts(queueURL: queueURL) == (visible: 0, inFlight: 0))
    }

    @Test("batches longer than ten entries are split and all reported")
    func largeBatches() async throws {
        let configuration = try await SharedMoto.configuration()
        let sqs = SQSClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        let queueURL = try await AWSFixtures.createQueue(named: AWSFixtures.uniqueName("large"), configuration: configuration)
        let sent = try await sqs.sendMessageBatch(
            queueURL: queueURL, entries: (0..<23).map { (id: "e\($0)", body: "body \($0)", attributes: [:]) })
        #expect(sent.successful.count == 23)
        #expect(try await sqs.approximateMessageCounts(queueURL: queueURL).visible == 23)
        let empty = try await sqs.deleteMessageBatch(queueURL: queueURL, entries: [])
        #expect(empty == BatchResult())
    }

    @Test("an empty queue returns no messages after the long poll")
    func emptyReceive() async throws {
        let configuration = try await SharedMoto.configuration()
        let sqs = SQSClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        let queueURL = try await AWSFixtures.createQueue(named: AWSFixtures.uniqueName("empty"), configuration: configuration)
        #expect(try await sqs.receiveMessages(queueURL: queueURL, maxMessages: 0, waitTimeSeconds: 1).isEmpty)
    }

    @Test("a missing queue is queueDoesNotExist, by name and by URL")
    func missingQueue() async throws {
        let configuration = try await SharedMoto.configuration()
        let sqs = SQSClient(configuration: configuration, logger: AWSFixtures.quietLogger)
        let byName = await #expect(throws: AWSError.self) {
            try await sqs.getQueueURL(name: AWSFixtures.uniqueName("missing"))
        }
        #expect(byName?.code == .queueDoesNotExist)
        #expect(byName?.statusCode == 400)
        #expect(byName?.requestID != nil)
        #expect(byName?.operation == "GetQueueUrl")

        let existing = try await AWSFixtures.createQueue(named: AWSFixtures.uniqueName("exists"), configuration: configuration)
        let missingURL = existing.replacingOccurrences(of: "exists-", with: "gone-")
        let byURL = await #expect(throws: AWSError.self) {
            try await sqs.receiveMessages(queueURL: missingURL, maxMessages: 1, waitTimeSeconds: 0)
        }
        #expect(byURL?.code == .queueDoesNotExist)
    }
}
