import AuditLog
import Foundation
import Logging
import Reprocessor
import StreamModel
import Synchronization
import TestSupport
import Testing

/// An operator's closing decision sticks: a filter without a status never reaches a skipped,
/// rolled-back, superseded or applied change; naming its id or its status does.
@Suite("an operator's closing decision sticks")
struct ClosingDecisionTests {
    /// Three artists, ingested; each change then failed with a mapping error, and the second's
    /// skipped by an operator. Returns the change ids in artist order.
    static func failedAndOneSkipped(_ world: ReprocessorWorld) async throws -> [Int64] {
        for id in ["1", "2", "3"] { try await world.putArtist(id, name: "Artist \(id)") }
        let records = try await world.streamRecords()
        try await world.send([world.forwardedBody(records.map(\.record))])
        let ingest = try await world.cli("ingest", "--wait", "0")
        #expect(ingest.status == 0, "\(ingest)")
        let log = try AuditLog(path: world.auditDatabasePath)
        let changes = try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows
            .sorted { ($0.documentID ?? "") < ($1.documentID ?? "") }
        #expect(changes.count == 3)
        for change in changes {
            try await log.transition(
                change.id, to: .failed,
                update: ChangeUpdate(lastError: .some("OpenSearch 400 mapper_parsing_exception: failed to parse field [rating]")),
                action: ActionEntry(action: .failed, outcome: "failed"), at: Date())
        }
        let skip = try await world.cli("skip", String(changes[1].id), "--reason", "known bad record")
        #expect(skip.status == 0, "\(skip)")
        return changes.map(\.id)
    }

    @Test("library: a filtered retry leaves the skipped change out and counts it; its status, asked for, reaches it")
    func libraryRule() async throws {
        let world = try await ReprocessorWorld.start()
        let ids = try await Self.failedAndOneSkipped(world)
        let environment = world.environment()
        let settings = try ReprocessorSettings.resolve(.init(), environment: environment)
        let reprocessor = try await Reprocessor.open(settings: settings, environment: environment, logger: Logger(label: "test"))
        let actions = OperatorActions(
            auditLog: reprocessor.auditLog, engine: try await reprocessor.makeWriteEngine(), logger: Logger(label: "test"))
        let filter = ChangeFilter(errorPattern: "mapper_parsing")

        let preview = Mutex<[OperationResult]>([])
        let previewLeftOut = try await actions.perform(.retry, OperatorRequest(filter: filter, actor: "alice", dryRun: true)) {
            result in preview.withLock { $0.append(result) }
        }
        #expect(preview.withLock { $0.map(\.id).sorted() } == [ids[0], ids[2]], "the skipped change is not even previewed")
        #expect(previewLeftOut.byStatus == [.skipped: 1])
        #expect(previewLeftOut.summary(for: .retry)?.contains("1 skipped") == true)

        let done = Mutex<[OperationResult]>([])
        let leftOut = try await actions.perform(.retry, OperatorRequest(filter: filter, actor: "alice")) { result in
            done.withLock { $0.append(result) }
        }
        #expect(done.withLock { $0.map(\.id).sorted() } == [ids[0], ids[2]])
        #expect(done.withLock { $0.allSatisfy { $0.outcome == .applied } }, "\(done.withLock { $0 })")
        #expect(leftOut.count == 1)
        #expect(try await reprocessor.auditLog.change(id: ids[1])?.status == .skipped, "the operator's skip stuck")
        #expect(try await world.liveDocument("2") == nil)

        // Resync by document leaves an applied change out too; asked for by status, it reaches it.
        let resync = try await actions.perform(
            .resync, OperatorRequest(filter: ChangeFilter(documentID: "1"), actor: "alice", dryRun: true)
        ) { _ in Issue.record("an applied change is not resynced by a filter without a status") }
        #expect(resync.byStatus == [.applied: 1])
        let resyncApplied = Mutex<[OperationResult]>([])
        try await actions.perform(
            .resync, OperatorRequest(filter: ChangeFilter(statuses: [.applied], documentID: "1"), actor: "alice", dryRun: true)
        ) { result in resyncApplied.withLock { $0.append(result) } }
        #expect(resyncApplied.withLock { $0.map(\.outcome) } == [.wouldResync])

        // A filter that lists ids names its changes: the skipped one is reached.
        let named = Mutex<[OperationResult]>([])
        let namedLeftOut = try await actions.perform(
            .retry, OperatorRequest(filter: ChangeFilter(ids: [ids[1]]), actor: "alice", dryRun: true)
        ) { result in named.withLock { $0.append(result) } }
        #expect(namedLeftOut.count == 0)
        #expect(named.withLock { $0.map(\.outcome) } == [.wouldRetry])

        // The skipped change, its status asked for, is retried.
        let explicit = Mutex<[OperationResult]>([])
        let none = try await actions.perform(
            .retry, OperatorRequest(filter: ChangeFilter(statuses: [.skipped], errorPattern: "mapper_parsing"), actor: "alice")
        ) { result in explicit.withLock { $0.append(result) } }
        #expect(none.count == 0)
        #expect(explicit.withLock { $0.map(\.id) } == [ids[1]])
        #expect(explicit.withLock { $0.first?.outcome } == .applied)
    }

    @Test("CLI: retry --error leaves a skipped change alone and says so in its dry run; by id it is retried")
    func cliRule() async throws {
        let world = try await ReprocessorWorld.start()
        let ids = try await Self.failedAndOneSkipped(world)

        let dryRun = try await world.cli("retry", "--error", "mapper_parsing", "--dry-run", "--json")
        #expect(dryRun.status == 0, "\(dryRun)")
        let preview = try JSONValue(parsing: dryRun.stdout)
        let previewed = (preview["results"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue.map(Int64.init) }
        #expect(previewed.sorted() == [ids[0], ids[2]], "\(preview)")
        #expect(preview["leftOut"]?["count"]?.intValue == 1, "\(preview)")
        #expect(preview["leftOut"]?["statuses"]?["skipped"]?.intValue == 1, "\(preview)")
        let table = try await world.cli("retry", "--error", "mapper_parsing", "--dry-run")
        #expect(table.stdout.contains("left out 1 change the filter matched (1 skipped)"), "\(table)")

        let retried = try await world.cli("retry", "--error", "mapper_parsing", "--json")
        #expect(retried.status == 0, "\(retried)")
        let log = try AuditLog(path: world.auditDatabasePath)
        #expect(try await log.change(id: ids[0])?.status == .applied)
        #expect(try await log.change(id: ids[1])?.status == .skipped, "the skip stuck")
        #expect(try await log.change(id: ids[2])?.status == .applied)
        #expect(try await world.liveDocument("2") == nil)

        let byID = try await world.cli("retry", String(ids[1]), "--json")
        #expect(byID.status == 0, "\(byID)")
        #expect(try await log.change(id: ids[1])?.status == .applied, "named by its id, the skipped change is retried")
        #expect(try await world.liveDocument("2") != nil)
    }
}
