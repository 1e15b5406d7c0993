import AuditLog
import Foundation
import Testing

@Suite("Leases")
struct LeaseTests {
    /// SQLite only: it walks the workers' clocks, which a SQLite store judges by. A shared
    /// store judges by its own clock (``DatabaseClockTests``).
    @Test("without the kernel lock a lease is taken only once its holder stopped renewing it; each take-over grows the epoch")
    func takeoverAfterTTL() async throws {
        let test = try await TestLog(.sqlite)
        let t0 = Fixture.t0
        #expect(try await test.log.lease(name: "run") == nil)
        #expect(
            try await test.log.takeLease(name: "run", holder: "cron-b", ttl: .seconds(60), lockHeld: false, now: t0)
                == nil,
            "without the lock, a missing row belongs to the lock's holder, about to write it")
        let a = try #require(
            try await test.log.takeLease(name: "run", holder: "cron-a", ttl: .seconds(60), lockHeld: true, now: t0))
        #expect(a.epoch == 1)
        #expect(try await test.log.lease(name: "run")?.holder == "cron-a")
        #expect(
            try await test.log.takeLease(
                name: "run", holder: "cron-b", ttl: .seconds(60), lockHeld: false, now: t0.addingTimeInterval(30)) == nil)
        #expect(try await test.log.renewLease(a, now: t0.addingTimeInterval(30)).renewed)
        #expect(
            try await test.log.takeLease(
                name: "run", holder: "cron-b", ttl: .seconds(60), lockHeld: false, now: t0.addingTimeInterval(89)) == nil)
        let b = try #require(
            try await test.log.takeLease(
                name: "run", holder: "cron-b", ttl: .seconds(60), lockHeld: false, now: t0.addingTimeInterval(90)))
        #expect(b.epoch == 2)
        // The old holder lost it: it can neither renew nor release it, and its fence is refused.
        let renewal = try await test.log.renewLease(a, now: t0.addingTimeInterval(95))
        #expect(!renewal.renewed)
        #expect(renewal.state.holder == "cron-b")
        try await test.log.releaseLease(a, now: t0.addingTimeInterval(95))
        #expect(try await test.log.lease(name: "run")?.isHeld(at: t0.addingTimeInterval(95)) == true)
        await #expect(throws: AuditLogError.self) { try await test.log.checkFence(a) }
        try await test.log.checkFence(b)
        // Other lease names are independent.
        #expect(
            try await test.log.takeLease(
                name: "serve", holder: "cron-a", ttl: .seconds(60), lockHeld: true, now: t0.addingTimeInterval(95)) != nil)
    }

    @Test("a shared store measures how far the database's clock is from this process's; SQLite has no other clock")
    func databaseClockOffset() async throws {
        let sqlite = try await TestLog(.sqlite)
        #expect(try await sqlite.log.databaseClockOffset() == nil)
        let shared = try await TestLog(.postgres)
        let inStep = try #require(try await shared.log.databaseClockOffset())
        #expect(inStep > .seconds(-1) && inStep < .seconds(1), "one machine's clocks: \(inStep)")
        let behind = try #require(try await shared.log.databaseClockOffset(clock: { Date().addingTimeInterval(-90) }))
        #expect(behind > .seconds(89) && behind < .seconds(91), "a clock 90 s behind: \(behind)")
        let ahead = try #require(try await shared.log.databaseClockOffset(clock: { Date().addingTimeInterval(30) }))
        #expect(ahead > .seconds(-31) && ahead < .seconds(-29), "a clock 30 s ahead: \(ahead)")
    }

    @Test("with the kernel lock the lease is taken over at once, whoever the row names", arguments: StoreBackend.allCases)
    func lockHolderTakesOverAtOnce(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let t0 = Fixture.t0
        let dead = try #require(
            try await test.log.takeLease(name: "run", holder: "dead", ttl: .seconds(300), lockHeld: true, now: t0))
        let next = try #require(
            try await test.log.takeLease(
                name: "run", holder: "next", ttl: .seconds(300), lockHeld: true, now: t0.addingTimeInterval(1)))
        #expect(next.epoch == dead.epoch + 1)
        do {
            try await test.log.checkFence(dead)
            Issue.record("a stale fence passed")
        } catch {
            #expect(error.code == .leaseLost)
            #expect(error.description.contains("next took it over (epoch 2)"), "\(error)")
        }
    }

    @Test(
        "releasing frees it at once for the lock's next holder and keeps the epoch growing; a released fence writes nothing",
        arguments: StoreBackend.allCases)
    func renewAndRelease(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let t0 = Fixture.t0
        let a = try #require(try await test.log.takeLease(name: "run", holder: "a", ttl: .seconds(10), lockHeld: true, now: t0))
        #expect(try await test.log.renewLease(a, now: t0.addingTimeInterval(8)).renewed)
        if backend == .sqlite {
            // The renewal counts from the worker's time on SQLite; a shared store writes its own
            // clock's (``DatabaseClockTests``).
            #expect(try await test.log.lease(name: "run")?.isHeld(at: t0.addingTimeInterval(17)) == true)
            #expect(try await test.log.lease(name: "run")?.isHeld(at: t0.addingTimeInterval(18)) == false)
        }
        try await test.log.releaseLease(a, now: t0.addingTimeInterval(9))
        #expect(try await test.log.lease(name: "run")?.isHeld(at: t0.addingTimeInterval(9)) == false)
        #expect(try await !test.log.renewLease(a, now: t0.addingTimeInterval(9)).renewed)
        await #expect(throws: AuditLogError.self) {
            try await test.log.ingest([Fixture.message("m-late", [Fixture.change(1)])], at: t0, fence: a)
        }
        #expect(try await test.log.stats().messagesTotal == 0, "a stale fence stored nothing")
        let b: LeaseFence
        switch backend {
        case .sqlite:
            #expect(
                try await test.log.takeLease(
                    name: "run", holder: "c", ttl: .seconds(10), lockHeld: false, now: t0.addingTimeInterval(9)) == nil,
                "without the lock, a just-released row belongs to whoever took the lock")
            b = try #require(
                try await test.log.takeLease(
                    name: "run", holder: "b", ttl: .seconds(10), lockHeld: true, now: t0.addingTimeInterval(9)))
        case .postgres:
            // No kernel lock on a shared store: a released row is free at once.
            b = try #require(
                try await test.log.takeLease(
                    name: "run", holder: "b", ttl: .seconds(10), lockHeld: false, now: t0.addingTimeInterval(9)))
        }
        #expect(b.epoch == 2)
        _ = try await test.log.ingest([Fixture.message("m-ok", [Fixture.change(1)])], at: t0, fence: b)
        #expect(try await test.log.stats().messagesTotal == 1)
        let results = try await test.log.transitions([], at: t0, fence: b)
        #expect(results.isEmpty)
        await #expect(throws: AuditLogError.self) { _ = try await test.log.transitions([], at: t0, fence: a) }
    }

    @Test("on a new shared store, of eight processes racing for the lease exactly one takes it, and its epoch is 1")
    func racingOnANewSharedStore() async throws {
        let test = try await TestLog(.postgres)
        var logs: [AuditLog] = []
        for _ in 0..<8 { logs.append(try await test.reopen()) }
        let now = Date()
        let fences = try await withThrowingTaskGroup(of: LeaseFence?.self) { group in
            for (number, log) in logs.enumerated() {
                group.addTask {
                    try await log.takeLease(name: "run", holder: "worker-\(number)", ttl: .seconds(60), lockHeld: false, now: now)
                }
            }
            var taken: [LeaseFence] = []
            for try await fence in group { if let fence { taken.append(fence) } }
            return taken
        }
        #expect(fences.count == 1, "\(fences)")
        let winner = try #require(fences.first)
        #expect(winner.epoch == 1)
        #expect(try await test.log.lease(name: "run")?.holder == winner.holder)
        try await test.log.checkFence(winner)
    }
}
