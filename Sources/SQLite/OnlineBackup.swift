internal import CSQLite
import Foundation

/// A copy of a connection's database into a new file through SQLite's online backup API
/// (`sqlite3_backup_init`, `_step`, `_finish`), some pages a step.
///
/// The copy reads the source through the source connection: when that connection holds a read
/// transaction (``Connection/transaction(_:_:)`` with `.deferred`, after a first read) every step
/// reads the same snapshot, so other connections' commits neither restart the copy nor are
/// blocked by it (WAL mode: a reader never blocks a writer). Without one, each step takes a
/// snapshot of its own and a commit by another connection restarts the copy from its first page.
///
/// The destination is a file of its own, written without a journal and without syncs (it is a
/// temporary copy until its owner syncs and renames it: see ``finish()``). Not Sendable: used by the
/// source connection's owner only.
public final class OnlineBackup {
    /// The destination file.
    public let destinationPath: String
    private var destination: OpaquePointer?
    private var backup: OpaquePointer?

    /// Starts a copy of `source`'s main database into `destinationPath`, a file that must not exist
    /// (it is created with mode 0600).
    /// - Throws: ``SQLiteError``: `SQLITE_CANTOPEN` when the file exists or cannot be created, or what
    ///   `sqlite3_backup_init` reports.
    public init(from source: Connection, to destinationPath: String) throws(SQLiteError) {
        self.destinationPath = destinationPath
        let descriptor = open(destinationPath, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR)
        guard descriptor >= 0 else {
            throw SQLiteError(
                code: .database, resultCode: .SQLITE_CANTOPEN,
                message: "cannot create \(destinationPath): \(String(cString: strerror(errno)))", path: destinationPath)
        }
        close(descriptor)
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOFOLLOW
        let code = sqlite3_open_v2(destinationPath, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let error = SQLiteError(connection: handle, resultCode: code, sql: nil, path: destinationPath)
            sqlite3_close_v2(handle)
            throw error
        }
        destination = handle
        sqlite3_extended_result_codes(handle, 1)
        // A temporary file until it is synced and renamed: no journal, no syncs of its own.
        for pragma in ["PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF"] {
            let result = sqlite3_exec(handle, pragma, nil, nil, nil)
            guard result == SQLITE_OK else { throw fail(result, sql: pragma) }
        }
        guard let backup = sqlite3_backup_init(handle, "main", source.handle, "main") else {
            throw fail(sqlite3_errcode(handle), sql: nil)
        }
        self.backup = backup
    }

    deinit {
        if let backup { sqlite3_backup_finish(backup) }
        if let destination { sqlite3_close_v2(destination) }
    }

    private func fail(_ code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(connection: destination, resultCode: code, sql: sql, path: destinationPath)
    }

    /// Copies up to `pages` more pages (all that are left when `pages` is negative).
    /// - Returns: Whether the copy is complete.
    /// - Throws: ``SQLiteError``: `SQLITE_FULL` or an I/O error writing the destination, `SQLITE_CORRUPT`
    ///   or an I/O error reading the source, `SQLITE_BUSY`/`SQLITE_LOCKED` when a lock stays taken.
    public func step(pages: Int32) throws(SQLiteError) -> Bool {
        guard let backup else { return true }
        let code = sqlite3_backup_step(backup, pages)
        switch code {
        case SQLITE_DONE: return true
        case SQLITE_OK, SQLITE_BUSY, SQLITE_LOCKED: return false
        default:
            // The destination's handle carries the error (a write), else the code alone says it (a read).
            let message = String(cString: sqlite3_errstr(code))
            throw SQLiteError(
                code: .database, resultCode: ResultCode(rawValue: code), message: message, path: destinationPath)
        }
    }

    /// Pages still to copy after the last step.
    public var remainingPages: Int {
        backup.map { Int(sqlite3_backup_remaining($0)) } ?? 0
    }

    /// Pages of the source at the last step.
    public var pageCount: Int {
        backup.map { Int(sqlite3_backup_pagecount($0)) } ?? 0
    }

    /// Ends the copy and closes the destination (complete or not); a complete copy's file is then
    /// whole on disk once its owner syncs it.
    /// - Throws: ``SQLiteError`` when the copy failed (the error its last step met) or the file
    ///   cannot be closed.
    public func finish() throws(SQLiteError) {
        if let backup {
            self.backup = nil
            let code = sqlite3_backup_finish(backup)
            guard code == SQLITE_OK else { throw fail(code, sql: nil) }
        }
        if let destination {
            self.destination = nil
            let code = sqlite3_close_v2(destination)
            guard code == SQLITE_OK else {
                throw SQLiteError(
                    code: .database, resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errstr(code)),
                    path: destinationPath)
            }
        }
    }
}

@available(*, unavailable)
extension OnlineBackup: Sendable {}
