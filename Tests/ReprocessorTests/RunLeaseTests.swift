import AuditLog
import Foundation
import Reprocessor
import Testing

/// The run lease in one process: the kernel lock is per open file, so two `RunLease`s here
/// contend as two processes would.
@Suite("run lease")
struct RunLeaseTests {
    /// A scratch audit log.
    struct Scratch {
        let directory: URL
        let log: AuditLog

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("lease-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            log = try AuditLog(path: directory.appendingPathComponent("audit.sqlite3").path)
        }
    }

    @Test("holders on the same host with the same pid are distinct; one's release never frees the other's lease")
    func sameHostHolders() async throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.directory) }
        let firstID = RunLease.makeHolderID()
        let secondID = RunLease.makeHolderID()
        #expect(firstID != secondID)
        #expect(firstID.hasPrefix("\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)/"))

        let first = RunLease(auditLog: scratch.log, holder: firstID, ttl: .seconds(60))
        let second = RunLease(auditLog: scratch.log, holder: secondID, ttl: .seconds(60))
        let fence = try #require(try await first.acquire())
        #expect(try await second.acquire() == nil, "the kernel lock and the row are held")
        await second.release()
        #expect(try await second.acquire() == nil, "the other holder's release changed nothing")
        try await scratch.log.checkFence(fence)
        #expect(try await first.renew() == .held(fence))
        #expect(try await second.currentHolder() == firstID)

        await first.release()
        let taken = try #require(try await second.acquire(), "a released lease is free at once")
        #expect(taken.epoch == fence.epoch + 1)
        await #expect(throws: AuditLogError.self) { try await scratch.log.checkFence(fence) }
    }

    @Test("a holder whose lease was taken over finds out at its next renewal and lets the kernel lock go")
    func takenOverHolderLetsGo() async throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.directory) }
        let stale = RunLease(auditLog: scratch.log, holder: RunLease.makeHolderID(), ttl: .seconds(3))
        let fence = try #require(try await stale.acquire())
        // The row is taken over as after a whole ttl without renewals (the holder was stopped).
        let next = RunLease(auditLog: scratch.log, holder: RunLease.makeHolderID(), ttl: .seconds(3))
        let later = Date().addingTimeInterval(10)
        let nextFence = try #require(
            try await scratch.log.takeLease(
                name: AuditLog.runLeaseName, holder: next.holder, ttl: .seconds(3), lockHeld: false, now: later))
        guard case .lost(let current) = try await stale.renew() else {
            Issue.record("the stale holder still thinks it holds the lease")
            return
        }
        #expect(current?.holder == next.holder)
        #expect(stale.fence == nil)
        await #expect(throws: AuditLogError.self) {
            _ = try await scratch.log.ingest([], at: Date(), fence: fence)
        }
        try await scratch.log.checkFence(nextFence)
    }
}
