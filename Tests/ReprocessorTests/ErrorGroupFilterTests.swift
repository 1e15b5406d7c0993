import AuditLog
import Foundation
import Logging
import Reprocessor
import StreamModel
import Synchronization
import Testing

/// A failure group's filter chooses exactly the group's changes: never those of a group whose
/// error text merely contains (or, ignoring case, equals) this one's fingerprint.
@Suite("failure group filter")
struct ErrorGroupFilterTests {
    @Test("a group whose text is inside another group's text: list, preview and skip touch only its own changes")
    func exactGroup() async throws {
        let (log, folder) = try AuditQueriesTests.scratchLog()
        defer { try? FileManager.default.removeItem(at: folder) }
        let changes = (0..<5).map(AuditQueriesTests.change)
        let ids = try await log.ingest(
            [
                NewMessage(
                    messageID: "m", body: "{}", format: .forwardedRecords, receivedAt: Date(), disposition: .changes(changes))
            ],
            at: Date())[0].storedChangeIDs
        func fail(_ id: Int64, _ error: String, to status: ChangeStatus = .failed) async throws {
            try await log.transition(
                id, to: .failed, update: ChangeUpdate(lastError: .some(error)),
                action: ActionEntry(action: .failed, outcome: "failed"), at: Date())
            if status == .parked {
                try await log.transition(id, to: .parked, action: ActionEntry(action: .parked, outcome: "parked"), at: Date())
            }
        }
        // "timeout" (ids 0, 1) sits inside "read timeout after 30 s" (id 2) and, ignoring case, "Timeout" (id 3).
        try await fail(ids[0], "timeout")
        try await fail(ids[1], "timeout", to: .parked)
        try await fail(ids[2], "read timeout after 30 s")
        try await fail(ids[3], "Timeout", to: .parked)

        let queries = AuditQueries(auditLog: log)
        let groups = try await queries.errorGroups(statuses: [])
        let group = try #require(groups.first { $0.error == "timeout" }, "\(groups)")
        #expect(group.count == 2)
        let filter = AuditQueries.filter(for: group)
        #expect(filter.errorGroup == group.id && filter.statuses == [.failed, .parked])

        let listed = try await queries.changes(filter, cursor: nil, limit: 1000).rows.map(\.id)
        #expect(listed == [ids[0], ids[1]], "the group's own changes, and no others")
        let bySubstring = try await queries.changes(
            ChangeFilter(statuses: filter.statuses, errorPattern: group.error), cursor: nil, limit: 1000
        ).rows.map(\.id)
        #expect(bySubstring.count == 4, "a pattern catches the other groups too: \(bySubstring)")

        let actions = OperatorActions(auditLog: log, engine: nil, logger: Logger(label: "test"))
        let preview = Mutex<[OperationResult]>([])
        try await actions.perform(.skip, OperatorRequest(filter: filter, actor: "alice", reason: "known", dryRun: true)) {
            result in preview.withLock { $0.append(result) }
        }
        #expect(preview.withLock { $0.map(\.id) } == [ids[0], ids[1]])
        #expect(preview.withLock { $0.allSatisfy { $0.outcome == .wouldSkip } })
        #expect(preview.withLock { $0.count } == group.count, "the preview counts what the group shows")

        try await actions.perform(.skip, OperatorRequest(filter: filter, actor: "alice", reason: "known")) { _ in }
        let statuses = try await ids.asyncMap { try await log.change(id: $0)?.status }
        #expect(statuses == [.skipped, .skipped, .failed, .parked, .pending], "only the group was skipped")
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var mapped: [T] = []
        for element in self { mapped.append(try await transform(element)) }
        return mapped
    }
}
