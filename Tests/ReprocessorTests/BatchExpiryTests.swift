import AWSClients
import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

/// A batch expires only on proof that its records are gone; a stream that cannot be found is a
/// configuration error; an operator can reopen a batch that was expired. Through SQS, the real
/// executable, and moto's stream (behind a FaultProxy only for what moto cannot do: trim).
@Suite("batch expiry on proof")
struct BatchExpiryTests {
    @Test("a wrong streams endpoint puts the batches off and says so; once it is fixed they are read, none expired")
    func wrongEndpointIsAConfigurationError() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...4 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        let records = try await world.streamRecords()
        try await world.send([world.failedBatchBody(records, requestID: "wrong-endpoint", arrivedAt: Date())])
        // Another moto: a real endpoint that has never heard of the stream (as a wrong region or account).
        let elsewhere = try await MotoServer.start()
        let wrong = ["AWS_ENDPOINT_URL_DYNAMODB_STREAMS": elsewhere.url.absoluteString, "DLQ_BATCH_RETRY_SECONDS": "0"]

        let first = try await world.cli("run", "--once", "--json", environment: wrong)
        #expect(first.status == 0, "a batch put off is no operator's work yet: \(first)")
        let configurationLines = first.stderr.split(separator: "\n").filter { $0.contains("configuration error") }
        #expect(configurationLines.count == 1, "one line names the problem: \(first.stderr)")
        #expect(
            configurationLines.first?.contains(elsewhere.url.absoluteString) == true
                && configurationLines.first?.contains(world.streamARN) == true, "\(first.stderr)")
        let (_, stats) = try await world.cliJSON("stats")
        #expect(stats?["batches"]?["expired"]?.numberText == "0", "\(String(describing: stats))")
        #expect(stats?["batches"]?["pending"]?.numberText == "1")
        let unavailable = try #require(stats?["streamsUnavailable"]?.arrayValue)
        #expect(unavailable.map { $0["streamArn"]?.stringValue } == [world.streamARN])

        // A second pass with the same mistake: still waiting, still not expired.
        let second = try await world.cli("run", "--once", environment: wrong)
        #expect(second.status == 0, "\(second)")
        #expect(!second.stderr.contains("configuration error"), "said once, when first seen: \(second.stderr)")

        // Fixed: the batch is read, the problem is forgotten, the artists are in search.
        let fixed = try await world.cli("run", "--once", "--json", environment: ["DLQ_BATCH_RETRY_SECONDS": "0"])
        #expect(fixed.status == 0, "\(fixed)")
        let (_, after) = try await world.cliJSON("stats")
        #expect(after?["batches"]?["read"]?.numberText == "1", "\(String(describing: after))")
        #expect(after?["streamsUnavailable"]?.arrayValue?.isEmpty == true)
        for id in 1...4 { #expect(try await world.liveDocument("\(id)")?.source["name"]?.stringValue == "Artist \(id)") }
    }

    @Test("a batch expired by a trimmed stream can be reopened by an operator, with a reason, and is then read")
    func reopenAnExpiredBatch() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...3 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        let records = try await world.streamRecords()
        try await world.send([world.failedBatchBody(records, requestID: "trimmed", arrivedAt: Date())])
        let proxy = try await FaultProxy.start(upstream: world.moto.url)
        defer { proxy.stop() }
        proxy.fail(
            amzTarget: "GetRecords", times: 1, status: 400,
            body: FaultProxy.awsJSONErrorBody(type: "TrimmedDataAccessException", message: "trimmed"),
            headers: ["content-type": "application/x-amz-json-1.0"])
        let expired = try await world.cli(
            "run", "--once", environment: ["AWS_ENDPOINT_URL_DYNAMODB_STREAMS": proxy.url.absoluteString])
        #expect(expired.status == 3, "an expired batch waits for an operator: \(expired)")
        let (_, listed) = try await world.cliJSON("batches", "--status", "expired")
        let batch = try #require(listed?["batches"]?.arrayValue?.first)
        let id = try #require(batch["id"]?.numberText)

        let refused = try await world.cli("reopen-batch", id)
        #expect(refused.status == 2, "a reason is required: \(refused)")
        let reopen = try await world.cli("reopen-batch", id, "--reason", "the stream was reachable after all")
        #expect(reopen.status == 0, "\(reopen)")
        let again = try await world.cli("reopen-batch", id, "--reason", "twice")
        #expect(again.status != 0, "only an expired batch is reopened: \(again)")

        let run = try await world.cli("run", "--once")
        #expect(run.status == 0, "\(run)")
        for id in 1...3 { #expect(try await world.liveDocument("\(id)")?.source["name"]?.stringValue == "Artist \(id)") }
        let audit = try await world.cli("audit", "--action", "retried", "--format", "json")
        let actions = try #require(try? JSONValue(parsing: audit.stdout)["actions"]?.arrayValue, "\(audit)")
        #expect(actions.contains { $0["reason"]?.stringValue == "the stream was reachable after all" }, "\(actions)")
        #expect(try await world.cli("verify").status == 0)
    }
}
