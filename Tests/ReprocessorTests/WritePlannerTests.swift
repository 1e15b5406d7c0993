import AWSClients
import AuditLog
import Foundation
import OpenSearchClient
import Reprocessor
import StreamModel
import SyncTransform
import Testing

/// The planners are pure: every replay rule of DESIGN §5, decided without servers.
@Suite("write planners")
struct WritePlannerTests {
    let planner = WritePlanner(transform: SyncTransform(index: "artists"), maxAttempts: 3, backoff: RetryPolicy())
    let context = WritePlanner.Context(actor: "system", now: Date(timeIntervalSince1970: 1_800_000_000))
    static let keys: Item = ["PK": .string("ARTIST#7"), "SK": .string("METADATA")]

    static func item(_ name: String) -> Item {
        keys.merging(["name": .string(name)]) { $1 }
    }

    static func change(
        _ id: Int64, _ event: EventName, sequence: Int, new: Item? = nil, old: Item? = nil, status: ChangeStatus = .pending,
        attempts: Int = 0
    ) -> ChangeRecord {
        ChangeRecord(
            id: id, messageID: "m", streamARN: "arn:stream", shardID: "shard", sequenceNumber: SequenceNumber(String(sequence))!,
            eventID: "e\(id)", eventName: event, keys: keys, documentID: "ARTIST#7", oldImage: old,
            newImage: event == .remove ? nil : (new ?? item("v\(sequence)")), approximateCreationTime: nil, status: status,
            attempts: attempts, nextAttemptAt: nil, lastError: nil, batchInfo: nil, correlationID: nil,
            createdAt: Date(), updatedAt: Date())
    }

    /// A live document as the engine writes it: `sync.sequenceNumber` and `sync.eventName`.
    static func live(sequence: Int, event: String, name: String = "live", seqNo: Int64 = 4) -> OpenSearchDocument {
        OpenSearchDocument(
            id: "ARTIST#7", seqNo: seqNo, primaryTerm: 1,
            source: .object([
                "name": .string(name),
                "sync": .object(["sequenceNumber": .string(String(sequence)), "eventName": .string(event)]),
            ]))
    }

    func decided(_ plan: DocumentPlan) throws -> (write: PlannedWrite?, decisions: [Int64: ChangeDecision]) {
        guard case .decided(let write, let decisions) = plan else {
            Issue.record("expected a decision, got \(plan)")
            throw CancellationError()
        }
        return (write, Dictionary(uniqueKeysWithValues: decisions.map { ($0.change.id, $0) }))
    }

    func indexed(_ write: PlannedWrite?) -> (document: JSONValue, condition: WriteCondition?)? {
        guard case .index(_, let document, let condition)? = write?.operation else { return nil }
        return (document, condition)
    }

    @Test("a document's due changes coalesce into one write of the newest; the older settle as superseded by it")
    func coalesces() throws {
        let changes = [
            Self.change(3, .modify, sequence: 30), Self.change(1, .insert, sequence: 10),
            Self.change(2, .modify, sequence: 20),
        ]
        let (write, decisions) = try decided(
            planner.replay(changes, facts: DocumentFacts(live: Self.live(sequence: 5, event: "INSERT")), context: context))
        let index = try #require(indexed(write))
        #expect(index.document["name"]?.stringValue == "v30")
        #expect(SyncTransform.syncedSequenceNumber(in: index.document) == SequenceNumber("30"))
        #expect(index.condition == .ifSeqNo(4, primaryTerm: 1))
        #expect(decisions[3]?.outcome == .applied && decisions[3]?.needsWrite == true)
        for id: Int64 in [1, 2] {
            #expect(decisions[id]?.outcome == .superseded)
            #expect(decisions[id]?.needsWrite == true)
            #expect(decisions[id]?.message.contains("change 3") == true)
        }
    }

    @Test("changes older than what the log applied or search holds are superseded and nothing is written")
    func neverBackInTime() throws {
        let byLog = try decided(
            planner.replay(
                [Self.change(1, .modify, sequence: 10)],
                facts: DocumentFacts(live: nil, audit: DocumentAuditFacts(latestApplied: SequenceNumber("20"))),
                context: context))
        #expect(byLog.write == nil)
        #expect(byLog.decisions[1]?.outcome == .superseded)
        #expect(byLog.decisions[1]?.message.contains("20") == true)

        let bySearch = try decided(
            planner.replay(
                [Self.change(1, .remove, sequence: 10)], facts: DocumentFacts(live: Self.live(sequence: 15, event: "MODIFY")),
                context: context))
        #expect(bySearch.write == nil)
        #expect(bySearch.decisions[1]?.outcome == .superseded)
    }

    @Test("re-applying the change search already carries writes nothing and counts as applied")
    func idempotent() throws {
        let plan = try decided(
            planner.replay(
                [Self.change(1, .modify, sequence: 10)], facts: DocumentFacts(live: Self.live(sequence: 10, event: "MODIFY")),
                context: context))
        #expect(plan.write == nil)
        #expect(plan.decisions[1]?.outcome == .applied)
    }

    @Test("a missing document needs the table: gone means a later REMOVE won; equal means create; newer means a table copy")
    func missingDocumentAsksTheTable() throws {
        let insert = Self.change(1, .insert, sequence: 10, new: Self.item("first"))
        #expect(planner.replay([insert], facts: DocumentFacts(live: nil), context: context) == .needsTable)

        let gone = try decided(planner.replay([insert], facts: DocumentFacts(live: nil, table: .absent), context: context))
        #expect(gone.write == nil)
        #expect(gone.decisions[1]?.outcome == .superseded)

        let same = try decided(
            planner.replay([insert], facts: DocumentFacts(live: nil, table: .present(Self.item("first"))), context: context))
        let created = try #require(indexed(same.write))
        #expect(created.condition == .createOnly)
        #expect(created.document["sync"]?["eventName"]?.stringValue == "INSERT")

        let newer = try decided(
            planner.replay([insert], facts: DocumentFacts(live: nil, table: .present(Self.item("later"))), context: context))
        let copy = try #require(indexed(newer.write))
        #expect(copy.document["name"]?.stringValue == "later")
        #expect(copy.document["sync"]?["eventName"]?.stringValue == WritePlanner.resyncMark)
        #expect(SyncTransform.syncedSequenceNumber(in: copy.document) == SequenceNumber("10"))
        #expect(newer.decisions[1]?.outcome == .applied)
    }

    @Test("a change arriving late, between a table copy's stamp and the table, never writes its older image")
    func lateChangeAfterTableCopy() throws {
        let copy = DocumentFacts(live: Self.live(sequence: 10, event: WritePlanner.resyncMark, name: "newest"))
        let late = Self.change(5, .modify, sequence: 12, new: Self.item("older than the table"))
        #expect(planner.replay([late], facts: copy, context: context) == .needsTable)
        var withTable = copy
        withTable.table = .present(Self.item("newest"))
        let plan = try decided(planner.replay([late], facts: withTable, context: context))
        let written = try #require(indexed(plan.write))
        #expect(written.document["name"]?.stringValue == "newest")
        #expect(SyncTransform.syncedSequenceNumber(in: written.document) == SequenceNumber("12"))
        #expect(written.condition == .ifSeqNo(4, primaryTerm: 1))

        let older = try decided(planner.replay([Self.change(6, .modify, sequence: 9)], facts: copy, context: context))
        #expect(older.write == nil)
        #expect(older.decisions[6]?.outcome == .superseded)

        let reapplied = try decided(planner.replay([Self.change(7, .modify, sequence: 10)], facts: copy, context: context))
        #expect(reapplied.write == nil)
        #expect(reapplied.decisions[7]?.outcome == .applied)
    }

    @Test("a REMOVE deletes conditionally, and succeeds without writing when the document is already absent")
    func removes() throws {
        let remove = Self.change(1, .remove, sequence: 10)
        let present = try decided(
            planner.replay([remove], facts: DocumentFacts(live: Self.live(sequence: 5, event: "MODIFY")), context: context))
        #expect(present.write?.operation == .delete(id: "ARTIST#7", condition: .ifSeqNo(4, primaryTerm: 1)))
        let absent = try decided(planner.replay([remove], facts: DocumentFacts(live: nil), context: context))
        #expect(absent.write == nil)
        #expect(absent.decisions[1]?.outcome == .applied)
    }

    @Test("an earlier parked or backing-off change holds later ones back")
    func blockers() throws {
        let facts = DocumentFacts(
            live: nil,
            audit: DocumentAuditFacts(blockers: [.init(id: 9, sequenceNumber: SequenceNumber("5")!, status: .parked)]))
        let plan = try decided(planner.replay([Self.change(1, .modify, sequence: 10)], facts: facts, context: context))
        #expect(plan.write == nil)
        #expect(plan.decisions[1]?.outcome == .deferred)
        #expect(plan.decisions[1]?.message.contains("change 9") == true)
    }

    @Test("a change without a new image fails, and parks once it has failed maxAttempts times")
    func failsAndParks() throws {
        var broken = Self.change(1, .modify, sequence: 10)
        broken.newImage = nil
        let first = try decided(
            planner.replay([broken], facts: DocumentFacts(live: Self.live(sequence: 1, event: "INSERT")), context: context))
        #expect(first.decisions[1]?.outcome == .failed)
        #expect(first.decisions[1]?.transition?.update.attempts == 1)
        broken.attempts = 2
        let last = try decided(
            planner.replay([broken], facts: DocumentFacts(live: Self.live(sequence: 1, event: "INSERT")), context: context))
        #expect(last.decisions[1]?.outcome == .parked)
        #expect(last.decisions[1]?.transition?.to == .parked)
    }

    @Test("rollback of a change a later applied change superseded is refused naming both sequences, for every event kind")
    func rollbackConflicts() throws {
        let facts = DocumentFacts(live: nil, audit: DocumentAuditFacts(latestApplied: SequenceNumber("300")))
        for event in EventName.allCases {
            let change = Self.change(1, event, sequence: 100, old: Self.item("before"), status: .applied)
            let refused = try decided(planner.rollback(change, facts: facts, force: false, context: context))
            #expect(refused.write == nil)
            #expect(refused.decisions[1]?.outcome == .conflict)
            #expect(refused.decisions[1]?.message.contains("300") == true)
            #expect(refused.decisions[1]?.message.contains("100") == true)
            #expect(refused.decisions[1]?.note?.action == .conflict)
        }
        // REMOVE@100 rolled back with --force re-creates the old image, marked as a rollback.
        let remove = Self.change(1, .remove, sequence: 100, old: Self.item("before"), status: .applied)
        let forced = try decided(planner.rollback(remove, facts: facts, force: true, context: context))
        let written = try #require(indexed(forced.write))
        #expect(written.document["name"]?.stringValue == "before")
        #expect(written.document["sync"]?["eventName"]?.stringValue == WritePlanner.rollbackMark)
        #expect(written.condition == .createOnly)
        #expect(forced.decisions[1]?.message.contains("forced") == true)
    }

    @Test(
        "rollback restores the old image while search reflects the change, deletes for an insert, and refuses when search moved on"
    )
    func rollbacks() throws {
        let modify = Self.change(1, .modify, sequence: 10, old: Self.item("before"), status: .applied)
        let reflects = DocumentFacts(
            live: Self.live(sequence: 10, event: "MODIFY"), audit: DocumentAuditFacts(latestApplied: SequenceNumber("10")))
        let restored = try decided(planner.rollback(modify, facts: reflects, force: false, context: context))
        #expect(try #require(indexed(restored.write)).document["name"]?.stringValue == "before")
        #expect(restored.decisions[1]?.transition?.to == .rolledBack)

        let insert = Self.change(2, .insert, sequence: 10, status: .applied)
        let deleted = try decided(
            planner.rollback(
                insert, facts: DocumentFacts(live: Self.live(sequence: 10, event: "INSERT")), force: false, context: context))
        #expect(deleted.write?.operation == .delete(id: "ARTIST#7", condition: .ifSeqNo(4, primaryTerm: 1)))

        let movedOn = try decided(
            planner.rollback(
                modify, facts: DocumentFacts(live: Self.live(sequence: 11, event: "MODIFY")), force: false, context: context))
        #expect(movedOn.decisions[1]?.outcome == .conflict)
        #expect(movedOn.decisions[1]?.message.contains("11") == true)

        let pending = Self.change(3, .modify, sequence: 10, status: .pending)
        let refused = try decided(planner.rollback(pending, facts: reflects, force: true, context: context))
        #expect(refused.decisions[3]?.outcome == .refused)
    }

    @Test("rollback of a MODIFY or REMOVE without an old image is refused; forced, it writes the table's item, never a delete")
    func rollbackWithoutOldImage() throws {
        for event in [EventName.modify, .remove] {
            let change = Self.change(1, event, sequence: 10, status: .applied)
            #expect(change.oldImage == nil)
            let live = Self.live(sequence: 10, event: event == .modify ? "MODIFY" : "REMOVE")
            let facts = DocumentFacts(
                live: event == .modify ? live : nil, audit: DocumentAuditFacts(latestApplied: SequenceNumber("10")))
            let refused = try decided(planner.rollback(change, facts: facts, force: false, context: context))
            #expect(refused.write == nil, "\(event)")
            #expect(refused.decisions[1]?.outcome == .refused, "\(event)")
            #expect(refused.decisions[1]?.transition == nil)
            #expect(refused.decisions[1]?.message.contains("no old image") == true, "\(refused)")

            #expect(planner.rollback(change, facts: facts, force: true, context: context) == .needsTable, "\(event)")
            var present = facts
            present.table = .present(Self.item("table"))
            let forced = try decided(planner.rollback(change, facts: present, force: true, context: context))
            let written = try #require(indexed(forced.write), "\(event): a forced rollback writes, never deletes")
            #expect(written.document["name"]?.stringValue == "table")
            #expect(written.document["sync"]?["eventName"]?.stringValue == WritePlanner.resyncMark)
            #expect(SyncTransform.syncedSequenceNumber(in: written.document) == SequenceNumber("10"))
            #expect(written.condition == (event == .modify ? .ifSeqNo(4, primaryTerm: 1) : .createOnly))
            #expect(forced.decisions[1]?.transition?.to == .rolledBack)
            #expect(forced.decisions[1]?.needsWrite == true)

            var absent = facts
            absent.table = .absent
            let nothing = try decided(planner.rollback(change, facts: absent, force: true, context: context))
            #expect(nothing.write == nil, "\(event): no item, no old image: nothing to write, and no delete")
            #expect(nothing.decisions[1]?.outcome == .refused)
        }
        // An INSERT has no old image by nature: its rollback still deletes.
        let insert = Self.change(2, .insert, sequence: 10, status: .applied)
        let deleted = try decided(
            planner.rollback(
                insert, facts: DocumentFacts(live: Self.live(sequence: 10, event: "INSERT")), force: false, context: context))
        #expect(deleted.write?.operation == .delete(id: "ARTIST#7", condition: .ifSeqNo(4, primaryTerm: 1)))
    }

    @Test("resync writes the table's item stamped with the newest sequence known, or deletes when the item is gone")
    func resyncs() throws {
        let change = Self.change(1, .modify, sequence: 10, status: .failed)
        let facts = DocumentFacts(
            live: Self.live(sequence: 15, event: "MODIFY"), audit: DocumentAuditFacts(latestApplied: SequenceNumber("12")))
        #expect(planner.resync(change, facts: facts, context: context) == .needsTable)
        var present = facts
        present.table = .present(Self.item("table"))
        let rewritten = try decided(planner.resync(change, facts: present, context: context))
        let written = try #require(indexed(rewritten.write))
        #expect(written.document["name"]?.stringValue == "table")
        #expect(SyncTransform.syncedSequenceNumber(in: written.document) == SequenceNumber("15"))
        #expect(written.condition == .ifSeqNo(4, primaryTerm: 1))
        #expect(rewritten.decisions[1]?.transition?.action.action == .resynced)

        var absent = facts
        absent.table = .absent
        let removed = try decided(planner.resync(change, facts: absent, context: context))
        #expect(removed.write?.operation == .delete(id: "ARTIST#7", condition: .ifSeqNo(4, primaryTerm: 1)))

        var expired = change
        expired.status = .expired
        let refused = try decided(planner.resync(expired, facts: present, context: context))
        #expect(refused.decisions[1]?.outcome == .refused)
        #expect(refused.decisions[1]?.message.contains("resolve-expired") == true)
    }
}
