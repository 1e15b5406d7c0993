import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform
import TestSupport
import Testing

/// A MODIFY forwarded without its old image has nothing to roll back to: rollback refuses it,
/// and a forced rollback writes the table's current item, never a delete.
@Suite("rollback of a change without an old image")
struct RollbackWithoutOldImageTests {
    @Test("a MODIFY without OldImage: rollback is refused and deletes nothing; --force writes the table's current item")
    func modifyWithoutOldImage() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("8", name: "First")
        try await world.putArtist("8", name: "Second")
        let records = try await world.streamRecords()
        var modify = try #require(records.last { $0.record.eventName == .modify }?.record)
        modify.dynamodb.oldImage = nil
        try await world.send([world.forwardedBody([modify])])
        let run = try await world.cli("run", "--once")
        #expect(run.status == 0, "\(run)")
        #expect(try await world.liveDocument("8")?.source["name"]?.stringValue == "Second")
        let log = try AuditLog(path: world.auditDatabasePath)
        let change = try #require(try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows.first)
        #expect(change.status == .applied && change.eventName == .modify && change.oldImage == nil)

        let refused = try await world.cli("rollback", String(change.id), "--reason", "bad edit", "--json")
        #expect(refused.status == 1, "\(refused)")
        let result = try JSONValue(parsing: refused.stdout)["results"]?.arrayValue?.first
        #expect(result?["outcome"]?.stringValue == "refused", "\(refused)")
        #expect(result?["message"]?.stringValue?.contains("no old image") == true, "\(refused)")
        #expect(try await world.liveDocument("8")?.source["name"]?.stringValue == "Second", "nothing deleted")
        #expect(try await log.change(id: change.id)?.status == .applied)

        // The table moved on since: a forced rollback writes what the table holds now.
        try await world.putArtist("8", name: "Third")
        let forced = try await world.cli("rollback", String(change.id), "--reason", "bad edit", "--force", "--json")
        #expect(forced.status == 0, "\(forced)")
        #expect(
            try JSONValue(parsing: forced.stdout)["results"]?.arrayValue?.first?["outcome"]?.stringValue == "rolled_back",
            "\(forced)")
        let live = try #require(try await world.liveDocument("8"), "a forced rollback never deletes")
        #expect(live.source["name"]?.stringValue == "Third")
        #expect(live.source["sync"]?["eventName"]?.stringValue == "RESYNC")
        #expect(try await log.change(id: change.id)?.status == .rolledBack)
        #expect(try await log.openWriteIntents(recordedBefore: Date(), limit: 10).isEmpty)
        #expect(try await world.cli("verify").status == 0)
    }
}
