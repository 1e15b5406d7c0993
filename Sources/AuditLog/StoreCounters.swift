import PostgresStore

/// What an audit log's connection has cost its store since it opened: the figures the benchmark
/// reports per worker to show where a replay round's time goes, on either store.
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
    /// Where the log's time went, by the audit log method that was called (e.g.
    /// `commit(_:at:fence:claims:)`): a method another one calls is counted in its caller's.
    public var calls: [String: CallTimes] = [:]

    /// No statements yet.
    public init() {}

    /// The sum of every method's times.
    public var allCalls: CallTimes {
        calls.values.reduce(into: CallTimes()) { $0.add($1) }
    }

    /// These counters less `earlier` (the same log's, read before): what was done in between.
    public func since(_ earlier: StoreCounters) -> StoreCounters {
        var difference = self
        difference.roundTrips -= earlier.roundTrips
        difference.transactions -= earlier.transactions
        difference.chainLockWaiting -= earlier.chainLockWaiting
        for (name, times) in earlier.calls {
            difference.calls[name, default: CallTimes()].subtract(times)
        }
        difference.calls = difference.calls.filter { $0.value.count > 0 }
        return difference
    }
}

/// How often one audit log method ran and where its time went, on the log's own thread.
///
/// `total` splits into ``statements`` (waiting for the database), ``encoding`` (Swift building
/// PostgreSQL's parameters) and the rest: Swift deciding, hashing, and converting rows.
public struct CallTimes: Sendable, Hashable {
    /// Calls.
    public var count = 0
    /// Their wall time, from entry to return.
    public var total = Duration.zero
    /// Time inside statements: on PostgreSQL from sending one to receiving its last row (the
    /// server's work, the network, and converting the rows as they arrive, ``decoding``), on
    /// SQLite inside SQLite's own calls (preparing, binding, stepping).
    public var statements = Duration.zero
    /// On PostgreSQL, the part of ``statements`` spent converting result cells to values (on the
    /// connection's event loop, as rows arrive).
    public var decoding = Duration.zero
    /// On PostgreSQL, time building statements' parameters (the JSON text of inserted and moved
    /// rows, the bindings); outside ``statements``.
    public var encoding = Duration.zero
    /// Statements run (on PostgreSQL each one round trip).
    public var statementCount = 0

    /// Nothing yet.
    public init() {}

    /// Adds `other`'s figures.
    public mutating func add(_ other: CallTimes) {
        count += other.count
        total += other.total
        statements += other.statements
        decoding += other.decoding
        encoding += other.encoding
        statementCount += other.statementCount
    }

    /// Takes away `other`'s figures.
    public mutating func subtract(_ other: CallTimes) {
        count -= other.count
        total -= other.total
        statements -= other.statements
        decoding -= other.decoding
        encoding -= other.encoding
        statementCount -= other.statementCount
    }
}

extension AuditLog {
    /// What this log's connection has cost its store so far (see ``StoreCounters``).
    public func storeCounters() -> StoreCounters {
        var counters = database.counters
        if case .postgres(let session) = database.backend { counters.roundTrips = session.roundTrips }
        return counters
    }
}

extension AuditDatabase {
    /// Times `body`, one call of the audit log method `name`, into ``counters``; a call made
    /// inside another is counted in the outer one.
    func timingCall<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        guard !inCall else { return try body() }
        inCall = true
        let before = statementTotals()
        let started = ContinuousClock.now
        defer {
            let after = statementTotals()
            var call = CallTimes()
            call.count = 1
            call.total = ContinuousClock.now - started
            call.statements = after.statements - before.statements
            call.decoding = after.decoding - before.decoding
            call.encoding = after.encoding - before.encoding
            call.statementCount = after.count - before.count
            counters.calls[name, default: CallTimes()].add(call)
            inCall = false
        }
        return try body()
    }

    /// The running totals of statement time since the database opened.
    private func statementTotals() -> StatementTotals {
        switch backend {
        case .sqlite:
            return sqliteTotals
        case .postgres(let session):
            let times = session.times
            return StatementTotals(
                statements: times.statements, decoding: times.decoding, encoding: times.binding + postgresEncoding,
                count: session.roundTrips)
        }
    }
}

/// Running totals of the time spent in statements (see ``CallTimes``).
struct StatementTotals {
    var statements = Duration.zero
    var decoding = Duration.zero
    var encoding = Duration.zero
    var count = 0
}
