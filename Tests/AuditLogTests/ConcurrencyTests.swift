import AuditLog
import Foundation
import Testing

@Suite("Concurrency")
struct ConcurrencyTests {
    @Test(
        "two AuditLog instances on one file write concurrently without losing a row or breaking the chain",
        arguments: StoreBackend.allCases)
    func twoWriters(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let other = try await test.reopen()
        let perWriter = 40
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (writer, log) in [(0, test.log), (1, other)] {
                group.addTask {
                    for n in 0..<perWriter {
                        let number = writer * 1000 + n
                        let id = try await Fixture.ingestOne(log, number, document: "doc-\(number % 7)")
                        try await log.transition(
                            id, to: .applied, action: ActionEntry(action: .applied, actor: "writer-\(writer)", outcome: "ok"),
                            at: Fixture.t0)
                        _ = try await log.takeLease(
                            name: "run", holder: "writer-\(writer)", ttl: .seconds(1), lockHeld: true, now: Fixture.t0)
                    }
                }
            }
            try await group.waitForAll()
        }
        let stats = try await test.log.stats()
        #expect(stats.changes[.applied] == 2 * perWriter)
        #expect(stats.messagesTotal == 2 * perWriter)
        let report = try await other.verify()
        #expect(report.isIntact)
        #expect(report.actionsChecked == 4 * perWriter)
        let byWriter = try await test.log.listActions(ActionFilter(actor: "writer-1"), after: nil, limit: 1000).rows
        #expect(byWriter.count == perWriter)
    }
}
