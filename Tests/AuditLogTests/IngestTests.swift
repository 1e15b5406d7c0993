import Foundation
import SQLite
import StreamModel
import Testing

@testable import AuditLog

@Suite("Ingest")
struct IngestTests {
    @Test(
        "a message and its changes are stored with every field, and each change gets an ingest action",
        arguments: StoreBackend.allCases)
    func storesEverything(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let change = Fixture.change(1)
        let filtered = Fixture.change(2, document: nil, status: .filtered, reason: "not an artist METADATA record")
        let outcomes = try await test.log.ingest(
            [Fixture.message("m-1", [change, filtered], correlationID: "corr-1")], at: Fixture.t0)
        #expect(outcomes.count == 1)
        #expect(outcomes[0].messageID == "m-1")
        #expect(!outcomes[0].duplicateMessage)
        #expect(outcomes[0].duplicateChanges == 0)
        let ids = outcomes[0].storedChangeIDs
        #expect(ids.count == 2)

        let stored = try #require(try await test.log.change(id: ids[0]))
        #expect(stored.messageID == "m-1")
        #expect(stored.streamARN == Fixture.streamARN)
        #expect(stored.shardID == change.shardID)
        #expect(stored.sequenceNumber == change.sequenceNumber)
        #expect(stored.eventID == "event-1")
        #expect(stored.eventName == .modify)
        #expect(stored.keys == change.keys)
        #expect(stored.documentID == "42")
        #expect(stored.oldImage == change.oldImage)
        #expect(stored.newImage == change.newImage)
        #expect(stored.approximateCreationTime == change.approximateCreationTime)
        #expect(stored.status == .pending)
        #expect(stored.attempts == 0)
        #expect(stored.nextAttemptAt == nil)
        #expect(stored.lastError == nil)
        #expect(stored.correlationID == "corr-1")
        #expect(stored.createdAt == Fixture.t0)
        #expect(stored.updatedAt == Fixture.t0)

        let filteredRecord = try #require(try await test.log.change(id: ids[1]))
        #expect(filteredRecord.status == .filtered)
        #expect(filteredRecord.lastError == "not an artist METADATA record")

        let actions = try await test.log.actions(forChange: ids[0])
        #expect(actions.map(\.action) == [.ingested])
        #expect(actions[0].actor == "system")
        #expect(actions[0].messageID == "m-1")
        #expect(actions[0].outcome == "pending")
        #expect(actions[0].at == Fixture.t0)
        #expect(actions[0].hash.count == 64)
        let filteredActions = try await test.log.actions(forChange: ids[1])
        #expect(filteredActions.map(\.action) == [.filtered])
        #expect(filteredActions[0].reason == "not an artist METADATA record")

        let message = try #require(try await test.log.message(id: "m-1"))
        #expect(message.body == #"{"Records":[]}"#)
        #expect(message.format == .forwardedRecords)
        #expect(message.correlationID == "corr-1")
        #expect(message.errorText == "OpenSearch timed out")
        #expect(message.receivedAt == Fixture.t0)
        #expect(message.receiveCount == 2)
        #expect(message.sentAt == Fixture.t0.addingTimeInterval(-5))
        #expect(message.quarantineReason == nil)
        #expect(try await test.log.message(id: "unknown") == nil)
    }

    @Test(
        "an expired batch placeholder keeps its batch info; a quarantined message keeps its body and reason",
        arguments: StoreBackend.allCases)
    func expiredAndQuarantined(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let batchInfo = try JSONValue(parsing: #"{"shardId":"s-1","startSequenceNumber":"800000000003126276362","batchSize":10}"#)
        let expired = NewChange(
            streamARN: Fixture.streamARN, shardID: "s-1", sequenceNumber: Fixture.sequence(5), status: .expired,
            reason: "TrimmedDataAccessException", batchInfo: batchInfo)
        let quarantined = NewMessage(
            messageID: "m-q", body: "not json at all", format: .unrecognized, receivedAt: Fixture.t0,
            disposition: .quarantined(reason: "not JSON: unexpected character 'n' at byte 0"))
        let batch = NewMessage(
            messageID: "m-a", body: "{}", format: .failedBatch, receivedAt: Fixture.t0, disposition: .changes([expired]))
        let outcomes = try await test.log.ingest([quarantined, batch], at: Fixture.t0)
        #expect(outcomes.map(\.storedChangeIDs.count) == [0, 1])

        let stored = try #require(try await test.log.change(id: outcomes[1].storedChangeIDs[0]))
        #expect(stored.status == .expired)
        #expect(stored.eventName == nil)
        #expect(stored.batchInfo == batchInfo)
        #expect(stored.lastError == "TrimmedDataAccessException")
        #expect(try await test.log.actions(forChange: stored.id).map(\.action) == [.expired])

        let message = try #require(try await test.log.message(id: "m-q"))
        #expect(message.body == "not json at all")
        #expect(message.quarantineReason == "not JSON: unexpected character 'n' at byte 0")
        let quarantineActions = try await test.log.listActions(ActionFilter(actions: [.quarantined]), after: nil, limit: 10).rows
        #expect(quarantineActions.count == 1)
        #expect(quarantineActions[0].messageID == "m-q")
        #expect(quarantineActions[0].changeID == nil)
        #expect(quarantineActions[0].reason == "not JSON: unexpected character 'n' at byte 0")
        let stats = try await test.log.stats()
        #expect(stats.messagesTotal == 2)
        #expect(stats.messagesQuarantined == 1)
    }

    @Test("a message ID seen before stores nothing", arguments: StoreBackend.allCases)
    func duplicateMessage(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let message = Fixture.message("m-1", [Fixture.change(1)])
        _ = try await test.log.ingest([message], at: Fixture.t0)
        let actionsBefore = try await test.log.verify().actionsChecked
        let again = try await test.log.ingest([message, message], at: Fixture.t0.addingTimeInterval(10))
        #expect(again.map(\.duplicateMessage) == [true, true])
        #expect(again.allSatisfy { $0.storedChangeIDs.isEmpty && $0.duplicateChanges == 0 })
        #expect(try await test.log.verify().actionsChecked == actionsBefore)
        #expect(try await test.log.stats().messagesTotal == 1)
        #expect(try await test.log.message(id: "m-1")?.receivedAt == Fixture.t0)
    }

    @Test(
        "a change already stored (same stream and sequence, or same event ID) in another message is a reported duplicate",
        arguments: StoreBackend.allCases)
    func duplicateChanges(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let first = try await test.log.ingest([Fixture.message("m-1", [Fixture.change(1), Fixture.change(2)])], at: Fixture.t0)
        let id1 = first[0].storedChangeIDs[0]
        let id2 = first[0].storedChangeIDs[1]
        // Same ARN + sequence, different event ID; same event ID under another ARN and sequence; and one new change.
        let sameIdentity = Fixture.change(1, eventID: "another-event-id")
        let sameEventID = Fixture.change(99, eventID: "event-2", streamARN: "arn:aws:dynamodb:eu-west-2:1:table/other/stream/x")
        let fresh = Fixture.change(3)
        let second = try await test.log.ingest(
            [Fixture.message("m-2", [sameIdentity, sameEventID, fresh, fresh])], at: Fixture.t0)
        #expect(!second[0].duplicateMessage)
        #expect(second[0].storedChangeIDs.count == 1)
        #expect(second[0].duplicateChanges == 3)
        #expect(try await test.log.stats().changes[.pending] == 3)

        let duplicateActions = try await test.log.listActions(ActionFilter(actions: [.duplicate]), after: nil, limit: 10).rows
        #expect(duplicateActions.map(\.changeID) == [id1, id2, second[0].storedChangeIDs[0]])
        #expect(duplicateActions.allSatisfy { $0.messageID == "m-2" })
        #expect(duplicateActions[0].outcome == "already stored as change \(id1)")
        // The original rows are untouched.
        #expect(try await test.log.change(id: id1)?.eventID == "event-1")
        #expect(try await test.log.change(id: id1)?.messageID == "m-1")
    }

    @Test(
        "a message of more changes than one statement holds stores each once, in order, with its images and its action; the chain verifies",
        arguments: StoreBackend.allCases)
    func manyChangesInOneMessage(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        // 150 changes cross two statement boundaries (64 rows a statement); change 64 comes twice,
        // the second time as the first row of the second statement, and change 3 was stored before.
        _ = try await test.log.ingest([Fixture.message("m-0", [Fixture.change(3)])], at: Fixture.t0)
        var changes = (1...150).map { Fixture.change($0, document: String($0 % 7)) }
        changes.insert(Fixture.change(64, document: String(64 % 7)), at: 64)
        let outcome = try await test.log.ingest([Fixture.message("m-1", changes)], at: Fixture.t0)[0]
        #expect(outcome.duplicateChanges == 2)
        #expect(outcome.storedChangeIDs.count == 149)
        #expect(outcome.storedChangeIDs == outcome.storedChangeIDs.sorted())

        var stored: [ChangeRecord] = []
        for id in outcome.storedChangeIDs { stored.append(try #require(try await test.log.change(id: id))) }
        let expected = (1...150).filter { $0 != 3 }.map { Fixture.change($0, document: String($0 % 7)) }
        #expect(stored.map(\.sequenceNumber) == expected.map(\.sequenceNumber))
        #expect(stored.map(\.newImage) == expected.map(\.newImage))
        #expect(stored.map(\.oldImage) == expected.map(\.oldImage))

        let actions = try await test.log.listActions(ActionFilter(), after: nil, limit: 200).rows.filter { $0.messageID == "m-1" }
        // One action per change, in the message's order: the duplicates where they came.
        #expect(actions.count == 151)
        #expect(actions.map(\.action).filter { $0 == .duplicate }.count == 2)
        #expect(actions[2].action == .duplicate)
        #expect(actions[64].action == .duplicate)
        #expect(actions[64].changeID == actions[63].changeID)
        #expect(actions.filter { $0.action == .ingested }.map(\.changeID) == outcome.storedChangeIDs)
        let report = try await test.log.verify()
        #expect(report.firstBrokenActionID == nil)
        #expect(report.firstBrokenRow == nil)
        #expect(report.rowsChecked >= 151)
    }

    @Test(
        "one group of every kind of message: outcomes and actions in the group's order, a message ID twice stored once",
        arguments: StoreBackend.allCases)
    func mixedGroup(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let quarantined = NewMessage(
            messageID: "m-q", body: "not json", format: .unrecognized, receivedAt: Fixture.t0,
            disposition: .quarantined(reason: "not JSON"))
        let group = [
            Fixture.message("m-1", [Fixture.change(1), Fixture.change(2)]), quarantined,
            Fixture.batchMessage("m-b", start: 10, end: 12), Fixture.message("m-1", [Fixture.change(3)]),
            Fixture.message("m-2", [Fixture.change(2), Fixture.change(4)]),
        ]
        let outcomes = try await test.log.ingest(group, at: Fixture.t0)
        #expect(outcomes.map(\.messageID) == ["m-1", "m-q", "m-b", "m-1", "m-2"])
        #expect(outcomes.map(\.duplicateMessage) == [false, false, false, true, false])
        #expect(outcomes.map(\.storedChangeIDs.count) == [2, 0, 0, 0, 1])
        #expect(outcomes.map(\.duplicateChanges) == [0, 0, 0, 0, 1])
        #expect(outcomes[2].batchID != nil)
        // Change 3 came only in the second m-1, which was not stored.
        #expect(try await test.log.stats().changes[.pending] == 3)

        let actions = try await test.log.listActions(ActionFilter(), after: nil, limit: 20).rows
        #expect(actions.map(\.messageID) == ["m-1", "m-1", "m-q", "m-b", "m-2", "m-2"])
        #expect(actions.map(\.action) == [.ingested, .ingested, .quarantined, .ingested, .duplicate, .ingested])
        #expect(actions[4].changeID == outcomes[0].storedChangeIDs[1])
        let report = try await test.log.verify()
        #expect(report.firstBrokenActionID == nil && report.firstBrokenRow == nil)
    }

    @Test("a first action's response is the compact, key-sorted JSON of the fingerprints it records")
    func fingerprintResponses() throws {
        let (message, change) = (String(repeating: "a", count: 64), String(repeating: "0", count: 64))
        for (messageFingerprint, changeFingerprint) in [(message, change), (message, nil), (nil, change), (nil, nil)] {
            var members: [String: JSONValue] = [:]
            if let messageFingerprint { members["messageFingerprint"] = .string(messageFingerprint) }
            if let changeFingerprint { members["changeFingerprint"] = .string(changeFingerprint) }
            #expect(
                RowFingerprint.response(message: messageFingerprint, change: changeFingerprint)
                    == JSONValue.object(members).serialized)
        }
    }

    @Test("changes without a stream ARN are still deduplicated by sequence number", arguments: StoreBackend.allCases)
    func duplicateWithoutARN(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        _ = try await test.log.ingest([Fixture.message("m-1", [Fixture.change(1, eventID: "a", streamARN: nil)])], at: Fixture.t0)
        let again = try await test.log.ingest(
            [Fixture.message("m-2", [Fixture.change(1, eventID: "b", streamARN: nil)])], at: Fixture.t0)
        #expect(again[0].duplicateChanges == 1)
        #expect(again[0].storedChangeIDs.isEmpty)
    }

    @Test(
        "a change ingested in a status other than pending, filtered or expired is refused and the whole group is not stored",
        arguments: StoreBackend.allCases)
    func refusesOtherStatuses(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        await #expect {
            try await test.log.ingest(
                [Fixture.message("m-1", [Fixture.change(1)]), Fixture.message("m-2", [Fixture.change(2, status: .applied)])],
                at: Fixture.t0)
        } throws: { error in
            (error as? AuditLogError)?.code == .illegalTransition
        }
        #expect(try await test.log.stats().messagesTotal == 0)
        #expect(try await test.log.message(id: "m-1") == nil)
    }

    @Test("a group is one transaction: a database failure part-way stores none of it")
    func groupIsAtomic() async throws {
        let test = try await TestLog()
        // Sabotage the file from outside: the second message's change makes the insert fail.
        let raw = try Connection(path: test.path)
        try raw.execute(
            """
            CREATE TRIGGER sabotage BEFORE INSERT ON changes WHEN NEW.sequence_number = '\(Fixture.sequence(2).digits)'
            BEGIN SELECT RAISE(ABORT, 'sabotaged insert'); END;
            """)
        await #expect {
            try await test.log.ingest(
                [Fixture.message("m-1", [Fixture.change(1)]), Fixture.message("m-2", [Fixture.change(2)])],
                at: Fixture.t0)
        } throws: { error in
            let error = error as? AuditLogError
            return error?.code == .storage && error?.description.contains("sabotaged insert") == true
        }
        #expect(try await test.log.stats().messagesTotal == 0)
        #expect(try await test.log.verify().actionsChecked == 0)
        try raw.execute("DROP TRIGGER sabotage")
        let retried = try await test.log.ingest([Fixture.message("m-1", [Fixture.change(1)])], at: Fixture.t0)
        #expect(retried[0].storedChangeIDs.count == 1)
    }
}
