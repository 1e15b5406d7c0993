import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform
import Synchronization
import TestSupport

/// The simulated world the engine runs in: an in-memory search index and table, a clock, the
/// faults, and the scheduler that interleaves operations inside each other's I/O. One seeded
/// generator decides everything (the steps of `Step.schedule(seed:)` come from another, so that a schedule
/// with steps dropped replays the same faults in the same order of I/O calls).
///
/// Single-threaded by construction: at any time exactly one simulated operation runs; the
/// others wait in a call to the world (the one that let another run first) or are finished
/// or crashed. The state sits behind a lock only to satisfy the compiler.
final class SimWorld: Sendable {
    /// A document in the index.
    struct Stored: Sendable {
        var seqNo: Int64
        var source: JSONValue
    }

    /// A write that landed in the index, for the invariants.
    struct Landed: Sendable {
        var documentID: String
        var seqNo: Int64
        /// The written document (nil for a delete).
        var source: JSONValue?
    }

    /// One version of a table item: the stream sequence that made it, and the item (nil: removed).
    struct Version: Sendable {
        var sequence: Int
        var item: Item?
    }

    /// What the world knows and has seen.
    struct State: Sendable {
        var generator: SeededGenerator
        var index: [String: Stored] = [:]
        var nextSeqNo: Int64 = 0
        var table: [String: [Version]] = [:]
        var landed: [Landed] = []
        /// Per document, the newest table version search has shown since the last rollback.
        var shown: [String: Int] = [:]
        var violations: [String] = []
        var trace: [String] = []
        /// Simulated time, milliseconds since 1970; every clock read advances it by one.
        var now: Int64
        var faults = true
        var step = 0
        /// Continuations of crashed operations, kept so that they are never resumed nor freed.
        var frozen: [UnsafeContinuation<Void, Never>] = []
        /// Operations started (for telling whether a filter operation ran alone, and each one's id).
        var operationsStarted = 0
        /// Per running operation (by id), the documents it read from search, each with the time
        /// of its first read: it holds their claims from then on (a task reads only what it claimed).
        var reads: [Int: [String: Int64]] = [:]
        /// Per running operation, the documents another operation wrote since it read them, each
        /// with the time of the first such write.
        var intrusions: [Int: [String: Int64]] = [:]
        /// Runs the next step of the schedule inside another operation's I/O (at the given depth);
        /// false when none is left.
        var interleave: (@Sendable (Int) async -> Bool)?
    }

    let state: Mutex<State>
    let tracing: Bool
    /// Whether the trace is printed as it is made (`--trace`).
    let echo: Bool
    let transform = SyncTransform(index: "artists")
    let faultRate: Double

    init(seed: UInt64, tracing: Bool, echo: Bool = false, faultRate: Double = 0.05) {
        // 2026-11-24T10:00:00Z
        state = Mutex(State(generator: SeededGenerator(seed: seed ^ 0x5EED_F00D), now: 1_795_514_400_000))
        self.tracing = tracing || echo
        self.echo = echo
        self.faultRate = faultRate
    }

    // MARK: Clock and chance

    /// The time `skew` milliseconds off the world's clock, which advances by one millisecond a read
    /// (so two stamps never collide).
    func now(skew: Int64 = 0) -> Date {
        state.withLock { state in
            state.now += 1
            return Date(timeIntervalSince1970: Double(state.now + skew) / 1000)
        }
    }

    /// Moves the clock on.
    func advance(_ duration: Duration) {
        state.withLock { $0.now += max(0, duration.simMilliseconds) }
    }

    /// A seeded draw: true with probability `p` while faults are on.
    func chance(_ p: Double) -> Bool {
        state.withLock { state in
            let draw = Double(state.generator.next() >> 11) / Double(1 << 53)
            return state.faults && draw < p
        }
    }

    /// A seeded number in `0..<bound`.
    func draw(_ bound: Int) -> Int {
        state.withLock { Int($0.generator.next() % UInt64(max(1, bound))) }
    }

    func log(_ line: @autoclosure () -> String) {
        guard tracing else { return }
        let line = line()
        state.withLock { $0.trace.append(line) }
        if echo { print(line) }
    }

    /// The invariants (DESIGN §5), each the tag of its violations.
    enum Invariant: String, Sendable, CaseIterable {
        /// Per document, search never shows an older state than it showed (but by a rollback).
        case forward = "never back in time"
        /// After a clean pass every touched document equals the table's item.
        case clean = "clean pass equals the table"
        /// Every write to search has exactly one recorded action.
        case oneAction = "one action per write"
        /// No change applied twice.
        case twice = "no change applied twice"
        /// Every stream record ends stored and settled.
        case lost = "nothing lost"
        /// A closed decision is never reopened by a filter.
        case filter = "filters leave closed decisions"
        /// While a task's claim on a document lives, no other task writes the document.
        case exclusive = "claims keep a document to one task"
        /// The keyed chain verifies.
        case chain = "the chain verifies"
    }

    func violate(_ invariant: Invariant, _ line: String) {
        state.withLock { state in
            state.violations.append("step \(state.step): [\(invariant.rawValue)] \(line)")
        }
        log("VIOLATION [\(invariant.rawValue)] \(line)")
    }

    // MARK: Operations, crashes and interleaving

    /// How an operation ended.
    enum Ending: Sendable { case finished, crashed }

    /// A running operation: its depth of nesting and how to signal its end.
    final class Operation: Sendable {
        /// Its number among the operations of the run.
        let id: Int
        let name: String
        let depth: Int
        let mayCrash: Bool
        let ended: Mutex<UnsafeContinuation<Ending, Never>?> = Mutex(nil)

        init(id: Int, name: String, depth: Int, mayCrash: Bool) {
            self.id = id
            self.name = name
            self.depth = depth
            self.mayCrash = mayCrash
        }

        func end(_ ending: Ending) {
            ended.withLock { $0.take() }?.resume(returning: ending)
        }
    }

    /// Runs `body` as one simulated process until it finishes or crashes. It runs in a task of its
    /// own while the caller waits, so a crash (the operation parks forever at its I/O call) ends
    /// only it.
    func run(
        _ name: String, depth: Int, mayCrash: Bool = true, _ body: @escaping @Sendable (Operation) async throws -> Void
    ) async -> Ending {
        let id = state.withLock { state in
            state.operationsStarted += 1
            return state.operationsStarted
        }
        let operation = Operation(id: id, name: name, depth: depth, mayCrash: mayCrash)
        log("\(String(repeating: "  ", count: depth))> \(name)")
        let ending = await withUnsafeContinuation { (continuation: UnsafeContinuation<Ending, Never>) in
            operation.ended.withLock { $0 = continuation }
            Task {
                do {
                    try await body(operation)
                } catch {
                    self.log("\(String(repeating: "  ", count: depth))  \(name) threw: \(error)")
                }
                operation.end(.finished)
            }
        }
        log("\(String(repeating: "  ", count: depth))< \(name) \(ending)")
        if ending == .finished {
            state.withLock { state in
                state.reads[id] = nil
                state.intrusions[id] = nil
            }
        }
        return ending
    }

    /// Where an operation's I/O reaches the world: the scheduler may first run the next step
    /// inside it, and the operation may crash here.
    func reach(_ operation: Operation, _ call: String) async {
        guard operation.depth < 2, chance(0.15), let interleave = state.withLock({ $0.interleave }) else { return }
        log("\(String(repeating: "  ", count: operation.depth))  ~ inside \(operation.name) at \(call):")
        _ = await interleave(operation.depth + 1)
    }

    /// Ends `operation` here when the seed says it crashes at `call`.
    func crashPoint(_ operation: Operation, _ call: String) async {
        guard operation.mayCrash, chance(0.02) else { return }
        log("\(String(repeating: "  ", count: operation.depth))  ! \(operation.name) crashes at \(call)")
        operation.end(.crashed)
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            state.withLock { $0.frozen.append(continuation) }
        }
    }

    // MARK: Table

    /// The item of `documentID` now (nil when absent).
    func item(_ documentID: String) -> Item? {
        state.withLock { $0.table[documentID]?.last?.item }
    }

    /// Records a new table version.
    func setItem(_ documentID: String, _ item: Item?, sequence: Int) {
        state.withLock { $0.table[documentID, default: []].append(Version(sequence: sequence, item: item)) }
    }

    /// The table version whose item `source` shows (without its stamp), newest first.
    func version(of source: JSONValue, documentID: String) -> Int? {
        let content = Self.content(source)
        let versions = state.withLock { $0.table[documentID] ?? [] }
        for version in versions.reversed() {
            guard let item = version.item else { continue }
            if Self.content(document(for: item)) == content { return version.sequence }
        }
        return nil
    }

    /// The document the transform makes of `item` (stamp aside).
    func document(for item: Item) -> JSONValue {
        transform.document(
            for: item,
            stamp: SyncStamp(
                sequenceNumber: SequenceNumber("1")!, eventName: .modify, approximateCreationTime: nil,
                appliedAt: Date(timeIntervalSince1970: 0)))
    }

    /// A document without its `sync` stamp.
    static func content(_ document: JSONValue) -> JSONValue {
        guard case .object(var fields) = document else { return document }
        fields["sync"] = nil
        return .object(fields)
    }

    // MARK: Index

    func snapshot(_ ids: [String]) -> [String: OpenSearchDocument] {
        state.withLock { state in
            var found: [String: OpenSearchDocument] = [:]
            for id in ids {
                if let stored = state.index[id] {
                    found[id] = OpenSearchDocument(id: id, seqNo: stored.seqNo, primaryTerm: 1, source: stored.source)
                }
            }
            return found
        }
    }

    // MARK: Claims

    /// How long a task's claims last (`DLQ_LEASE_TTL`'s default).
    static let claimTTL: Duration = .seconds(60)

    /// Notes that `operation` read `ids` from search: a write another operation makes after this
    /// read and before `operation` sends its own counts against its claim. The first read of each
    /// is kept: an operation's claims are no older than it (a later read may be a later round of
    /// the same claims, or another task's of the same operation).
    func noteRead(_ operation: Operation, _ ids: [String]) {
        state.withLock { state in
            for id in ids {
                if state.reads[operation.id]?[id] == nil { state.reads[operation.id, default: [:]][id] = state.now }
                state.intrusions[operation.id]?[id] = nil
            }
        }
    }

    /// Invariant, as `operation` sends writes of `ids`: no other operation wrote one of them since
    /// `operation` last read it, while its claim lived: within ``claimTTL`` of its first read
    /// (a conservative bound: its claims were taken no earlier), less 5 s for the workers' skew
    /// (on SQLite each judges expiry by its own clock). Without claims, or with a task taking
    /// another's, this is what breaks first.
    func checkExclusive(_ operation: Operation, _ ids: [String]) {
        let broken: [(String, Int64)] = state.withLock { state in
            var broken: [(String, Int64)] = []
            for id in ids {
                guard let read = state.reads[operation.id]?[id], let written = state.intrusions[operation.id]?[id] else {
                    continue
                }
                state.intrusions[operation.id]?[id] = nil
                if written - read < Self.claimTTL.simMilliseconds - 5000 { broken.append((id, written - read)) }
            }
            return broken
        }
        for (id, after) in broken {
            violate(
                .exclusive,
                "\(operation.name) wrote document \(id), which another task wrote \(after) ms after \(operation.name) read it under its claim"
            )
        }
    }

    /// Applies one operation as OpenSearch would, checking "never back in time" as it lands.
    func apply(_ operation: BulkOperation, by writer: Operation) -> BulkItemResult {
        let conflict = { (id: String) in
            BulkItemResult(
                id: id, status: 409, errorType: "version_conflict_engine_exception", errorReason: "[\(id)]: version conflict")
        }
        let result: BulkItemResult = state.withLock { state in
            func matches(_ condition: WriteCondition?, _ current: Stored?) -> Bool {
                switch condition {
                case nil: true
                case .createOnly: current == nil
                case .ifSeqNo(let seqNo, _): current?.seqNo == seqNo
                }
            }
            switch operation {
            case .index(let id, let document, let condition):
                let current = state.index[id]
                guard matches(condition, current) else { return conflict(id) }
                state.nextSeqNo += 1
                state.index[id] = Stored(seqNo: state.nextSeqNo, source: document)
                state.landed.append(Landed(documentID: id, seqNo: state.nextSeqNo, source: document))
                return BulkItemResult(
                    id: id, status: current == nil ? 201 : 200, result: current == nil ? "created" : "updated",
                    seqNo: state.nextSeqNo, primaryTerm: 1)
            case .delete(let id, let condition):
                let current = state.index[id]
                if condition != nil, current == nil { return conflict(id) }
                guard matches(condition, current) else { return conflict(id) }
                state.nextSeqNo += 1
                state.index[id] = nil
                state.landed.append(Landed(documentID: id, seqNo: state.nextSeqNo, source: nil))
                return BulkItemResult(
                    id: id, status: current == nil ? 404 : 200, result: current == nil ? "not_found" : "deleted",
                    seqNo: state.nextSeqNo, primaryTerm: 1)
            }
        }
        if result.isSuccess {
            state.withLock { state in
                for (reader, documents) in state.reads where reader != writer.id && documents[operation.id] != nil {
                    if state.intrusions[reader]?[operation.id] == nil {
                        state.intrusions[reader, default: [:]][operation.id] = state.now
                    }
                }
            }
        }
        if result.isSuccess, case .index(let id, let document, _) = operation { checkForward(id, document) }
        log("      search \(operation.id): \(result.status) \(result.result ?? result.errorType ?? "")")
        return result
    }

    /// Invariant: per document, search never shows an older table state than it showed, except
    /// by an explicit rollback (which resets the mark).
    func checkForward(_ id: String, _ document: JSONValue) {
        guard let version = version(of: document, documentID: id) else {
            if document["sync"]?["eventName"]?.stringValue != "ROLLBACK" {
                violate(.forward, "document \(id) was written with content no table version ever had")
            }
            return
        }
        let rollback = document["sync"]?["eventName"]?.stringValue == "ROLLBACK"
        let shown = state.withLock { $0.shown[id] }
        if let shown, version < shown, !rollback {
            violate(.forward, "document \(id) went back in time: showed table version \(shown), now \(version)")
        }
        state.withLock { $0.shown[id] = rollback ? version : max(version, shown ?? version) }
    }
}

extension Duration {
    /// Whole milliseconds.
    var simMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
