import AuditLog
import Foundation
import TestSupport
import Testing

/// Document claims on a PostgreSQL store are a claimant's with an epoch: another claimant (even
/// a task of the same process) cannot take a live one, and a stale epoch neither renews nor
/// releases the claim that replaced it.
@Suite("document claims: claimant and epoch")
struct ClaimEpochTests {
    @Test("a claim taken again is released and renewed only with its newest epoch; another task cannot take it")
    func releaseMatchesEpoch() async throws {
        let log = try await AuditLog(location: try await SharedPostgresServer.newDatabase())
        let now = Date()
        let first = try await log.claimDocuments(["a"], holder: "host:1/run#1", ttl: .seconds(300), now: now)
        #expect(first.holds("a"))
        let other = try await log.claimDocuments(["a"], holder: "host:1/run#2", ttl: .seconds(300), now: now)
        #expect(!other.holds("a"), "another task of the same process does not take a live claim")

        let again = try await log.claimDocuments(["a"], holder: "host:1/run#1", ttl: .seconds(300), now: now)
        #expect(again.epochs["a"] == first.epochs["a"].map { $0 + 1 })
        #expect(try await log.renewClaims(first, ttl: .seconds(300), now: now).epochs.isEmpty, "a stale epoch renews nothing")
        try await log.releaseClaims(first)
        #expect(try await log.claimHolder(of: "a", now: now) == "host:1/run#1", "a stale epoch releases nothing")
        #expect(try await log.renewClaims(again, ttl: .seconds(300), now: now).holds("a"))
        try await log.releaseClaims(again)
        #expect(try await log.claimHolder(of: "a", now: now) == nil)
        #expect(try await log.claimDocuments(["a"], holder: "host:1/run#2", ttl: .seconds(300), now: now).holds("a"))
    }
}
