import AuditLog
import Foundation
import SQLite
import StreamModel
import Testing

@Suite("Batches")
struct BatchTests {
    @Test(
        "a batch is its own row: a forwarded record S and the batch [S..E] are both kept, in either order",
        arguments: StoreBackend.allCases)
    func batchAndForwardedRecordBothKept(_ backend: StoreBackend) async throws {
        for forwardedFirst in [true, false] {
            let test = try await TestLog(backend)
            let forwarded = Fixture.message("m-forwarded", [Fixture.change(10)])
            let batch = Fixture.batchMessage("m-batch", start: 10, end: 19)
            let outcomes = try await test.log.ingest(forwardedFirst ? [forwarded, batch] : [batch, forwarded], at: Fixture.t0)
            let batchOutcome = try #require(outcomes.first { $0.messageID == "m-batch" })
            let forwardedOutcome = try #require(outcomes.first { $0.messageID == "m-forwarded" })
            #expect(forwardedOutcome.storedChangeIDs.count == 1, "the forwarded record keeps its images (\(forwardedFirst))")
            let batchID = try #require(batchOutcome.batchID)
            #expect(!batchOutcome.duplicateBatch)
            let stored = try #require(try await test.log.batch(id: batchID))
            #expect(stored.status == .pending)
            #expect(stored.startSequenceNumber == Fixture.sequence(10))
            #expect(stored.endSequenceNumber == Fixture.sequence(19))

            // Reading the range later: S is a duplicate, S+1…E are new.
            let page = try await test.log.storeBatchPage(
                batchID,
                BatchPage(
                    changes: (10...19).map { Fixture.change($0) }, lastReadSequenceNumber: Fixture.sequence(19),
                    complete: true),
                at: Fixture.t0)
            #expect(page.storedChangeIDs.count == 9)
            #expect(page.duplicateChanges == 1)
            #expect(page.batch.status == .read)
            #expect(page.batch.recordsRead == 10)
            let change = try #require(try await test.log.change(id: forwardedOutcome.storedChangeIDs[0]))
            #expect(change.messageID == "m-forwarded", "record S stays the forwarded one, images and all")
            let stats = try await test.log.stats()
            #expect(stats.changes[.pending] == 10)
            #expect(stats.batches[.read] == 1)
            #expect(try await test.log.verify().isIntact)
        }
    }

    @Test("the same range named twice is one batch; its second message is a duplicate", arguments: StoreBackend.allCases)
    func sameRangeTwice(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let first = try await test.log.ingest([Fixture.batchMessage("m-1", start: 1, end: 5)], at: Fixture.t0)
        let second = try await test.log.ingest([Fixture.batchMessage("m-2", start: 1, end: 5)], at: Fixture.t0)
        #expect(second[0].duplicateBatch)
        #expect(second[0].batchID == first[0].batchID)
        #expect(try await test.log.stats().batches[.pending] == 1)
        #expect(try await test.log.verify().isIntact)
    }

    @Test(
        "pages commit progress; a delay puts the batch off; expiry is final and counted; stats say how long it waited",
        arguments: StoreBackend.allCases)
    func lifeOfABatch(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let t0 = Fixture.t0
        let id = try #require(
            try await test.log.ingest([Fixture.batchMessage("m-1", start: 1, end: 30)], at: t0)[0].batchID)
        #expect(try await test.log.dueBatches(now: t0, limit: 10).map(\.id) == [id])
        let first = try await test.log.storeBatchPage(
            id,
            BatchPage(
                changes: (1...10).map { Fixture.change($0) }, lastReadSequenceNumber: Fixture.sequence(10), complete: false),
            at: t0)
        #expect(first.batch.status == .pending)
        #expect(first.batch.lastReadSequenceNumber == Fixture.sequence(10))
        let empty = try await test.log.storeBatchPage(
            id, BatchPage(changes: [], lastReadSequenceNumber: nil, complete: false), at: t0)
        #expect(empty.batch.lastReadSequenceNumber == Fixture.sequence(10), "an empty page keeps the resume point")

        let delayed = try await test.log.delayBatch(
            id, error: "ThrottlingException", until: t0.addingTimeInterval(60), at: t0)
        #expect(delayed.attempts == 1)
        #expect(delayed.lastError == "ThrottlingException")
        #expect(try await test.log.dueBatches(now: t0.addingTimeInterval(59), limit: 10).isEmpty)
        #expect(try await test.log.dueBatches(now: t0.addingTimeInterval(60), limit: 10).map(\.id) == [id])
        let stats = try await test.log.stats()
        #expect(stats.batches == [.pending: 1, .read: 0, .expired: 0, .skipped: 0, .resolved: 0])
        #expect(stats.oldestWaitingBatchSince == t0)

        let expired = try await test.log.expireBatch(id, reason: "TrimmedDataAccessException", at: t0)
        #expect(expired.status == .expired)
        #expect(expired.lastError == "TrimmedDataAccessException")
        await #expect(throws: AuditLogError.self) {
            _ = try await test.log.storeBatchPage(
                id, BatchPage(changes: [], lastReadSequenceNumber: nil, complete: true), at: t0)
        }
        let after = try await test.log.stats()
        #expect(after.batches[.expired] == 1)
        #expect(after.batches[.skipped] == 0)
        #expect(after.oldestWaitingBatchSince == nil)
        #expect(after.changes[.pending] == 10, "records read before expiry stay")
        let listed = try await test.log.listBatches(statuses: [.expired], limit: 10)
        #expect(listed.rows.map(\.id) == [id])
        let skipped = try await test.log.skipBatch(id, reason: "artist re-synced by hand", actor: "alice", at: t0)
        #expect(skipped.status == .skipped)
        await #expect(throws: AuditLogError.self) {
            _ = try await test.log.skipBatch(id, reason: "again", actor: "alice", at: t0)
        }
        let skipActions = try await test.log.listActions(ActionFilter(actor: "alice"), after: nil, limit: 10).rows
        #expect(skipActions.map(\.action) == [.skipped])
        #expect(skipActions.first?.reason == "artist re-synced by hand")
        #expect(try await test.log.stats().batches[.skipped] == 1)
        let expiredActions = try await test.log.listActions(ActionFilter(actions: [.expired]), after: nil, limit: 10).rows
        #expect(expiredActions.map(\.messageID) == ["m-1"])
        #expect(try await test.log.verify().isIntact)
    }

    @Test("verify catches a batch range edited with raw SQL")
    func tamperedRange() async throws {
        let test = try await TestLog()
        let id = try #require(
            try await test.log.ingest([Fixture.batchMessage("m-1", start: 1, end: 9)], at: Fixture.t0)[0].batchID)
        #expect(try await test.log.verify().isIntact)
        let raw = try Connection(path: test.path)
        try raw.run(
            "UPDATE batches SET end_sequence = ?, end_key = ? WHERE id = ?",
            [Fixture.sequence(3).digits, Fixture.sequence(3).sortKey, id])
        let report = try await test.log.verify()
        #expect(!report.isIntact)
        #expect(report.firstBrokenRow == "batch \(id)", "\(report)")
    }

    @Test("a page under a stale fence stores nothing", arguments: StoreBackend.allCases)
    func fencedPage(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let t0 = Fixture.t0
        let id = try #require(try await test.log.ingest([Fixture.batchMessage("m-1", start: 1, end: 3)], at: t0)[0].batchID)
        let old = try #require(
            try await test.log.takeLease(name: "run", holder: "old", ttl: .seconds(60), lockHeld: true, now: t0))
        _ = try await test.log.takeLease(name: "run", holder: "new", ttl: .seconds(60), lockHeld: true, now: t0)
        await #expect(throws: AuditLogError.self) {
            _ = try await test.log.storeBatchPage(
                id, BatchPage(changes: [Fixture.change(1)], lastReadSequenceNumber: Fixture.sequence(3), complete: true),
                at: t0, fence: old)
        }
        #expect(try await test.log.batch(id: id)?.status == .pending)
        #expect(try await test.log.stats().changes[.pending] == 0)
    }
}
