import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform
import TestSupport
import Testing

/// Several `dlq-reprocessor` processes working on the same audit log and index at once.
@Suite("concurrency")
struct ConcurrencyTests {
    /// Proves that two `run --once` started together and an operator's `retry --status parked
    /// pending` during the run never apply a change twice and never write a document out of order: for
    /// every document, the writes recorded in the audit log, taken in the order OpenSearch
    /// performed them (their `_seq_no`), carry strictly increasing stream sequence numbers; each
    /// change has at most one `applied` action; and in the end search equals the table. The retry
    /// goes oldest first, so it keeps offering old versions of documents the run has moved past.
    @Test("two runs, a retry and a resync at once: per-change results, nothing applied twice, nothing out of order")
    func runsAndRetryRace() async throws {
        let seed = ReliabilityScale.seed()
        var random = SeededGenerator(seed: seed)
        let world = try await ReprocessorWorld.start()
        let artists = 1...24
        for id in artists { try await world.putArtist("\(id)", name: "Artist \(id)") }
        let firstVersions = try await world.streamRecords()
        for version in 2...4 {
            for id in artists { try await world.putArtist("\(id)", name: "Artist \(id) v\(version)", rating: "4.\(version)") }
        }
        for id in [3, 12] { try await world.deleteArtist("\(id)") }
        let records = try await world.streamRecords()
        let later = Array(records.dropFirst(firstVersions.count))

        // The first versions of the even artists fail once on a mapping conflict (their own error)
        // and are parked (max attempts 1); everything else waits as pending.
        try await world.send([world.forwardedBody(firstVersions.filter { Self.isEven($0.record) }.map(\.record))])
        try await world.openSearchServer.fixtures.refuseArtistDocuments(index: world.index)
        let parking = try await world.cli("run", "--once", "--max-attempts", "1")
        #expect(parking.status == 3, "seed \(seed): \(parking)")
        try await world.openSearchServer.fixtures.recreateIndex(world.index)
        try await world.send([world.forwardedBody(firstVersions.filter { !Self.isEven($0.record) }.map(\.record))])
        try await world.send(
            stride(from: 0, to: later.count, by: 10).map {
                world.failedBatchBody(Array(later[$0..<min($0 + 10, later.count)]), requestID: "later-\($0)")
            })
        let ingest = try await world.cli("ingest", "--wait", "0")
        #expect(ingest.status == 0, "seed \(seed): \(ingest)")

        // The retry walks parked and pending changes in id order (oldest versions first), paced
        // so that it is still going while the runs replay the same documents.
        // It starts a little after the runs, so its page of changes goes stale while it works.
        // A resync of the pending changes races with both: the engine gives it per-change results
        // (resynced, or conflict where a run moved the change first), never an aborted batch.
        let offsets = [0...100, 0...100, 400...900, 300...1200].map {
            Duration.milliseconds(Int.random(in: $0, using: &random))
        }
        async let first = Self.cli(world, ["run", "--once", "--wait", "0"], after: offsets[0])
        async let second = Self.cli(world, ["run", "--once", "--wait", "0"], after: offsets[1])
        async let retry = Self.cli(
            world, ["retry", "--status", "parked", "pending", "--rate", "40", "--actor", "operator", "--json"],
            after: offsets[2])
        async let resync = Self.cli(
            world, ["resync", "--status", "pending", "--rate", "40", "--actor", "resyncer", "--json"], after: offsets[3])
        let (a, b, r, s) = try await (first, second, retry, resync)
        for output in [a, b] {
            #expect(!output.killedBySignal && [0, 3].contains(output.status), "seed \(seed): \(output)")
        }
        #expect(!r.killedBySignal && [0, 1].contains(r.status), "seed \(seed): \(r)")
        #expect(!s.killedBySignal && [0, 1].contains(s.status), "seed \(seed): \(s)")
        for (output, allowed) in [
            (r, Set(["applied", "superseded", "deferred", "conflict", "refused", "failed", "parked"])),
            (s, Set(["resynced", "conflict", "refused"])),
        ] {
            let results = try #require(
                try? JSONValue(parsing: output.stdout)["results"]?.arrayValue, "seed \(seed): one JSON document: \(output)")
            let outcomes = Set(results.compactMap { $0["outcome"]?.stringValue })
            #expect(outcomes.isSubset(of: allowed), "seed \(seed): \(outcomes)")
        }

        let finish = try await world.cli("run", "--once")
        #expect(finish.status == 0, "seed \(seed): \(finish)")

        let log = try AuditLog(path: world.auditDatabasePath)
        let changes = try await log.listChanges(ChangeFilter(), after: nil, limit: 1000).rows
        #expect(changes.count == records.count, "seed \(seed)")
        let open = changes.filter { ![.applied, .superseded].contains($0.status) }
        #expect(open.isEmpty, "seed \(seed): left over \(open.map { "\($0.id) \($0.status.rawValue)" })")
        let byID = Dictionary(uniqueKeysWithValues: changes.map { ($0.id, $0) })
        let applied = try await log.listActions(ActionFilter(actions: [.applied]), after: nil, limit: 1000).rows
        let appliedPerChange = Dictionary(grouping: applied, by: { $0.changeID ?? -1 })
        let twice = appliedPerChange.filter { $0.value.count > 1 }.keys.sorted()
        #expect(twice.isEmpty, "seed \(seed): applied more than once: changes \(twice)")

        // Writes per document in OpenSearch's order (the _seq_no each write got).
        var writes: [String: [(seqNo: Int, sequence: SequenceNumber, changeID: Int64)]] = [:]
        for action in applied {
            guard let changeID = action.changeID, let change = byID[changeID], let documentID = change.documentID,
                let response = action.response, let seqNo = try JSONValue(parsing: response)["seqNo"]?.intValue
            else { continue }
            writes[documentID, default: []].append((seqNo, change.sequenceNumber, changeID))
        }
        #expect(!writes.isEmpty, "seed \(seed): no write recorded its _seq_no")
        for (documentID, documentWrites) in writes {
            let ordered = documentWrites.sorted { $0.seqNo < $1.seqNo }
            for (earlier, next) in zip(ordered, ordered.dropFirst()) where !(earlier.sequence < next.sequence) {
                let message =
                    "seed \(seed): document \(documentID): change \(next.changeID) (sequence \(next.sequence.digits)) "
                    + "was written after change \(earlier.changeID) (sequence \(earlier.sequence.digits))"
                Issue.record(Comment(rawValue: message))
            }
        }

        for id in artists {
            let item = try await world.currentArtist("\(id)")
            let live = try await world.liveDocument("\(id)")
            if let item {
                let document = try #require(live, "seed \(seed): artist \(id) missing from search")
                #expect(ReprocessorWorld.content(document.source) == world.expectedContent(item), "seed \(seed): artist \(id)")
            } else {
                #expect(live == nil, "seed \(seed): removed artist \(id) still in search")
            }
        }
        #expect(try await world.cli("verify").status == 0, "seed \(seed)")
    }

    static func isEven(_ record: StreamRecord) -> Bool {
        guard case .string(let key)? = record.dynamodb.keys["PK"], let id = Int(key.dropFirst("ARTIST#".count)) else {
            return false
        }
        return id.isMultiple(of: 2)
    }

    static func cli(_ world: ReprocessorWorld, _ arguments: [String], after delay: Duration) async throws
        -> CommandRunner.Output
    {
        try await Task.sleep(for: delay)
        return try await CommandRunner.run(ReprocessorExecutable.path, arguments, environment: world.environment())
    }
}
