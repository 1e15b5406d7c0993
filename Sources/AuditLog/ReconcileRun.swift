import Foundation
import StreamModel

/// One reconcile run as the audit log keeps it: what it was asked, how far it got, what it found.
public struct ReconcileRun: Sendable, Hashable {
    /// Whether a run only reports or also repairs.
    public enum Mode: String, Sendable, Hashable, Codable {
        /// Reports drift, writes nothing to search.
        case dryRun = "dry_run"
        /// Repairs drift through the write engine's rules.
        case repair
    }

    /// Where a run stands.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Started and not finished (or killed: `--resume` continues it).
        case running
        /// Every segment scanned and the index walked.
        case finished
        /// Stopped on an error, kept for `--resume`.
        case failed
    }

    /// Where one scan segment stands.
    public enum SegmentPosition: Sendable, Hashable {
        /// Not started.
        case start
        /// Continue after this key (`ExclusiveStartKey`).
        case after(Item)
        /// Scanned to the end.
        case done
    }

    /// The run's id.
    public var id: Int64
    /// Dry run or repair.
    public var mode: Mode
    /// Running, finished or failed.
    public var status: Status
    /// Who started it.
    public var actor: String
    /// Why (repairs).
    public var reason: String?
    /// Parallel scan segments.
    public var segments: Int
    /// Per segment, from 0.
    public var positions: [SegmentPosition]
    /// The last document id the index walk finished.
    public var walkAfter: String?
    /// Whether the index walk is done.
    public var walkDone: Bool
    /// Table items scanned (artist METADATA items).
    public var scanned: Int
    /// Search documents walked.
    public var indexed: Int
    /// Findings by kind (`missing`, `stale`, `orphaned`, `differs`).
    public var found: [String: Int]
    /// Documents repaired (each with its `reconciled` action).
    public var repaired: Int
    /// Repairs refused because search changed under them (409), and, on a shared store, drifted
    /// documents another worker held (left to it): nothing written.
    public var conflicts: Int
    /// Repairs search refused for the document's own reason, or could not make.
    public var failed: Int
    /// Up to 20 document ids per kind.
    public var samples: [String: [String]]
    /// Why a failed run stopped.
    public var lastError: String?
    /// When it started.
    public var startedAt: Date
    /// Its last progress.
    public var updatedAt: Date
    /// When it finished.
    public var finishedAt: Date?
}

/// What one page of a reconcile run adds, committed in one transaction. Its repairs are not in
/// it: each is recorded (and counted in the run) by the write engine as it lands.
public struct ReconcileProgress: Sendable {
    /// The scan segment the page belongs to (nil for a page of the index walk).
    public var segment: Int?
    /// The segment's new position (scan pages).
    public var position: ReconcileRun.SegmentPosition?
    /// The walk's new position (walk pages): the last id, or nil with ``walkDone``.
    public var walkAfter: String?
    /// Whether the walk ended with this page.
    public var walkDone = false
    /// Items scanned by this page.
    public var scanned = 0
    /// The document ids of the items this scan page saw, for the index walk (``AuditLog/unseenDocuments(runID:_:)``).
    public var seen: [String] = []
    /// Documents walked by this page.
    public var indexed = 0
    /// Findings by kind, with their document ids, less the repairs that landed (counted when
    /// they were recorded).
    public var found: [String: [String]] = [:]
    /// Repairs refused with 409, and drifted documents left to the worker that holds them.
    public var conflicts = 0
    /// Repairs that failed.
    public var failed = 0

    /// Progress of a scan page.
    public init(segment: Int, position: ReconcileRun.SegmentPosition) {
        self.segment = segment
        self.position = position
    }

    /// Progress of a walk page.
    public init(walkAfter: String?, walkDone: Bool) {
        self.walkAfter = walkAfter
        self.walkDone = walkDone
    }
}
