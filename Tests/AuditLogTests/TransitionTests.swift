import AuditLog
import Foundation
import Testing

@Suite("Transitions")
struct TransitionTests {
    /// The legal moves, copied from the contract (not from the implementation).
    static let legal: [ChangeStatus: Set<ChangeStatus>] = [
        .pending: [.applied, .failed, .parked, .superseded, .skipped],
        .failed: [.applied, .failed, .parked, .superseded, .pending, .skipped],
        .parked: [.pending, .skipped, .applied, .superseded],
        .applied: [.rolledBack, .applied, .pending],
        .rolledBack: [.pending, .applied],
        .expired: [.applied, .skipped, .superseded],
        .skipped: [.pending],
        .superseded: [.pending],
        .filtered: [],
    ]

    /// The action that naturally records a move to `status`.
    static func action(for status: ChangeStatus) -> ActionKind {
        switch status {
        case .pending: .retried
        case .applied: .applied
        case .failed: .failed
        case .parked: .parked
        case .skipped: .skipped
        case .rolledBack: .rolledBack
        case .superseded: .superseded
        case .filtered: .filtered
        case .expired: .expired
        }
    }

    /// A change brought to `status` through legal moves.
    static func change(in status: ChangeStatus, log: AuditLog) async throws -> Int64 {
        switch status {
        case .pending, .filtered, .expired:
            return try await Fixture.ingestOne(log, 1, status: status)
        case .rolledBack:
            let id = try await change(in: .applied, log: log)
            try await log.transition(
                id, to: .rolledBack, action: ActionEntry(action: .rolledBack, outcome: "restored"), at: Fixture.t0)
            return id
        default:
            let id = try await Fixture.ingestOne(log, 1)
            try await log.transition(
                id, to: status, action: ActionEntry(action: action(for: status), outcome: "setup"), at: Fixture.t0)
            return id
        }
    }

    @Test(
        "every move is allowed or refused exactly as the contract's table says", arguments: ChangeStatus.allCases,
        ChangeStatus.allCases)
    func stateMachine(from: ChangeStatus, to: ChangeStatus) async throws {
        let test = try await TestLog()
        let id = try await Self.change(in: from, log: test.log)
        let before = try #require(try await test.log.change(id: id))
        let actionsBefore = try await test.log.actions(forChange: id)
        let later = Fixture.t0.addingTimeInterval(60)
        let entry = ActionEntry(
            action: Self.action(for: to), actor: "alice", reason: "because", outcome: "moved", response: #"{"result":"updated"}"#)
        #expect(from.canTransition(to: to) == Self.legal[from]!.contains(to))

        if Self.legal[from]!.contains(to) {
            let updated = try await test.log.transition(id, to: to, action: entry, at: later)
            #expect(updated.status == to)
            #expect(updated.updatedAt == later)
            #expect(try await test.log.change(id: id) == updated)
            let actions = try await test.log.actions(forChange: id)
            #expect(actions.count == actionsBefore.count + 1)
            let last = try #require(actions.last)
            #expect(last.action == Self.action(for: to))
            #expect(last.actor == "alice")
            #expect(last.reason == "because")
            #expect(last.outcome == "moved")
            #expect(last.response == #"{"result":"updated"}"#)
            #expect(last.at == later)
            #expect(last.messageID == before.messageID)
        } else {
            await #expect {
                try await test.log.transition(id, to: to, action: entry, at: later)
            } throws: { error in
                let error = error as? AuditLogError
                return error?.code == .illegalTransition
                    && error?.description.contains("change \(id) cannot go from \(from.rawValue) to \(to.rawValue)") == true
            }
            #expect(try await test.log.change(id: id) == before)
            #expect(try await test.log.actions(forChange: id) == actionsBefore)
        }
        #expect(try await test.log.verify().isIntact)
    }

    @Test("a status other than the expected one refuses the move and changes nothing", arguments: StoreBackend.allCases)
    func optimisticCheck(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let id = try await Fixture.ingestOne(test.log, 1)
        try await test.log.transition(id, to: .failed, action: ActionEntry(action: .failed, outcome: "timeout"), at: Fixture.t0)
        let before = try await test.log.change(id: id)
        await #expect {
            try await test.log.transition(
                id, to: .applied, expecting: [.pending], action: ActionEntry(action: .applied, outcome: "ok"),
                at: Fixture.t0)
        } throws: { error in
            let error = error as? AuditLogError
            return error?.code == .illegalTransition && error?.description.contains("is failed, expected pending") == true
        }
        #expect(try await test.log.change(id: id) == before)
        let applied = try await test.log.transition(
            id, to: .applied, expecting: [.pending, .failed],
            action: ActionEntry(action: .applied, outcome: "ok"), at: Fixture.t0)
        #expect(applied.status == .applied)
    }

    @Test("field updates ride along a move: set, keep, and clear", arguments: StoreBackend.allCases)
    func fieldUpdates(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let id = try await Fixture.ingestOne(test.log, 1)
        let due = Fixture.t0.addingTimeInterval(30)
        let failed = try await test.log.transition(
            id, to: .failed,
            update: ChangeUpdate(attempts: 1, nextAttemptAt: .some(due), lastError: .some("429 Too Many Requests")),
            action: ActionEntry(action: .failed, outcome: "rejected"), at: Fixture.t0)
        #expect(failed.attempts == 1)
        #expect(failed.nextAttemptAt == due)
        #expect(failed.lastError == "429 Too Many Requests")
        let again = try await test.log.transition(
            id, to: .failed, update: ChangeUpdate(attempts: 2),
            action: ActionEntry(action: .failed, outcome: "rejected"), at: Fixture.t0)
        #expect(again.attempts == 2)
        #expect(again.nextAttemptAt == due)
        #expect(again.lastError == "429 Too Many Requests")
        let applied = try await test.log.transition(
            id, to: .applied, update: ChangeUpdate(nextAttemptAt: .some(nil), lastError: .some(nil)),
            action: ActionEntry(action: .applied, outcome: "indexed"), at: Fixture.t0)
        #expect(applied.attempts == 2)
        #expect(applied.nextAttemptAt == nil)
        #expect(applied.lastError == nil)
    }

    @Test("moving or annotating an unknown change is notFound", arguments: StoreBackend.allCases)
    func unknownChange(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        await #expect {
            try await test.log.transition(404, to: .applied, action: ActionEntry(action: .applied, outcome: "ok"), at: Fixture.t0)
        } throws: { error in
            (error as? AuditLogError)?.code == .notFound
        }
        await #expect {
            try await test.log.appendAction(
                changeID: 404, messageID: nil, ActionEntry(action: .conflict, outcome: "refused"), at: Fixture.t0)
        } throws: { error in
            (error as? AuditLogError)?.code == .notFound
        }
        await #expect {
            try await test.log.appendAction(
                changeID: nil, messageID: "nope", ActionEntry(action: .conflict, outcome: "refused"), at: Fixture.t0)
        } throws: { error in
            (error as? AuditLogError)?.description.contains("message nope does not exist") == true
        }
        #expect(try await test.log.verify().actionsChecked == 0)
    }

    @Test("appendAction records without changing state", arguments: StoreBackend.allCases)
    func appendOnly(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let id = try await Fixture.ingestOne(test.log, 1)
        try await test.log.transition(id, to: .applied, action: ActionEntry(action: .applied, outcome: "indexed"), at: Fixture.t0)
        let before = try await test.log.change(id: id)
        let action = try await test.log.appendAction(
            changeID: id, messageID: nil,
            ActionEntry(action: .conflict, actor: "bob", reason: "rollback", outcome: "live document moved on"),
            at: Fixture.t0)
        #expect(action.changeID == id)
        #expect(action.action == .conflict)
        #expect(try await test.log.change(id: id) == before)
        #expect(try await test.log.actions(forChange: id).last == action)
    }
}
