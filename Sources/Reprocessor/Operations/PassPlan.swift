import AuditLog

/// Who may do what in a pass, and under which guard: the one lease-and-fleet plan that
/// `run --once` (``CronRun``) and `serve`'s loop both follow.
///
/// Alone on a store, a process works only while it holds the run lease, and the lease fences
/// every step it records. In a fleet (a shared PostgreSQL store) every worker drains, reads
/// batches (claiming each one) and replays (claiming each document), whoever holds the lease;
/// the lease only chooses the worker that runs the scheduled reconcile and reports store-wide
/// figures.
public struct PassPlan: Sendable {
    /// Whether the store is shared by a fleet.
    public let fleet: Bool
    /// The run lease, when this process holds it.
    public let fence: LeaseFence?

    /// Makes the plan for a process on a shared store or not, holding the lease or not.
    public init(fleet: Bool, fence: LeaseFence?) {
        self.fleet = fleet
        self.fence = fence
    }

    /// Whether this process drains, reads batches and replays now.
    public var works: Bool { fleet || fence != nil }

    /// The fence a drain or a batch read commits under: the lease alone, none in a fleet (ingest
    /// is idempotent, and batches are claimed one by one).
    public var ingestFence: LeaseFence? { fleet ? nil : fence }

    /// Whether this process runs the leader's work: the scheduled reconcile, store-wide figures.
    public var leads: Bool { fence != nil }

    /// The batch claimant of a fleet worker (`holder/batches`); nil alone, where the lease guards.
    /// - Parameters:
    ///   - holder: This process's run lease holder id.
    ///   - ttl: How long a batch claim lasts.
    public func batchReader(holder: String, ttl: Duration) -> BatchReader? {
        fleet ? BatchReader(holder: "\(holder)/batches", ttl: ttl) : nil
    }

    /// The engine a replay pass writes through: fenced by the lease alone; in a fleet the engine
    /// claims each document it decides and the lease fences nothing.
    /// - Parameter engine: The process's engine (claiming, in a fleet).
    /// - Returns: The engine for this pass, or nil when this process does not work now.
    public func replayEngine(_ engine: WriteEngine) -> WriteEngine? {
        if fleet { return engine }
        return fence.map { engine.fenced(by: $0) }
    }
}
