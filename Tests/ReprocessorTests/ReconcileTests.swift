import AuditLog
import Foundation
import OpenSearchClient
import Reprocessor
import StreamModel
import SyncTransform
import Synchronization
import TestSupport
import Testing

/// `reconcile` end to end: the built executable against a moto table and an osmem index with
/// drift of every kind injected.
@Suite("reconcile")
struct ReconcileTests {
    /// Artists in the table of the main test (`RECONCILE_ARTISTS` to change it; about a minute at 2,000 on
    /// two loaded cores).
    static let artistCount = Int(ProcessInfo.processInfo.environment["RECONCILE_ARTISTS"] ?? "") ?? 2000
    /// Artists in the table of the crash test.
    static let smallArtistCount = 300
    static let missing = (1...10).map(String.init)
    static let stale = (11...17).map(String.init)
    static let differs = (21...25).map(String.init)
    static let orphaned = (9001...9008).map { "x\($0)" }

    /// The document the handler would have written for `item`.
    static func document(_ item: Item, sequence: String, transform: SyncTransform) -> JSONValue {
        transform.document(
            for: item,
            stamp: SyncStamp(
                sequenceNumber: SequenceNumber(sequence)!, eventName: .modify, approximateCreationTime: nil,
                appliedAt: Date(timeIntervalSince1970: 1_790_000_000)))
    }

    /// Every document of the index: id → (version, source).
    static func snapshot(_ world: ReprocessorWorld) async throws -> [String: OpenSearchDocument] {
        try await world.openSearch.refresh(index: world.index)
        var ids: [String] = []
        var after: String?
        repeat {
            let page = try await world.openSearch.walkPage(index: world.index, after: after, size: 500)
            ids += page.documents.map(\.id)
            after = page.next
        } while after != nil
        return try await world.openSearch.multiGet(index: world.index, ids: ids)
    }

    /// A table of `artists` artists (plus items that are not artist METADATA), and an index
    /// in step with it but for the injected drift. Stale artists were written twice; the DLQ
    /// brought their second change, so the audit log knows it, but search shows the first.
    static func driftedWorld(artists: Int) async throws -> ReprocessorWorld {
        let world = try await ReprocessorWorld.start()
        let transform = SyncTransform(index: world.index)
        for id in stride(from: 1, through: artists, by: 1) {
            try await world.putArtist(String(id), name: "artist \(id)")
        }
        for id in stale { try await world.putArtist(id, name: "artist \(id) renamed") }
        try await world.put(["PK": .string("ARTIST#1"), "SK": .string("REVIEW#1"), "text": .string("great")])
        try await world.put(["PK": .string("STUDIO#1"), "SK": .string("METADATA"), "name": .string("studio")])

        let staleRecords = try await world.streamRecords().map(\.record).filter {
            $0.eventName == .modify && stale.contains(SyncTransform.documentID(forKeys: $0.dynamodb.keys) ?? "")
        }
        #expect(staleRecords.count == stale.count)
        try await world.send(staleRecords.map { world.forwardedBody([$0]) })
        let ingest = try await world.cli("ingest")
        #expect(ingest.status == 0, "\(ingest)")

        var operations: [BulkOperation] = []
        for id in (1...artists).map(String.init) where !missing.contains(id) {
            var item = ReprocessorWorld.artist(id, name: "artist \(id)")
            if differs.contains(id) { item["name"] = .string("edited by hand") }
            operations.append(.index(id: id, document: document(item, sequence: "1", transform: transform), condition: nil))
        }
        for id in orphaned {
            let item = ReprocessorWorld.artist(id, name: "gone \(id)")
            operations.append(.index(id: id, document: document(item, sequence: "1", transform: transform), condition: nil))
        }
        let outcomes = try await world.openSearch.bulkSettled(index: world.index, operations: operations)
        #expect(outcomes.allSatisfy { (try? $0.get().isSuccess) == true })
        try await world.openSearch.refresh(index: world.index)
        return world
    }

    static func reconciledActions(_ world: ReprocessorWorld) async throws -> [ActionRecord] {
        let log = try AuditLog(path: world.auditDatabasePath)
        return try await log.listActions(ActionFilter(actions: [.reconciled]), after: nil, limit: 10_000).rows
    }

    @Test("dry run counts every kind exactly and writes nothing; repair makes search equal the table; then no drift")
    func dryRunRepairAndClean() async throws {
        let world = try await Self.driftedWorld(artists: Self.artistCount)
        let before = try await Self.snapshot(world)

        // Small pages, so each of the three segments and the walk take several.
        let dryRun = try await world.cli(
            "reconcile", "--segments", "3", "--json", environment: ["DLQ_BATCH_DOCUMENTS": "37"])
        let report = try? JSONValue(parsing: dryRun.stdout)
        #expect(dryRun.status == 3, "\(dryRun)")
        #expect(report?["mode"]?.stringValue == "dry_run")
        #expect(report?["scanned"]?.intValue == Self.artistCount)
        #expect(report?["indexed"]?.intValue == Self.artistCount - Self.missing.count + Self.orphaned.count)
        #expect(report?["missing"]?.intValue == Self.missing.count)
        #expect(report?["stale"]?.intValue == Self.stale.count)
        #expect(report?["orphaned"]?.intValue == Self.orphaned.count)
        #expect(report?["differs"]?.intValue == Self.differs.count)
        #expect(report?["repaired"]?.intValue == 0)
        for (kind, ids) in [
            ("missing", Self.missing), ("stale", Self.stale), ("orphaned", Self.orphaned), ("differs", Self.differs),
        ] {
            let samples = report?["samples"]?[kind]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(Set(samples) == Set(ids), "\(kind)")
        }
        #expect(try await Self.snapshot(world) == before, "a dry run writes nothing to search")
        #expect(try await Self.reconciledActions(world).isEmpty)

        let table = try await world.cli("reconcile")
        #expect(table.status == 3)
        #expect(table.stdout.contains("orphaned  8"), "\(table.stdout)")

        let (repair, repaired) = try await world.cliJSON(
            "reconcile", "--repair", "--reason", "incident 42", "--actor", "alice")
        #expect(repair.status == 0, "\(repair)")
        let drift = Self.missing + Self.stale + Self.orphaned + Self.differs
        #expect(repaired?["repaired"]?.intValue == drift.count)
        #expect(repaired?["conflicts"]?.intValue == 0)

        let after = try await Self.snapshot(world)
        #expect(after.count == Self.artistCount)
        for id in (1...Self.artistCount).map(String.init) {
            let item = try #require(try await world.currentArtist(id))
            let live = try #require(after[id], "artist \(id) in search")
            #expect(ReprocessorWorld.content(live.source) == world.expectedContent(item), "artist \(id)")
        }
        for id in Self.stale {
            let live = try #require(after[id])
            #expect(live.source["sync"]?["eventName"]?.stringValue == WritePlanner.resyncMark)
            #expect(SyncTransform.syncedSequenceNumber(in: live.source)! > SequenceNumber("1")!)
        }
        let actions = try await Self.reconciledActions(world)
        #expect(actions.count == drift.count, "one action per repair")
        #expect(actions.allSatisfy { $0.actor == "alice" && $0.reason == "incident 42" && $0.changeID == nil })
        let documented = actions.compactMap { $0.response.flatMap { try? JSONValue(parsing: $0) }?["documentId"]?.stringValue }
        #expect(Set(documented) == Set(drift))

        let (_, history) = try await world.cliJSON("history", Self.missing[0])
        let historyActions = try #require(history?["actions"]?.arrayValue)
        #expect(historyActions.count == 1 && historyActions.first?["action"]?.stringValue == "reconciled", "\(historyActions)")
        let (_, asOfNow) = try await world.cliJSON("history", Self.missing[0], "--at", AuditJSON.time(Date()))
        #expect(
            asOfNow?["document"].map(ReprocessorWorld.content)
                == world.expectedContent(try #require(try await world.currentArtist(Self.missing[0]))))

        let (again, clean) = try await world.cliJSON("reconcile")
        #expect(again.status == 0, "\(again)")
        for kind in ["missing", "stale", "orphaned", "differs"] { #expect(clean?[kind]?.intValue == 0, "\(kind)") }
        let verify = try await world.cli("verify")
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("kill -9 after a committed page of a repair, then --resume: the same run finishes, nothing counted or repaired twice")
    func resumeAfterKill() async throws {
        let world = try await Self.driftedWorld(artists: Self.smallArtistCount)
        let path = world.auditDatabasePath
        let pid = Mutex<Int32?>(nil)
        // The process creates `<resumeFile>.paused` once it stands at the pause point (its page committed).
        let resumeFile = path + ".resume-after-page"
        let killed = Task {
            try await CommandRunner.run(
                ReprocessorExecutable.path, ["reconcile", "--repair", "--reason", "incident 7", "--segments", "1"],
                environment: world.environment([
                    "DLQ_TEST_PAUSE_AT": "reconcile-after-page", "DLQ_TEST_PAUSE_SECONDS": "600",
                    "DLQ_TEST_RESUME_FILE": resumeFile, "DLQ_BATCH_DOCUMENTS": "25",
                ]),
                onStart: { started in pid.withLock { $0 = started } })
        }
        var atPause = false
        for _ in 0..<600 where !atPause {
            try await Task.sleep(for: .milliseconds(100))
            atPause = FileManager.default.fileExists(atPath: resumeFile + ".paused")
        }
        #expect(atPause, "the repair never stopped after a committed page")
        let paused = try await AuditLog(path: path).reconcileRuns(limit: 1).first.flatMap { $0.scanned > 0 ? $0 : nil }
        let interrupted = try #require(paused, "the repair never committed a page")
        kill(try #require(pid.withLock { $0 }), SIGKILL)
        let output = try await killed.value
        #expect(output.killedBySignal, "\(output)")
        #expect(output.stderr.contains("DLQ_TEST_PAUSED reconcile-after-page"), "\(output.stderr)")
        let atKill = try #require(try await AuditLog(path: path).reconcileRuns(limit: 1).first)
        #expect(atKill.id == interrupted.id && atKill.status == .running)
        #expect(atKill.scanned < Self.smallArtistCount)

        let resume = try await world.cli(
            "reconcile", "--repair", "--reason", "incident 7", "--resume", "--json",
            environment: ["DLQ_BATCH_DOCUMENTS": "25"])
        #expect(resume.status == 0, "\(resume)")
        let report = try JSONValue(parsing: resume.stdout)
        let drift = Self.missing + Self.stale + Self.orphaned + Self.differs
        #expect(report["run"]?.intValue == Int(interrupted.id), "the killed run resumed")
        #expect(report["scanned"]?.intValue == Self.smallArtistCount, "no page scanned twice")
        #expect(report["repaired"]?.intValue == drift.count)
        let actions = try await Self.reconciledActions(world)
        #expect(actions.count == drift.count, "one action per repair, none twice")
        let documented = actions.compactMap { $0.response.flatMap { try? JSONValue(parsing: $0) }?["documentId"]?.stringValue }
        #expect(Set(documented) == Set(drift))
        let (again, _) = try await world.cliJSON("reconcile")
        #expect(again.status == 0, "\(again)")
        let (_, stats) = try await world.cliJSON("stats")
        #expect(stats?["lastReconcile"]?["mode"]?.stringValue == "dry_run")
        #expect(stats?["lastReconcile"]?["status"]?.stringValue == "finished")
    }

    @Test("--repair --dry-run lists every repair it would make, one line each, then the report; it writes nothing")
    func repairDryRunListsRepairs() async throws {
        let world = try await Self.driftedWorld(artists: Self.smallArtistCount)
        let before = try await Self.snapshot(world)
        let output = try await world.cli(
            "reconcile", "--repair", "--dry-run", "--segments", "2", "--json", environment: ["DLQ_BATCH_DOCUMENTS": "40"])
        #expect(output.status == 3, "\(output)")
        let lines = try output.stdout.split(separator: "\n").map { try JSONValue(parsing: String($0)) }
        let report = try #require(lines.last)
        #expect(report["mode"]?.stringValue == "dry_run" && report["repaired"]?.intValue == 0, "\(report)")
        let repairs = lines.dropLast().compactMap { $0["repair"] }
        #expect(repairs.count == lines.count - 1, "every line but the report is a repair")
        let drift = Self.missing + Self.stale + Self.orphaned + Self.differs
        #expect(repairs.count == drift.count)
        for (kind, ids) in [
            ("missing", Self.missing), ("stale", Self.stale), ("orphaned", Self.orphaned), ("differs", Self.differs),
        ] {
            let listed = repairs.filter { $0["kind"]?.stringValue == kind }
            #expect(Set(listed.compactMap { $0["documentId"]?.stringValue }) == Set(ids), "\(kind)")
            #expect(report[kind]?.intValue == ids.count)
            for repair in listed {
                let id = try #require(repair["documentId"]?.stringValue)
                if kind == "orphaned" {
                    #expect(repair["operation"]?.stringValue == "delete" && repair["document"] == .null)
                    #expect(repair["condition"]?["ifSeqNo"]?.intValue == before[id].map { Int($0.seqNo) })
                } else {
                    #expect(repair["operation"]?.stringValue == "index")
                    let item = try #require(try await world.currentArtist(id))
                    #expect(ReprocessorWorld.content(try #require(repair["document"])) == world.expectedContent(item), "\(id)")
                    #expect(
                        repair["condition"]
                            == (kind == "missing"
                                ? .object(["createOnly": .bool(true)])
                                : .object([
                                    "ifSeqNo": .number(String(before[id]!.seqNo)),
                                    "ifPrimaryTerm": .number(String(before[id]!.primaryTerm)),
                                ])),
                        "\(id)")
                }
            }
        }
        #expect(try await Self.snapshot(world) == before, "nothing written to search")
        #expect(try await Self.reconciledActions(world).isEmpty)

        let text = try await world.cli("reconcile", "--repair", "--dry-run")
        #expect(text.status == 3, "\(text)")
        #expect(text.stdout.contains("would repair orphaned x9001: delete if _seq_no"), "\(text.stdout)")
        #expect(text.stdout.contains("would repair missing 1: index if absent {"), "\(text.stdout)")
        #expect(try await world.cli("reconcile", "--repair", "--dry-run", "--rate", "5").status == 2)
    }

    /// Whether search (`live`) shows the write `open` names.
    static func shows(_ open: WriteIntent, _ live: [String: OpenSearchDocument]) -> Bool {
        let document = live[open.intent.documentID]
        switch open.intent.operation {
        case .index: return document?.source["sync"]?["appliedAt"]?.stringValue == open.intent.stampAppliedAt
        case .delete: return document == nil
        }
    }

    /// Runs a repairing reconcile held between its first repair `_bulk` and the record of its
    /// actions, and kills it once search shows every write its intents name.
    /// - Returns: The open repair intents after the kill whose writes search shows, and the live
    ///   documents they wrote.
    static func killBetweenRepairWriteAndRecord(_ world: ReprocessorWorld) async throws -> (
        intents: [WriteIntent], live: [String: OpenSearchDocument]
    ) {
        let path = world.auditDatabasePath
        let pid = Mutex<Int32?>(nil)
        let killed = Task {
            try await CommandRunner.run(
                ReprocessorExecutable.path, ["reconcile", "--repair", "--reason", "incident 8", "--segments", "1"],
                environment: world.environment([
                    "DLQ_TEST_PAUSE_AT": "reconcile-after-write-before-record", "DLQ_TEST_PAUSE_SECONDS": "600",
                    "DLQ_BATCH_DOCUMENTS": "25",
                ]),
                onStart: { started in pid.withLock { $0 = started } })
        }
        var intents: [WriteIntent] = []
        var live: [String: OpenSearchDocument] = [:]
        var written = false
        for _ in 0..<600 where !written {
            try await Task.sleep(for: .milliseconds(100))
            guard FileManager.default.fileExists(atPath: path) else { continue }
            intents = try await AuditLog(path: path).openWriteIntents(
                recordedBefore: Date().addingTimeInterval(3600), limit: 100
            ).filter { $0.intent.repair != nil }
            guard !intents.isEmpty else { continue }
            live = try await world.openSearch.multiGet(index: world.index, ids: intents.map(\.intent.documentID))
            written = intents.allSatisfy { shows($0, live) }
        }
        #expect(written, "the repair never wrote")
        kill(try #require(pid.withLock { $0 }), SIGKILL)
        let output = try await killed.value
        #expect(output.killedBySignal, "\(output)")
        // Whether the kill found the process already in the pause or a moment before it (its
        // `DLQ_TEST_PAUSED` line is not always out yet), it fell between writes search shows and
        // their record: the open intents whose writes landed, read now, say so (checked below).
        // Read the open intents again after the kill: the ones whose writes search shows are the
        // repairs the kill left unrecorded.
        intents = try await AuditLog(path: path).openWriteIntents(recordedBefore: Date().addingTimeInterval(3600), limit: 100)
            .filter { $0.intent.repair != nil }
        live = try await world.openSearch.multiGet(index: world.index, ids: intents.map(\.intent.documentID))
        let landed = intents.filter { shows($0, live) }
        #expect(!landed.isEmpty, "writes search shows, left unrecorded by the kill")
        return (landed, live)
    }

    @Test(
        "kill -9 between a repair's write and its record, then --resume: each repair's action exactly once, the interrupted ones marked recovered, none written twice"
    )
    func resumeAfterKillBetweenWriteAndRecord() async throws {
        let world = try await Self.driftedWorld(artists: Self.smallArtistCount)
        let (interrupted, atKill) = try await Self.killBetweenRepairWriteAndRecord(world)
        #expect(try await Self.reconciledActions(world).isEmpty, "the kill came before any record")
        let run = try #require(try await AuditLog(path: world.auditDatabasePath).reconcileRuns(limit: 1).first)

        let resume = try await world.cli(
            "reconcile", "--repair", "--reason", "incident 8", "--resume", "--json",
            environment: ["DLQ_BATCH_DOCUMENTS": "25"])
        #expect(resume.status == 0, "\(resume)")
        let report = try JSONValue(parsing: resume.stdout)
        let drift = Self.missing + Self.stale + Self.orphaned + Self.differs
        #expect(report["run"]?.intValue == Int(run.id), "the killed run resumed")
        #expect(report["repaired"]?.intValue == drift.count)
        #expect(report["scanned"]?.intValue == Self.smallArtistCount)
        for (kind, ids) in [
            ("missing", Self.missing), ("stale", Self.stale), ("orphaned", Self.orphaned), ("differs", Self.differs),
        ] {
            #expect(report[kind]?.intValue == ids.count, "\(kind): counted once, recovered or found")
        }

        let actions = try await Self.reconciledActions(world)
        let responses = actions.compactMap { $0.response.flatMap { try? JSONValue(parsing: $0) } }
        #expect(actions.count == drift.count, "one action per repair")
        #expect(Set(responses.compactMap { $0["documentId"]?.stringValue }) == Set(drift), "none twice")
        let recovered = responses.filter { $0["recovered"] == .bool(true) }
        #expect(
            Set(recovered.compactMap { $0["documentId"]?.stringValue }) == Set(interrupted.map(\.intent.documentID)),
            "the interrupted repairs, and only they, are recorded as recovered")
        #expect(recovered.allSatisfy { $0["reconcileRun"]?.intValue == Int(run.id) })
        #expect(actions.allSatisfy { $0.actor != "" && $0.reason == "incident 8" })
        #expect(
            try await AuditLog(path: world.auditDatabasePath).openWriteIntents(recordedBefore: Date(), limit: 10).filter {
                $0.intent.repair != nil
            }.isEmpty)
        // Not written twice: each interrupted repair's document is the version the killed run wrote.
        let after = try await world.openSearch.multiGet(index: world.index, ids: interrupted.map(\.intent.documentID))
        for open in interrupted {
            #expect(after[open.intent.documentID]?.seqNo == atKill[open.intent.documentID]?.seqNo, "\(open.intent.documentID)")
        }
        let (again, _) = try await world.cliJSON("reconcile")
        #expect(again.status == 0, "\(again)")
        #expect(try await world.cli("verify").status == 0)
    }

    @Test("the write engine's next pass records a killed reconcile's interrupted repairs, and a resume then repeats none")
    func engineRecoversInterruptedRepairs() async throws {
        let world = try await Self.driftedWorld(artists: Self.smallArtistCount)
        let (interrupted, _) = try await Self.killBetweenRepairWriteAndRecord(world)
        let (replay, json) = try await world.cliJSON("run", "--once")
        #expect(replay.status == 0, "\(replay)")
        #expect(json?["replay"]?["recovered"]?.intValue == interrupted.count, "\(replay)")
        #expect(try await Self.reconciledActions(world).count == interrupted.count)

        let resume = try await world.cli(
            "reconcile", "--repair", "--reason", "incident 8", "--resume", "--json",
            environment: ["DLQ_BATCH_DOCUMENTS": "25"])
        #expect(resume.status == 0, "\(resume)")
        // The pass also replayed the stale artists' pending changes, so the resume repairs fewer.
        let documented = try await Self.reconciledActions(world).compactMap {
            $0.response.flatMap { try? JSONValue(parsing: $0) }?["documentId"]?.stringValue
        }
        #expect(documented.count == Set(documented).count, "one action per repair: \(documented.sorted())")
        #expect(Set(interrupted.map(\.intent.documentID)).isSubset(of: Set(documented)))
        let (again, _) = try await world.cliJSON("reconcile")
        #expect(again.status == 0, "\(again)")
    }

    @Test(
        "resolve-expired: a repairing reconcile brings the lost change into search, then the expired batch is resolved naming the run"
    )
    func resolveExpired() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("3", name: "Before")
        let records = try await world.streamRecords()
        // A range past everything the shard holds, with records older than the stream's retention.
        var gone = records[0]
        gone.record.dynamodb.sequenceNumber = AWSFixtures.sequence(records[0].record.dynamodb.sequenceNumber, plus: 1_000_000)
        try await world.send([world.failedBatchBody([gone], requestID: "trimmed")])
        #expect(try await world.cli("run", "--once").status == 3, "the expired batch waits for an operator")
        #expect(try await world.liveDocument("3") == nil, "its artist never reached search")

        let (resolve, json) = try await world.cliJSON("resolve-expired", "--reason", "stream trimmed", "--actor", "bob")
        #expect(resolve.status == 0, "\(resolve)")
        #expect(json?["reconcile"]?["missing"]?.intValue == 1, "\(resolve)")
        #expect(json?["reconcile"]?["repaired"]?.intValue == 1)
        let resolved = try #require(json?["resolvedBatches"]?.arrayValue)
        #expect(resolved.count == 1)
        let live = try #require(try await world.liveDocument("3"))
        #expect(ReprocessorWorld.content(live.source) == world.expectedContent(try #require(try await world.currentArtist("3"))))

        let (_, listed) = try await world.cliJSON("batches", "--status", "resolved")
        #expect(listed?["batches"]?.arrayValue?.first?["id"] == resolved[0])
        let actions = try await Self.reconciledActions(world)
        let batchAction = try #require(actions.first { $0.messageID != nil })
        #expect(batchAction.actor == "bob" && batchAction.reason == "stream trimmed")
        #expect(try JSONValue(parsing: batchAction.response ?? "")["reconcileRun"] == json?["reconcile"]?["run"])
        #expect(try await world.cli("run", "--once").status == 0, "nothing waits for an operator any more")
        #expect(try await world.cli("verify").status == 0)
    }

    @Test(
        "a repair racing a replay of a newer change: the replay leaves the document the repair holds; the repair lands, then the next pass writes the newer state"
    )
    func repairRacingReplay() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("4", name: "v1")
        let resumeFile = world.auditDatabasePath + ".resume-repair"
        let repairing = Task {
            try await world.cli(
                "reconcile", "--repair", "--reason", "race", "--json",
                environment: [
                    "DLQ_TEST_PAUSE_AT": "reconcile-before-write", "DLQ_TEST_PAUSE_SECONDS": "300",
                    "DLQ_TEST_RESUME_FILE": resumeFile,
                ])
        }
        // The repair has read search and the table (v1, document missing) and decided; it is held there.
        var held = false
        for _ in 0..<1200 where !held {
            try await Task.sleep(for: .milliseconds(100))
            held = FileManager.default.fileExists(atPath: resumeFile + ".paused")
        }
        #expect(held, "the repair reached its write")
        // Meanwhile the table moves on and the change reaches search through the engine.
        try await world.putArtist("4", name: "v2")
        let newer = try #require(try await world.streamRecords().map(\.record).last)
        try await world.send([world.forwardedBody([newer])])
        // The repair holds document 4 (claims on every store, migration 0019): the replay passes it by.
        let replay = try await world.cli("run", "--once")
        #expect(replay.status == 0, "\(replay)")
        #expect(try await world.liveDocument("4") == nil, "the replay left the held document to the repair")
        _ = FileManager.default.createFile(atPath: resumeFile, contents: nil)

        let output = try await repairing.value
        let report = try JSONValue(parsing: output.stdout)
        #expect(report["repaired"]?.intValue == 1, "\(output)")
        #expect(report["conflicts"]?.intValue == 0, "\(output)")
        #expect(output.status == 0, "\(output)")
        #expect(try await Self.reconciledActions(world).count == 1, "one write, one action")
        let next = try await world.cli("run", "--once")
        #expect(next.status == 0, "\(next)")
        let live = try #require(try await world.liveDocument("4"))
        #expect(live.source["name"]?.stringValue == "v2", "search shows the newer state")
        let (again, _) = try await world.cliJSON("reconcile")
        #expect(again.status == 0, "\(again)")
    }

    @Test("a repair that landed but whose answer was lost is refused when sent again: it is recorded once, not a conflict")
    func repairLandedByAnEarlierAttempt() async throws {
        let world = try await ReprocessorWorld.start()
        for id in ["1", "2", "3"] { try await world.putArtist(id, name: "artist \(id)") }
        // The first _bulk reaches search and takes effect, but the client is told 503 (a gateway
        // that lost the answer), so it sends the request again: each create is then refused, 409.
        let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
        defer { proxy.stop() }
        proxy.fail(method: "POST", pathContaining: "/_bulk", times: 1, status: 503, forwardingFirst: true)

        let output = try await world.cli(
            "reconcile", "--repair", "--reason", "lost answer", "--segments", "1", "--json",
            environment: ["OPENSEARCH_ENDPOINT": proxy.url.absoluteString])
        let report = try JSONValue(parsing: output.stdout)
        #expect(proxy.requests(method: "POST", pathContaining: "/_bulk").count == 2, "sent again after the 503")
        #expect(output.status == 0, "\(output)")
        #expect(report["missing"]?.intValue == 3 && report["repaired"]?.intValue == 3, "\(report)")
        #expect(report["conflicts"]?.intValue == 0, "its own write is not another writer's: \(report)")
        let actions = try await Self.reconciledActions(world)
        #expect(actions.count == 3, "every write to search has its action")
        let responses = actions.compactMap { $0.response.flatMap { try? JSONValue(parsing: $0) } }
        #expect(responses.allSatisfy { $0["result"]?.stringValue == "landed by an earlier attempt" }, "\(responses)")
        #expect(
            try await AuditLog(path: world.auditDatabasePath).openWriteIntents(recordedBefore: Date(), limit: 10).filter {
                $0.intent.repair != nil
            }.isEmpty)
        for id in ["1", "2", "3"] { #expect(try await world.liveDocument(id) != nil, "artist \(id)") }
        #expect(try await world.cli("verify").status == 0)
    }

    @Test(
        "on a terminal a progress line shows items scanned against DescribeTable's count, the drift and the rate; not through a pipe"
    )
    func progressLineOnlyOnATerminal() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...30 { try await world.putArtist(String(id), name: "artist \(id)") }
        let environment = world.environment(["DLQ_BATCH_DOCUMENTS": "5"])
        // util-linux `script` runs the command on a pseudo-terminal and copies what it shows to stdout.
        let command = ([ReprocessorExecutable.path, "reconcile", "--segments", "1"]).joined(separator: " ")
        let terminal = try await CommandRunner.run(
            "/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"], environment: environment)
        #expect(terminal.status == 3, "30 missing documents: \(terminal)")
        #expect(terminal.stdout.contains("reconcile, scanned: 5 of ~30 (16%), drift 5, "), "\(terminal.stdout)")
        #expect(terminal.stdout.contains("\r\u{1B}[K"), "redrawn in place")

        let piped = try await world.cli("reconcile", "--segments", "1", environment: ["DLQ_BATCH_DOCUMENTS": "5"])
        #expect(piped.status == 3)
        #expect(!piped.stderr.contains("reconcile, scanned"), "\(piped.stderr)")
    }

    @Test("a repair needs a reason; segments are bounded")
    func usage() async throws {
        let world = try await ReprocessorWorld.start()
        #expect(try await world.cli("reconcile", "--repair").status == 2)
        #expect(try await world.cli("reconcile", "--segments", "0").status == 2)
        #expect(try await world.cli("reconcile", "--rate", "5").status == 2)
    }
}
