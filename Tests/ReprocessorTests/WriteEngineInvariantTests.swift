import AuditLog
import Foundation
import OpenSearchClient
import Reprocessor
import StreamModel
import SyncTransform
import TestSupport
import Testing

/// The write engine's invariants (DESIGN §5), end to end: the built executable against real moto
/// and osmem, every write read back from the audit log it recorded.
@Suite("write engine invariants")
struct WriteEngineInvariantTests {
    /// The artist's records in stream order.
    static func records(of id: String, in world: ReprocessorWorld) async throws -> [StreamRecord] {
        try await world.streamRecords().map(\.record).filter { $0.dynamodb.keys == ReprocessorWorld.artistKeys(id) }
    }

    /// Every document the engine wrote for `documentID`, in the order search applied them (`seqNo`).
    static func writes(of documentID: String, in world: ReprocessorWorld) async throws -> [JSONValue] {
        let log = try AuditLog(path: world.auditDatabasePath)
        let history = try await log.history(documentID: documentID)
        let written = history.actions.compactMap { action -> (Int, JSONValue)? in
            guard let response = action.response, let parsed = try? JSONValue(parsing: response),
                let seqNo = parsed["seqNo"]?.intValue, let document = parsed["written"]
            else { return nil }
            return (seqNo, document)
        }
        return written.sorted { $0.0 < $1.0 }.map(\.1)
    }

    @Test("an insert of a missing document, then late older changes: search only ever shows the table's newest content")
    func neverBackInTime() async throws {
        let world = try await ReprocessorWorld.start()
        for version in ["v1", "v2", "v3"] { try await world.putArtist("5", name: version) }
        let records = try await Self.records(of: "5", in: world)
        #expect(records.map(\.eventName) == [.insert, .modify, .modify])

        // The changes arrive one run at a time, oldest first, while the table already holds v3.
        for record in records {
            try await world.send([world.forwardedBody([record])])
            let run = try await world.cli("run", "--once")
            #expect(run.status == 0, "\(run)")
            let live = try #require(try await world.liveDocument("5"))
            #expect(live.source["name"]?.stringValue == "v3", "search went back in time after \(record.dynamodb.sequenceNumber)")
            #expect(SyncTransform.syncedSequenceNumber(in: live.source) == record.dynamodb.sequenceNumber)
        }
        let live = try #require(try await world.liveDocument("5"))
        #expect(live.source["sync"]?["eventName"]?.stringValue == "MODIFY", "the newest change's own image, at last")

        let written = try await Self.writes(of: "5", in: world)
        #expect(written.count == 3, "one write per run, each recorded with its response")
        #expect(written.allSatisfy { $0["name"]?.stringValue == "v3" }, "\(written.map { $0["name"] ?? .null })")
        let (_, history) = try await world.cliJSON("history", "5", "--at", AuditJSON.time(Date()))
        #expect(history?["document"]?["name"]?.stringValue == "v3")

        // Rolling back the middle change would restore v1 under a newer applied change: refused, naming both.
        let (_, listed) = try await world.cliJSON("list", "--key", "5")
        let middle = try #require(listed?["changes"]?.arrayValue?[1]["id"]?.intValue)
        let rollback = try await world.cli("rollback", String(middle), "--reason", "undo")
        #expect(rollback.status == 1, "\(rollback)")
        #expect(rollback.stdout.contains("conflict"), "\(rollback)")
        #expect(
            rollback.stdout.contains(records[1].dynamodb.sequenceNumber.digits)
                && rollback.stdout.contains(records[2].dynamodb.sequenceNumber.digits), "\(rollback)")
        #expect(try await world.liveDocument("5")?.source["name"]?.stringValue == "v3")
        #expect(try await world.cli("verify").status == 0)
    }

    @Test("REMOVE, INSERT, REMOVE all applied: rollback of the first REMOVE is refused naming both sequences; --force re-creates")
    func rollbackOfAnOldRemove() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("6", name: "before")
        try await world.deleteArtist("6")
        try await world.putArtist("6", name: "again")
        try await world.deleteArtist("6")
        let records = try await Self.records(of: "6", in: world)
        #expect(records.map(\.eventName) == [.insert, .remove, .insert, .remove])
        // Each change replayed on its own, so that each is applied (the insert while the table held it).
        try await world.send([world.forwardedBody([records[1]])])
        #expect(try await world.cli("run", "--once").status == 0)
        try await world.putArtist("6", name: "again")
        try await world.send([world.forwardedBody([records[2]])])
        #expect(try await world.cli("run", "--once").status == 0)
        #expect(try await world.liveDocument("6")?.source["name"]?.stringValue == "again")
        try await world.deleteArtist("6")
        try await world.send([world.forwardedBody([records[3]])])
        #expect(try await world.cli("run", "--once").status == 0)
        #expect(try await world.liveDocument("6") == nil)
        let (_, applied) = try await world.cliJSON("list", "--key", "6", "--status", "applied")
        let ids = try #require(applied?["changes"]?.arrayValue).compactMap { $0["id"]?.intValue }
        #expect(ids.count == 3, "REMOVE, INSERT and REMOVE all applied")

        let refused = try await world.cli("rollback", String(ids[0]), "--reason", "bring the artist back")
        #expect(refused.status == 1, "\(refused)")
        #expect(
            refused.stdout.contains(records[1].dynamodb.sequenceNumber.digits)
                && refused.stdout.contains(records[3].dynamodb.sequenceNumber.digits), "\(refused)")
        #expect(try await world.liveDocument("6") == nil, "a refused rollback re-creates nothing")

        let forced = try await world.cli("rollback", String(ids[0]), "--reason", "bring the artist back", "--force")
        #expect(forced.status == 0, "\(forced)")
        let restored = try #require(try await world.liveDocument("6"))
        #expect(restored.source["name"]?.stringValue == "before")
        #expect(restored.source["sync"]?["eventName"]?.stringValue == "ROLLBACK")
        #expect(try await world.cli("verify").status == 0)
    }

    @Test("a document's due changes coalesce into one write of the newest; the rest are superseded by it")
    func coalescedWrite() async throws {
        let world = try await ReprocessorWorld.start()
        for version in 1...4 { try await world.putArtist("8", name: "v\(version)") }
        let records = try await Self.records(of: "8", in: world)
        // Out of order, over two messages.
        try await world.send([
            world.forwardedBody([records[2], records[0]]), world.forwardedBody([records[3], records[1]]),
        ])
        let (run, json) = try await world.cliJSON("run", "--once")
        #expect(run.status == 0, "\(run)")
        #expect(json?["replay"]?["writes"]?.intValue == 1)
        #expect(json?["replay"]?["applied"]?.intValue == 1)
        #expect(json?["replay"]?["superseded"]?.intValue == 3)
        #expect(try await Self.writes(of: "8", in: world).map { $0["name"]?.stringValue } == ["v4"])
        let (_, superseded) = try await world.cliJSON("list", "--key", "8", "--status", "superseded")
        #expect(superseded?["changes"]?.arrayValue?.count == 3)
    }
}
