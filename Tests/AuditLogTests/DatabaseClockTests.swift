import AuditLog
import Foundation
import Testing

/// On a shared store, claims and leases expire by the database's clock: a worker whose clock is
/// 90 s off takes nothing early and keeps nothing too long.
@Suite("expiry by the database's clock")
struct DatabaseClockTests {
    static let skews: [TimeInterval] = [90, -90]

    @Test("a claim is not taken early by a worker whose clock runs ahead or behind", arguments: skews)
    func claimsAreNotTakenEarly(_ skew: TimeInterval) async throws {
        let test = try await TestLog(.postgres)
        let held = try await test.log.claimDocuments(["d"], holder: "a", ttl: .seconds(60), now: Date())
        #expect(held.holds("d"))
        let early = try await test.log.claimDocuments(["d"], holder: "b", ttl: .seconds(60), now: Date().addingTimeInterval(skew))
        #expect(!early.holds("d"), "a worker \(skew) s off took a claim with 60 s left")
        #expect(try await test.log.claimHolder(of: "d", now: Date().addingTimeInterval(skew)) == "a")
    }

    @Test("a claim written by a worker whose clock runs ahead expires on time, for a worker whose clock runs behind")
    func claimsAreNotKeptTooLong() async throws {
        let test = try await TestLog(.postgres)
        let held = try await test.log.claimDocuments(["d"], holder: "a", ttl: .seconds(1), now: Date().addingTimeInterval(90))
        #expect(held.holds("d"))
        // Its 1 s passes by the database's clock; a worker 90 s behind then takes it.
        let taken = try await eventually("the claim expires by the database's clock") {
            try await test.log.claimDocuments(["d"], holder: "b", ttl: .seconds(60), now: Date().addingTimeInterval(-90))
                .holds("d")
        }
        #expect(taken)
        // The first claimant's records are refused: its claim is gone.
        let renewed = try await test.log.renewClaims(held, ttl: .seconds(60), now: Date().addingTimeInterval(90))
        #expect(renewed.epochs.isEmpty)
    }

    @Test("the run lease is not taken early by a worker whose clock runs ahead or behind", arguments: skews)
    func leaseIsNotTakenEarly(_ skew: TimeInterval) async throws {
        let test = try await TestLog(.postgres)
        let first = try await test.log.takeLease(name: "run", holder: "a", ttl: .seconds(60), lockHeld: false, now: Date())
        #expect(first != nil)
        let early = try await test.log.takeLease(
            name: "run", holder: "b", ttl: .seconds(60), lockHeld: false, now: Date().addingTimeInterval(skew))
        #expect(early == nil, "a worker \(skew) s off took a lease with 60 s left")
    }

    @Test("a lease renewed by a worker whose clock runs ahead expires on time, for a worker whose clock runs behind")
    func leaseIsNotKeptTooLong() async throws {
        let test = try await TestLog(.postgres)
        let first = try #require(
            try await test.log.takeLease(name: "run", holder: "a", ttl: .seconds(1), lockHeld: false, now: Date()))
        #expect(try await test.log.renewLease(first, now: Date().addingTimeInterval(90)).renewed)
        var second: LeaseFence?
        _ = try await eventually("the lease expires by the database's clock") {
            second = try await test.log.takeLease(
                name: "run", holder: "b", ttl: .seconds(60), lockHeld: false, now: Date().addingTimeInterval(-90))
            return second != nil
        }
        #expect(second?.epoch == first.epoch + 1)
        // The old holder lost it: its renewal and its fence are refused.
        #expect(try await !test.log.renewLease(first, now: Date().addingTimeInterval(90)).renewed)
        await #expect(throws: AuditLogError.self) { try await test.log.checkFence(first) }
    }

    /// Tries `condition` every 100 ms until it holds, or gives up after 30 s (the condition's
    /// own deadline is 1 s; the bound only ends a test that would otherwise never end).
    private func eventually(_ what: String, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("gave up waiting: \(what)")
        return false
    }
}
