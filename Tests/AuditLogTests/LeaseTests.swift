import AuditLog
import Foundation
import Testing

@Suite("Leases")
struct LeaseTests {
    @Test("a held lease is refused to others until its ttl runs out, then taken over")
    func takeoverAfterTTL() async throws {
        let test = try TestLog()
        let t0 = Fixture.t0
        #expect(try await test.log.leaseHolder(name: "run", now: t0) == nil)
        #expect(try await test.log.acquireLease(name: "run", holder: "cron-a", ttl: .seconds(60), now: t0))
        #expect(try await test.log.leaseHolder(name: "run", now: t0) == "cron-a")
        #expect(
            try await !test.log.acquireLease(name: "run", holder: "cron-b", ttl: .seconds(60), now: t0.addingTimeInterval(30)))
        // The holder may take it again (extends it).
        #expect(try await test.log.acquireLease(name: "run", holder: "cron-a", ttl: .seconds(60), now: t0.addingTimeInterval(30)))
        #expect(
            try await !test.log.acquireLease(name: "run", holder: "cron-b", ttl: .seconds(60), now: t0.addingTimeInterval(89)))
        #expect(try await test.log.leaseHolder(name: "run", now: t0.addingTimeInterval(90)) == nil)
        #expect(try await test.log.acquireLease(name: "run", holder: "cron-b", ttl: .seconds(60), now: t0.addingTimeInterval(90)))
        #expect(try await test.log.leaseHolder(name: "run", now: t0.addingTimeInterval(91)) == "cron-b")
        // The old holder lost it: it can neither renew nor release it.
        #expect(try await !test.log.renewLease(name: "run", holder: "cron-a", now: t0.addingTimeInterval(95)))
        try await test.log.releaseLease(name: "run", holder: "cron-a")
        #expect(try await test.log.leaseHolder(name: "run", now: t0.addingTimeInterval(95)) == "cron-b")
        // Other lease names are independent.
        #expect(
            try await test.log.acquireLease(name: "serve", holder: "cron-a", ttl: .seconds(60), now: t0.addingTimeInterval(95)))
    }

    @Test("renewing extends by the lease's ttl; releasing frees it at once")
    func renewAndRelease() async throws {
        let test = try TestLog()
        let t0 = Fixture.t0
        #expect(try await test.log.acquireLease(name: "run", holder: "a", ttl: .seconds(10), now: t0))
        #expect(try await test.log.renewLease(name: "run", holder: "a", now: t0.addingTimeInterval(8)))
        #expect(try await test.log.leaseHolder(name: "run", now: t0.addingTimeInterval(17)) == "a")
        #expect(try await test.log.leaseHolder(name: "run", now: t0.addingTimeInterval(18)) == nil)
        try await test.log.releaseLease(name: "run", holder: "a")
        #expect(try await test.log.leaseHolder(name: "run", now: t0) == nil)
        #expect(try await !test.log.renewLease(name: "run", holder: "a", now: t0))
        #expect(try await test.log.acquireLease(name: "run", holder: "b", ttl: .seconds(10), now: t0))
    }
}
