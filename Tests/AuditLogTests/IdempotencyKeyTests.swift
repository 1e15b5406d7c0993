import Foundation
import Testing

@testable import AuditLog

/// The store's side of `Idempotency-Key` (issue 29): a key claimed, answered, repeated, reused,
/// given up and expired, on both stores.
@Suite("idempotency keys")
struct IdempotencyKeyTests {
    static let request = Array("POST /v1/changes/7/retry\n{\"reason\":\"x\"}".utf8)
    static let other = Array("POST /v1/changes/7/retry\n{\"reason\":\"y\"}".utf8)

    @Test(
        "a key is claimed once; its answer is given again to the same request, and refused to another",
        arguments: StoreBackend.allCases)
    func claimAnswerRepeat(_ backend: StoreBackend) async throws {
        let log = try await TestLog(backend).log
        let t0 = Fixture.t0
        #expect(try await log.beginIdempotentRequest(actor: "alice", key: "k1", request: Self.request, now: t0) == .carryOut)
        #expect(
            try await log.beginIdempotentRequest(actor: "alice", key: "k1", request: Self.request, now: t0) == .inProgress,
            "a repeat while the first runs")
        #expect(try await log.beginIdempotentRequest(actor: "alice", key: "k1", request: Self.other, now: t0) == .keyReused)
        #expect(
            try await log.beginIdempotentRequest(actor: "bob", key: "k1", request: Self.request, now: t0) == .carryOut,
            "keys are each operator's own")

        try await log.finishIdempotentRequest(actor: "alice", key: "k1", status: 200, response: "{\"results\":[]}\n")
        let later = t0.addingTimeInterval(AuditLog.idempotencyKeyLifetime - 1)
        #expect(
            try await log.beginIdempotentRequest(actor: "alice", key: "k1", request: Self.request, now: later)
                == .answered(status: 200, response: "{\"results\":[]}\n"))
        #expect(try await log.beginIdempotentRequest(actor: "alice", key: "k1", request: Self.other, now: later) == .keyReused)

        let expired = t0.addingTimeInterval(AuditLog.idempotencyKeyLifetime)
        #expect(
            try await log.beginIdempotentRequest(actor: "alice", key: "k1", request: Self.other, now: expired) == .carryOut,
            "after 24 hours the key is new again")
    }

    @Test("a key given up, or left running by a process that died, is free again", arguments: StoreBackend.allCases)
    func abandonedKeys(_ backend: StoreBackend) async throws {
        let log = try await TestLog(backend).log
        let t0 = Fixture.t0
        #expect(try await log.beginIdempotentRequest(actor: "alice", key: "refused", request: Self.request, now: t0) == .carryOut)
        try await log.abandonIdempotentRequest(actor: "alice", key: "refused")
        #expect(
            try await log.beginIdempotentRequest(actor: "alice", key: "refused", request: Self.other, now: t0) == .carryOut,
            "a refused request freed its key for another")

        #expect(try await log.beginIdempotentRequest(actor: "alice", key: "died", request: Self.request, now: t0) == .carryOut)
        let soon = t0.addingTimeInterval(AuditLog.idempotentRequestTimeout - 1)
        #expect(
            try await log.beginIdempotentRequest(actor: "alice", key: "died", request: Self.request, now: soon) == .inProgress)
        let after = t0.addingTimeInterval(AuditLog.idempotentRequestTimeout + 1)
        #expect(
            try await log.beginIdempotentRequest(actor: "alice", key: "died", request: Self.request, now: after) == .carryOut,
            "a request unfinished after the timeout is taken over")
    }
}
