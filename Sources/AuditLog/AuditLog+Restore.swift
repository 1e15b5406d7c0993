import Foundation
import SQLite

/// What ``StoreBackup/restore(from:to:chainKey:)`` did.
public struct RestoreReport: Sendable, Hashable {
    /// The store that was restored.
    public var path: String
    /// The backup it was restored from.
    public var backup: String
    /// The chain's head after the restore: the backup's head.
    public var head: ChainHead
    /// Where the store it replaced was kept (nil when there was none).
    public var keptAs: String?
    /// The replaced store's head, when it could still be read: the actions after ``head`` up to it
    /// are what the restore lost from this store.
    public var replacedHead: ChainHead?
}

extension StoreBackup {
    /// Replaces the store at `store` with the backup at `backup`, after verifying the backup, while
    /// no process holds the store: the run lease's lock (`<store>.lease`) is taken and held for the
    /// whole restore, and a store another process has open (its shared-memory index locked) is
    /// refused.
    ///
    /// The backup is copied to a temporary name beside the store and synced; the replaced store and
    /// its `-wal` are moved aside to `<store>.replaced-<UTC time>` (its stale `-shm` removed), so a
    /// restore never mixes the backup with the old write-ahead log and loses nothing it could still
    /// read; then the copy is renamed into place and the folder synced.
    /// - Parameters:
    ///   - backup: A backup made by ``copy(to:)`` (or any copy of a store).
    ///   - store: The store's path (it need not exist).
    ///   - chainKey: The chain's key, to verify the backup.
    /// - Returns: The restored head, where the replaced store was kept and its head.
    /// - Throws: ``AuditLogError``: `.missingStore` when there is no backup, `.corrupt` when it does
    ///   not verify, `.leaseHeld` naming the holder when a process holds the store, `.storage` when a
    ///   file operation fails (the store is then as it was, unless the final rename failed).
    public static func restore(from backup: String, to store: String, chainKey: AuditChainKey?) async throws(AuditLogError)
        -> RestoreReport
    {
        if let refusal = refusal(for: store) { throw AuditLogError(code: .storage, description: refusal) }
        let target = URL(fileURLWithPath: store).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: backup) else {
            throw AuditLogError(code: .missingStore, description: "no backup at \(backup)")
        }
        let verified = try await verifyCopy(backup, chainKey: chainKey, expecting: nil)
        let lock = try holdStore(target)
        defer { close(lock) }
        let temporary = temporaryName(beside: target, tag: "restore")
        let head: ChainHead
        do throws(AuditLogError) {
            try copyFile(backup, to: temporary)
            try FileSafety.sync(temporary)
            head = try AuditLog.headOfFile(temporary)
            FileSafety.removeUnusedLog(of: temporary)
            guard head == verified.head else {
                throw AuditLogError(
                    code: .corrupt, description: "the copy of the backup has head \(head), not the backup's \(verified.head)")
            }
        } catch {
            FileSafety.remove(temporary)
            throw described(error, writing: target)
        }
        var keptAs: String?
        var replacedHead: ChainHead?
        if FileManager.default.fileExists(atPath: target) {
            replacedHead = try? AuditLog.headOfFile(target)
            let aside = target + ".replaced-" + Self.stamp(Date())
            try FileSafety.move(target, to: aside)
            if FileManager.default.fileExists(atPath: target + "-wal") {
                try FileSafety.move(target + "-wal", to: aside + "-wal")
            }
            unlink(target + "-shm")
            keptAs = aside
        }
        unlink(target + "-wal")
        unlink(target + "-shm")
        try FileSafety.move(temporary, to: target)
        return RestoreReport(path: target, backup: backup, head: head, keptAs: keptAs, replacedHead: replacedHead)
    }

    /// Takes the run lease's kernel lock of `store` (held until the descriptor is closed) and checks
    /// that no other process has the store open.
    /// - Returns: The lock file's descriptor.
    /// - Throws: ``AuditLogError`` `.leaseHeld` naming the holder or the process.
    private static func holdStore(_ store: String) throws(AuditLogError) -> Int32 {
        let lock = open(store + ".lease", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else {
            throw AuditLogError(code: .storage, description: "cannot open \(store).lease: \(String(cString: strerror(errno)))")
        }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            close(lock)
            let holder = (try? AuditLog.runLeaseHolder(ofFile: store)) ?? "a running serve or run --once"
            throw AuditLogError(
                code: .leaseHeld,
                description: "\(store) is held by \(holder) (the run lease): stop it before restoring over the store")
        }
        if let process = processHoldingOpen(store) {
            close(lock)
            throw AuditLogError(
                code: .leaseHeld,
                description: "\(store) is open in process \(process): stop every process using the store before restoring over it"
            )
        }
        return lock
    }

    /// The id of another process that has the store open, if one does: every SQLite connection in WAL
    /// mode holds a shared lock on the "DMS" byte (offset 128) of the `-shm` file while it is open.
    private static func processHoldingOpen(_ store: String) -> Int32? {
        let descriptor = open(store + "-shm", O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var probe = flock()
        probe.l_type = Int16(F_WRLCK)
        probe.l_whence = Int16(SEEK_SET)
        probe.l_start = 128
        probe.l_len = 1
        guard fcntl(descriptor, F_GETLK, &probe) == 0, probe.l_type != Int16(F_UNLCK) else { return nil }
        return probe.l_pid
    }

    /// Copies the database `source` page by page into the new file `destination` (one snapshot).
    private static func copyFile(_ source: String, to destination: String) throws(AuditLogError) {
        do {
            let connection = try Connection(path: source, accepting: .migrated(creating: false), readOnly: true)
            let backup = try OnlineBackup(from: connection, to: destination)
            while try !backup.step(pages: -1) {}
            try backup.finish()
        } catch {
            throw AuditLogError(error)
        }
        FileSafety.removeUnusedLog(of: source)
    }

    /// `20261207T153000Z`.
    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}

extension AuditLog {
    /// The chain's head of the store file at `path`, read through a read-only connection of its own.
    static func headOfFile(_ path: String) throws(AuditLogError) -> ChainHead {
        do {
            let connection = try Connection(path: path, accepting: .migrated(creating: false), readOnly: true)
            return try StoreBackup.head(connection)
        } catch let error as SQLiteError {
            throw AuditLogError(error)
        } catch {
            throw AuditLogError(code: .storage, description: "\(error)")
        }
    }

    /// Who holds the run lease of the store file at `path` by its row (nil when nobody does).
    static func runLeaseHolder(ofFile path: String) throws -> String? {
        let connection = try Connection(path: path, accepting: .migrated(creating: false), readOnly: true)
        return try connection.queryOne(
            "SELECT holder, epoch FROM leases WHERE name = ? AND released_at IS NULL", [runLeaseName]
        ) { "\($0.column(0) as String) (epoch \($0.column(1) as Int64))" }
    }
}
