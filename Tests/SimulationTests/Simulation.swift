import AWSClients
import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel
import SyncTransform
import Synchronization
import TestSupport

@testable import Reprocessor

/// One step of a schedule: what happens next in the world, drawn from the seed.
enum Step: Sendable, Hashable, CustomStringConvertible {
    /// The table's item of artist `artist` changes (INSERT when absent, else MODIFY or REMOVE).
    case tableWrite(artist: Int, remove: Bool)
    /// The DLQ delivers `count` stream records: the oldest undelivered, or (late) a later one
    /// first; with a duplicate of one already delivered.
    case deliver(count: Int, late: Bool, duplicate: Bool)
    /// Worker `worker` runs a replay pass under the run lease.
    case replay(worker: Int)
    /// An operator retries a change (by id), or the changes of its document (by a filter).
    case retry(pick: Int, byFilter: Bool)
    /// An operator skips a change.
    case skip(pick: Int)
    /// An operator rolls a change back.
    case rollback(pick: Int, force: Bool)
    /// An operator resyncs a change, or the changes of its document (by a filter).
    case resync(pick: Int, byFilter: Bool)
    /// Time passes.
    case clock(seconds: Int)
    /// An operator's `reconcile --repair`: every document compared with the table, drift repaired.
    case reconcile

    var description: String {
        switch self {
        case .tableWrite(let artist, let remove): "table write artist \(artist)\(remove ? " (remove)" : "")"
        case .deliver(let count, let late, let duplicate):
            "deliver \(count)\(late ? " late" : "")\(duplicate ? " +duplicate" : "")"
        case .replay(let worker): "replay by worker \(worker)"
        case .retry(let pick, let byFilter): "retry \(byFilter ? "by filter" : "by id") #\(pick)"
        case .skip(let pick): "skip #\(pick)"
        case .rollback(let pick, let force): "rollback #\(pick)\(force ? " --force" : "")"
        case .resync(let pick, let byFilter): "resync \(byFilter ? "by filter" : "by id") #\(pick)"
        case .clock(let seconds): "clock +\(seconds) s"
        case .reconcile: "reconcile --repair"
        }
    }

    /// The seeds that found defects before reconcile repairs were simulated: their schedules stay
    /// as found (no repair is drawn into them), so that each still replays its defect.
    static let foundBeforeReconcile: Set<UInt64> = [56, 107, 174, 5210, 6270]

    /// The schedule of `seed`: 12 to 40 steps over 2 to 4 artists.
    static func schedule(seed: UInt64) -> [Step] {
        var generator = SeededGenerator(seed: seed)
        let artists = Int.random(in: 2...4, using: &generator)
        let count = Int.random(in: 12...40, using: &generator)
        var steps: [Step] = (0..<count).map { _ in
            let roll = Int.random(in: 0..<100, using: &generator)
            let pick = Int.random(in: 0..<1000, using: &generator)
            switch roll {
            case 0..<24: return .tableWrite(artist: pick % artists, remove: pick % 5 == 0)
            case 24..<44:
                return .deliver(count: 1 + pick % 3, late: pick % 4 == 0, duplicate: pick % 7 == 0)
            case 44..<66: return .replay(worker: pick % 3)
            case 66..<74: return .retry(pick: pick, byFilter: pick % 3 == 0)
            case 74..<79: return .skip(pick: pick)
            case 79..<87: return .rollback(pick: pick, force: pick % 4 == 0)
            case 87..<93: return .resync(pick: pick, byFilter: pick % 3 == 0)
            default: return .clock(seconds: [1, 30, 700][pick % 3])
            }
        }
        // Reconcile repairs at seeded moments, from a generator of their own so that the steps
        // above stay what they were: one seed in four gets one.
        var repairs = SeededGenerator(seed: seed ^ 0x4EC0_C11E)
        if repairs.next() % 4 == 0, !foundBeforeReconcile.contains(seed) {
            steps.insert(.reconcile, at: Int(repairs.next() % UInt64(steps.count + 1)))
        }
        return steps
    }
}

/// One run of the simulation: a seed's schedule (or the steps of it kept by shrinking) against a
/// fresh world and a fresh audit log on a SQLite file, then quiescence and the invariants.
final class Simulation: Sendable {
    /// The produced stream records and what has become of them.
    struct Stream: Sendable {
        var records: [NewChange] = []
        var delivered: Set<Int> = []
        var messages = 0
        var nextSequence = 0
        var revisions: [Int: Int] = [:]
        /// The worker holding the run lease's kernel lock (the lock a process's death releases).
        var lockHolder: Int?
        /// The holder id of the replayer holding the lock (its process's tasks claim as `id#n`).
        var replayer: String?
        var holders = 0
        /// Operator command-line processes started.
        var operators = 0
    }

    let seed: UInt64
    let steps: [Step]
    let world: SimWorld
    let auditLog: AuditLog
    let directory: URL
    let planner: WritePlanner
    let batchDocuments: Int
    let stream = Mutex(Stream())
    let cursor = Mutex(0)
    let logger: Logger
    /// Clock skew of each worker, in milliseconds.
    static let skews: [Int64] = [0, 2500, -1800]
    static let streamARN =
        "arn:aws:dynamodb:eu-west-2:123456789012:table/tattoo-directory-local/stream/2026-11-24T09:00:00.000"

    /// - Parameters:
    ///   - keep: The indexes of the schedule's steps to run (nil: all).
    init(seed: UInt64, keep: Set<Int>? = nil, tracing: Bool = false, echo: Bool = false) throws {
        self.seed = seed
        let schedule = Step.schedule(seed: seed)
        steps = schedule.indices.filter { keep?.contains($0) ?? true }.map { schedule[$0] }
        world = SimWorld(seed: seed, tracing: tracing, echo: echo)
        directory = Self.scratch.appendingPathComponent("sim-\(seed)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("audit.sqlite3").path
        try Self.template().write(to: URL(fileURLWithPath: path))
        auditLog = try AuditLog(path: path, chainKey: try Self.chainKey())
        planner = WritePlanner(
            transform: SyncTransform(index: "artists"), maxAttempts: 3,
            backoff: RetryPolicy(maxAttempts: 3, baseDelay: .zero, maxDelay: .zero))
        var generator = SeededGenerator(seed: seed ^ 0xBA7C)
        batchDocuments = Int.random(in: 1...4, using: &generator)
        var logger = Logger(label: "simulation")
        logger.logLevel = .critical
        self.logger = logger
    }

    /// Where the seeds' audit logs live: memory-backed when the machine has `/dev/shm` (the store
    /// syncs every commit to disk, which would be most of a seed's time), else the temporary folder.
    static let scratch: URL =
        FileManager.default.isWritableFile(atPath: "/dev/shm")
        ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory

    static func chainKey() throws -> AuditChainKey {
        try AuditChainKey(text: "simulation-chain-key-0123456789abcdef")
    }

    /// A migrated, empty audit log made once per process and written out for each seed
    /// (migrating takes longer than a whole simulated run).
    static func template() throws -> Data {
        try templateBytes.withLock { bytes in
            if let bytes { return bytes }
            let directory = scratch.appendingPathComponent("sim-template-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("audit.sqlite3").path
            do {
                // Closed at the end of this scope: its log is checkpointed into the file.
                _ = try AuditLog(path: path, chainKey: try chainKey())
            }
            let made = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes = made
            return made
        }
    }

    private static let templateBytes = Mutex<Data?>(nil)

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs the schedule, then quiescence, and returns the invariants' violations (none: passed).
    func run() async throws -> [String] {
        // Here, not only in deinit: a crashed operation's parked task keeps this simulation alive.
        defer { try? FileManager.default.removeItem(at: directory) }
        world.state.withLock { state in
            state.interleave = { [self] depth in await runNext(depth: depth) }
        }
        while await runNext(depth: 0) {}
        try await quiesce()
        try await checkAtQuiescence()
        return world.state.withLock { $0.violations }
    }

    /// Runs the next step of the schedule; false when none is left.
    func runNext(depth: Int) async -> Bool {
        let index: Int? = cursor.withLock { cursor in
            guard cursor < steps.count else { return nil }
            defer { cursor += 1 }
            return cursor
        }
        guard let index else { return false }
        world.state.withLock { $0.step = index }
        world.log("\(String(repeating: "  ", count: depth))[\(index)] \(steps[index])")
        await perform(steps[index], depth: depth)
        return true
    }

    // MARK: Engines

    /// A fresh engine for one operation, as a process would build it: the world's search and
    /// table reached through `operation`, the clock of `worker`, its documents claimed as tasks of
    /// `holder` (the process), as `Reprocessor.makeWriteEngine` does on every store.
    func engine(_ operation: SimWorld.Operation, worker: Int, holder: String) -> WriteEngine {
        let world = world
        let skew = Self.skews[worker]
        let unused = URL(string: "http://127.0.0.1:9")!
        return WriteEngine(
            auditLog: auditLog, openSearch: OpenSearchClient(endpoint: unused, logger: logger),
            table: TableReader(
                client: DynamoDBClient(
                    configuration: AWSConfiguration(
                        region: "eu-west-2", credentials: AWSCredentials(accessKeyID: "unused", secretAccessKey: "unused"),
                        endpointOverride: unused),
                    logger: logger),
                tableName: "unused"),
            search: SimSearch(world: world, operation: operation), items: SimTable(world: world, operation: operation),
            planner: planner, batchDocuments: batchDocuments, intentGrace: 600, clock: { world.now(skew: skew) },
            sleep: { world.advance($0) }, roundsInFlight: 1, logger: logger
        ).claiming(as: holder, ttl: SimWorld.claimTTL)
    }

    // MARK: Steps

    func perform(_ step: Step, depth: Int) async {
        switch step {
        case .tableWrite(let artist, let remove): tableWrite(artist: artist, remove: remove)
        case .deliver(let count, let late, let duplicate):
            _ = await world.run("deliver", depth: depth, mayCrash: false) { [self] _ in
                try await deliver(count: count, late: late, duplicate: duplicate)
            }
        case .replay(let worker): await replay(worker: worker, depth: depth)
        case .retry(let pick, let byFilter): await operate(.retry, pick: pick, byFilter: byFilter, depth: depth)
        case .skip(let pick): await operate(.skip, pick: pick, byFilter: false, depth: depth)
        case .rollback(let pick, let force): await operate(.rollback, pick: pick, force: force, depth: depth)
        case .resync(let pick, let byFilter): await operate(.resync, pick: pick, byFilter: byFilter, depth: depth)
        case .clock(let seconds): world.advance(.seconds(seconds))
        case .reconcile: await reconcile(depth: depth)
        }
    }

    /// The process an operator's command runs in: inside a replay, the replaying process (`serve`
    /// answers the request as a task of its own); otherwise a command-line process of its own.
    func operatorProcess(depth: Int) -> String {
        stream.withLock { stream in
            if depth > 0, let replayer = stream.replayer { return replayer }
            stream.operators += 1
            return "operator-\(stream.operators)"
        }
    }

    /// An operator's `reconcile --repair`, as `Reconciliation.run` does it: a run recorded, the
    /// writes an earlier run left open recovered, every document the world knows (the table's
    /// and search's) handed to the engine as a repair (each decided again there from search, the
    /// table and the audit log; one in step is left alone), the run ended.
    func reconcile(depth: Int) async {
        let process = operatorProcess(depth: depth)
        _ = await world.run("reconcile --repair as \(process)", depth: depth) { [self] operation in
            let engine = engine(operation, worker: 0, holder: process)
            let run = try await auditLog.startReconcileRun(
                mode: .repair, actor: "operator", reason: "simulated reconcile", segments: 1, at: engine.clock())
            _ = try await engine.recoverInterruptedWrites(now: engine.clock())
            let documents = world.state.withLock { Set($0.table.keys).union($0.index.keys) }.sorted()
            let execution = try await engine.repair(
                documents, for: RepairOrder(runID: run.id, actor: "operator", reason: "simulated reconcile"),
                beforeWriting: nil)
            world.log("  reconcile: \(execution.repairs.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })")
            _ = try await auditLog.endReconcileRun(
                runID: run.id, error: execution.failure.map { "\($0)" }, at: engine.clock())
        }
    }

    /// Changes the table and produces the stream record of the change.
    func tableWrite(artist: Int, remove: Bool) {
        let id = String(artist)
        let keys: Item = ["PK": .string("ARTIST#\(id)"), "SK": .string("METADATA")]
        let old = world.item(id)
        let (sequence, revision) = stream.withLock { stream in
            stream.nextSequence += 1
            stream.revisions[artist, default: 0] += 1
            return (stream.nextSequence, stream.revisions[artist]!)
        }
        let new: Item? =
            old != nil && remove
            ? nil
            : keys.merging(
                ["name": .string("Artist \(id)"), "bio": .string("revision \(revision)"), "rev": .number(String(revision))]
            ) { $1 }
        let event: EventName = old == nil ? .insert : (new == nil ? .remove : .modify)
        world.setItem(id, new, sequence: sequence)
        let change = NewChange(
            streamARN: Self.streamARN, shardID: "shard-0", sequenceNumber: Self.sequenceNumber(sequence),
            eventID: "event-\(sequence)", eventName: event, keys: keys, documentID: SyncTransform.documentID(forKeys: keys),
            oldImage: old, newImage: new, approximateCreationTime: world.now())
        stream.withLock { $0.records.append(change) }
        world.log("  table: artist \(id) \(event.rawValue) at sequence \(sequence)")
    }

    static func sequenceNumber(_ ordinal: Int) -> SequenceNumber {
        let digits = String(ordinal)
        return SequenceNumber("1" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits)!
    }

    /// Delivers stream records through the audit log's ingest (idempotent by sequence and message id).
    func deliver(count: Int, late: Bool, duplicate: Bool) async throws {
        let (messageID, records): (String, [NewChange]) = stream.withLock { stream in
            var undelivered = stream.records.indices.filter { !stream.delivered.contains($0) }
            if late, undelivered.count > 1 { undelivered.swapAt(0, undelivered.count - 1) }
            var chosen = Array(undelivered.prefix(count))
            if duplicate, let again = stream.delivered.min() { chosen.append(again) }
            stream.delivered.formUnion(chosen)
            stream.messages += 1
            return ("message-\(stream.messages)", chosen.map { stream.records[$0] })
        }
        guard !records.isEmpty else { return }
        world.log("  ingest \(messageID): sequences \(records.map(\.sequenceNumber.digits).joined(separator: ", "))")
        _ = try await auditLog.ingest(
            [
                NewMessage(
                    messageID: messageID, body: "{\"Records\":[]}", format: .forwardedRecords, receivedAt: world.now(),
                    disposition: .changes(records))
            ], at: world.now())
    }

    /// A replay pass by `worker` under the run lease: skipped while another process holds the
    /// lease's lock (as `run --once` exits); a crashed holder's lock is released by its death.
    func replay(worker: Int, depth: Int) async {
        let taken: Bool = stream.withLock { stream in
            guard stream.lockHolder == nil else { return false }
            stream.lockHolder = worker
            stream.holders += 1
            return true
        }
        guard taken else {
            world.log("  worker \(worker): the run lease is held; nothing done")
            return
        }
        let holder = "worker-\(worker)-\(stream.withLock { $0.holders })"
        stream.withLock { $0.replayer = holder }
        _ = await world.run("replay by \(holder)", depth: depth) { [self] operation in
            let engine = engine(operation, worker: worker, holder: holder)
            let now = engine.clock()
            guard
                let fence = try await auditLog.takeLease(
                    name: AuditLog.runLeaseName, holder: holder, ttl: .seconds(300), lockHeld: true, now: now)
            else { return }
            let summary = try await engine.fenced(by: fence).replayDue()
            world.log("  \(holder): \(summary.sentence)")
            try await auditLog.releaseLease(fence, now: engine.clock())
        }
        stream.withLock { stream in
            stream.lockHolder = nil
            stream.replayer = nil
        }
    }

    /// An operator command on a change chosen by `pick` among those stored (by id), or on its
    /// document's changes (by a filter without statuses).
    func operate(_ command: OperatorActions.Command, pick: Int, byFilter: Bool = false, force: Bool = false, depth: Int)
        async
    {
        let process = operatorProcess(depth: depth)
        _ = await world.run("\(command.rawValue)\(byFilter ? " by filter" : "") as \(process)", depth: depth) {
            [self] operation in
            let changes = try await auditLog.listChanges(ChangeFilter(), after: nil, limit: 1000).rows
            guard !changes.isEmpty else { return }
            let change = changes[pick % changes.count]
            let engine = engine(operation, worker: 0, holder: process)
            let actions = OperatorActions(auditLog: auditLog, engine: engine, logger: logger)
            let reason = command.requiresReason ? "simulated operator" : nil
            if byFilter, let documentID = change.documentID {
                let before = Dictionary(
                    uniqueKeysWithValues: changes.filter { $0.documentID == documentID }.map { ($0.id, $0.status) })
                let started = world.state.withLock { $0.operationsStarted }
                let reports = Reports()
                try await actions.perform(
                    command,
                    OperatorRequest(filter: ChangeFilter(documentID: documentID), actor: "operator", reason: reason)
                ) { result in
                    self.world.log("  \(command.rawValue) \(result.id): \(result.outcome.rawValue) — \(result.message)")
                    reports.list.withLock { $0.append(result) }
                }
                let alone = world.state.withLock { $0.operationsStarted } == started
                let closed: Set<ChangeStatus> = [.skipped, .rolledBack, .applied, .superseded]
                for result in reports.list.withLock({ $0 }) {
                    if alone, let status = before[result.id], closed.contains(status) {
                        world.violate(
                            .filter,
                            "a filter reached change \(result.id), closed as \(status.rawValue): \(result.outcome.rawValue)")
                    }
                }
            } else {
                try await actions.perform(
                    command, OperatorRequest(ids: [change.id], actor: "operator", reason: reason, force: force)
                ) { result in
                    self.world.log("  \(command.rawValue) \(result.id): \(result.outcome.rawValue) — \(result.message)")
                }
            }
        }
    }

    // MARK: Quiescence

    /// Faults and crashes off, every record delivered, time past every backoff and grace, parked
    /// and failed changes retried by an operator, and replay until nothing is due.
    func quiesce() async throws {
        world.state.withLock { state in
            state.faults = false
            state.interleave = nil
            state.step = steps.count
        }
        world.log("[quiescence]")
        stream.withLock { $0.lockHolder = nil }
        let remaining = stream.withLock { $0.records.count - $0.delivered.count }
        try await deliver(count: remaining, late: false, duplicate: false)
        world.advance(.seconds(700))
        await replay(worker: 0, depth: 0)
        _ = await world.run("retry parked and failed", depth: 0, mayCrash: false) { [self] operation in
            try await OperatorActions(
                auditLog: auditLog, engine: engine(operation, worker: 0, holder: "operator-quiescence"), logger: logger
            ).perform(
                .retry, OperatorRequest(filter: ChangeFilter(statuses: [.parked, .failed]), actor: "operator")
            ) { _ in }
        }
        for _ in 0..<2 { await replay(worker: 0, depth: 0) }
    }
}

/// The results an operator command reported.
final class Reports: Sendable {
    let list = Mutex<[OperationResult]>([])
}
