/// How a transaction takes its locks.
public enum TransactionKind: Sendable, Hashable {
    /// `BEGIN DEFERRED`: for readers; takes a read snapshot at the first read.
    case deferred
    /// `BEGIN IMMEDIATE`: for writers; takes the write lock at once (waiting up to the busy
    /// timeout), so a writer never fails half-way because another writer got in first.
    case immediate
}

extension Connection {
    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it (or the commit) throws.
    ///
    /// Transactions do not nest: calling this inside another transaction fails with SQLite's error.
    /// - Parameters:
    ///   - kind: ``TransactionKind/immediate`` for writers (the default), ``TransactionKind/deferred`` for readers.
    ///   - body: The work; its error is rethrown unchanged after the rollback.
    /// - Returns: What `body` returns.
    /// - Throws: ``SQLiteError`` from BEGIN or COMMIT (e.g. `SQLITE_BUSY` when the write lock stays
    ///   taken past the busy timeout), or whatever `body` throws.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try run(kind == .immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            // Some errors (SQLITE_FULL, SQLITE_IOERR…) roll the transaction back already.
            if isInTransaction {
                _ = try? run("ROLLBACK")
            }
            throw error
        }
    }
}
