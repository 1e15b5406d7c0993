import PostgresStore

/// What an audit log's connection has cost its store since it opened: the figures the benchmark
/// reports per worker to show where a replay round's time goes on a shared store.
public struct StoreCounters: Sendable, Hashable {
    /// Statements sent to a PostgreSQL store, each one network round trip (transaction control
    /// included); 0 on SQLite, whose statements are calls into the process.
    public var roundTrips = 0
    /// Transactions run (reads and writes).
    public var transactions = 0
    /// On PostgreSQL, time spent in the statement that takes the store's write lock (the
    /// `chain_head` row) at a writer's start: its round trip, plus any wait for another worker's
    /// writer to commit.
    public var chainLockWaiting = Duration.zero

    /// No statements yet.
    public init() {}
}

extension AuditLog {
    /// What this log's connection has cost its store so far (see ``StoreCounters``).
    public func storeCounters() -> StoreCounters {
        var counters = database.counters
        if case .postgres(let session) = database.backend { counters.roundTrips = session.roundTrips }
        return counters
    }
}
