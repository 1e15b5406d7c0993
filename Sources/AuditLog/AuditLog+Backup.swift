import Foundation
import SQLite

/// What ``StoreBackup/copy(to:)`` made: a verified copy of the store.
public struct BackupReport: Sendable, Hashable {
    /// The copy's path.
    public var path: String
    /// Its size in bytes.
    public var bytes: Int64
    /// The chain's head in the copy: the source's head at the copy's moment.
    public var head: ChainHead
    /// How long the copy took, verification included.
    public var duration: Duration
}

/// Takes consistent online copies of one SQLite store, on a thread of its own.
///
/// A copy reads one snapshot of the store through SQLite's online backup API, some pages a step:
/// the source connection holds a read transaction for the whole copy, so (WAL mode) writers are
/// never blocked and their commits never restart it; the copy is the store as of the moment it
/// began. It is written to a temporary name beside the destination (mode 0600), synced, verified
/// (the same checks as ``AuditLog/verify(expectedHead:)``, and its head must be the source's head at
/// the copy's moment), then renamed into place and its folder synced. A copy that fails for any
/// reason (a full disk, a verification that does not pass) leaves no file behind.
public actor StoreBackup {
    /// The store's file.
    public nonisolated let storePath: String
    /// Pages copied per step.
    public nonisolated let pagesPerStep: Int32
    private let chainKey: AuditChainKey?
    private nonisolated let executor: DedicatedThreadExecutor

    /// Runs this actor's work on its own thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Why `location` cannot be backed up by this program (nil when it can): a PostgreSQL store is
    /// backed up by PostgreSQL's own tools.
    public static func refusal(for location: String) -> String? {
        guard AuditLog.isSharedLocation(location) else { return nil }
        return
            "the audit store is PostgreSQL: back it up with pg_dump (or pg_basebackup) or the managed service's snapshots, not with backup"
    }

    /// Prepares backups of the store at `storePath`.
    /// - Parameters:
    ///   - storePath: The SQLite store.
    ///   - chainKey: The chain's key, to verify each copy (a keyed chain cannot be verified without it).
    ///   - pagesPerStep: Pages copied per step of the backup API (at least 1).
    public init(storePath: String, chainKey: AuditChainKey?, pagesPerStep: Int32 = 1024) {
        self.storePath = storePath
        self.chainKey = chainKey
        self.pagesPerStep = max(1, pagesPerStep)
        executor = DedicatedThreadExecutor(name: "StoreBackup \((storePath as NSString).lastPathComponent)")
    }

    deinit {
        executor.shutDown()
    }

    /// Copies the store to `destination`, a path that must not exist yet, and verifies the copy.
    /// - Returns: The copy's path, size, head and how long it took.
    /// - Throws: ``AuditLogError``: `.missingStore` when there is no store, `.storage` when the
    ///   destination exists, its disk is full or cannot be written (the partial copy is removed; the
    ///   store is untouched), `.corrupt` when the copy does not verify, `.keyRequired`/`.invalidKey`
    ///   when the chain's key is missing or another.
    public func copy(to destination: String) async throws(AuditLogError) -> BackupReport {
        if let refusal = Self.refusal(for: storePath) { throw AuditLogError(code: .storage, description: refusal) }
        let started = ContinuousClock.now
        let target = URL(fileURLWithPath: destination).standardizedFileURL.path
        guard !FileManager.default.fileExists(atPath: target) else {
            throw AuditLogError(code: .storage, description: "\(target) exists: a backup is written to a new name")
        }
        let temporary = Self.temporaryName(beside: target, tag: "backup")
        do {
            let head = try await snapshotCopy(to: temporary)
            try FileSafety.sync(temporary)
            _ = try await Self.verifyCopy(temporary, chainKey: chainKey, expecting: head)
            try FileSafety.move(temporary, to: target)
            return BackupReport(
                path: target, bytes: FileSafety.size(of: target), head: head, duration: ContinuousClock.now - started)
        } catch {
            FileSafety.remove(temporary)
            throw Self.described(error, writing: target)
        }
    }

    /// Copies one snapshot of the store into `temporary` through the backup API.
    /// - Returns: The chain's head in that snapshot.
    private func snapshotCopy(to temporary: String) async throws(AuditLogError) -> ChainHead {
        do {
            let source = try Connection(path: storePath, accepting: .migrated(creating: false), readOnly: true)
            try source.run("BEGIN DEFERRED")
            defer { _ = try? source.run("COMMIT") }
            // The first read fixes the snapshot every step copies from.
            let head = try Self.head(source)
            let backup = try OnlineBackup(from: source, to: temporary)
            while try !backup.step(pages: pagesPerStep) {
                await Task.yield()
                try Task.checkCancellation()
            }
            try backup.finish()
            return head
        } catch let error as AuditLogError {
            throw error
        } catch let error as SQLiteError {
            throw AuditLogError(error)
        } catch {
            throw AuditLogError(code: .storage, description: "backup stopped: \(error)")
        }
    }

    /// The chain's head as `connection` reads it.
    static func head(_ connection: Connection) throws -> ChainHead {
        try connection.queryOne("SELECT id, hash FROM actions ORDER BY id DESC LIMIT 1") {
            ChainHead(count: $0.column(0), hash: $0.column(1))
        } ?? ChainHead(count: 0, hash: ActionChain.hex(ActionChain.genesis))
    }

    /// Verifies the copy at `path` (read-only) as `verify` does, and that its head is `head`.
    /// - Throws: ``AuditLogError`` `.corrupt` naming what does not hold.
    static func verifyCopy(_ path: String, chainKey: AuditChainKey?, expecting head: ChainHead?) async throws(AuditLogError)
        -> VerifyReport
    {
        let report: VerifyReport
        do {
            let copy = try AuditLog(path: path, chainKey: chainKey, creating: false, readOnly: true)
            report = try await copy.verify(expectedHead: head)
        }
        // A read-only open leaves an empty -wal and a -shm beside the copy; nothing else has it open.
        FileSafety.removeUnusedLog(of: path)
        guard report.isIntact, head == nil || report.head == head else {
            let reason =
                report.brokenReason ?? report.headReason ?? report.rowProblems.first?.reason
                ?? (report.integrityCheck != ["ok"]
                    ? "integrity_check: \(report.integrityCheck.prefix(3).joined(separator: "; "))"
                    : "its head \(report.head) is not the source's \(head.map(String.init(describing:)) ?? "-")")
            throw AuditLogError(code: .corrupt, description: "the copy does not verify: \(reason)")
        }
        return report
    }

    /// A hidden temporary name beside `path`, unique to this process and call.
    static func temporaryName(beside path: String, tag: String) -> String {
        let url = URL(fileURLWithPath: path)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(tag)-\(ProcessInfo.processInfo.processIdentifier)-\(random)")
            .path
    }

    /// `error` as one line for an operator who asked for a copy at `target`: a full disk says so.
    static func described(_ error: AuditLogError, writing target: String) -> AuditLogError {
        let text = error.description
        let full = ["SQLITE_FULL", "SQLITE_IOERR_WRITE", "No space left", "File too large", "disk is full"]
        guard full.contains(where: { text.contains($0) }) else { return error }
        return AuditLogError(
            code: .storage,
            description:
                "no room to write \(target) (\(text.split(separator: "\n").first ?? "")): the partial copy was removed and the store is untouched; free space or choose another disk"
        )
    }
}

/// The file operations a backup and a restore make durable: sync, atomic rename, removal.
enum FileSafety {
    /// Flushes `path` to disk (`fsync`).
    static func sync(_ path: String) throws(AuditLogError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw failure("cannot open \(path) to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("cannot sync \(path)") }
    }

    /// Renames `source` to `target` (replacing it), then syncs the folder so the rename survives a crash.
    static func move(_ source: String, to target: String) throws(AuditLogError) {
        guard rename(source, target) == 0 else { throw failure("cannot rename \(source) to \(target)") }
        let folder = URL(fileURLWithPath: target).deletingLastPathComponent().path
        let descriptor = open(folder, O_RDONLY | O_CLOEXEC | O_DIRECTORY)
        guard descriptor >= 0 else { throw failure("cannot open \(folder) to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("cannot sync \(folder)") }
    }

    /// Removes `path` and the journal files SQLite may have left beside it (missing ones are fine).
    static func remove(_ path: String) {
        for file in [path, path + "-journal", path + "-wal", path + "-shm"] { unlink(file) }
    }

    /// Removes the `-wal` and `-shm` beside `path` when the `-wal` is empty (or missing): what a
    /// read-only connection leaves behind, holding nothing. For files no other process has open.
    static func removeUnusedLog(of path: String) {
        guard size(of: path + "-wal") == 0 else { return }
        unlink(path + "-wal")
        unlink(path + "-shm")
    }

    /// The size of `path` in bytes (0 when it cannot be read).
    static func size(of path: String) -> Int64 {
        var status = stat()
        return lstat(path, &status) == 0 ? Int64(status.st_size) : 0
    }

    private static func failure(_ what: String) -> AuditLogError {
        AuditLogError(code: .storage, description: "\(what): \(String(cString: strerror(errno)))")
    }
}

extension AuditLog {
    /// Backups of this store, verified with this instance's chain key.
    /// - Parameter pagesPerStep: Pages copied per step of the backup API.
    /// - Throws: ``AuditLogError`` `.storage` for a PostgreSQL store (``StoreBackup/refusal(for:)``).
    public func backups(pagesPerStep: Int32 = 1024) throws(AuditLogError) -> StoreBackup {
        if let refusal = StoreBackup.refusal(for: path) { throw AuditLogError(code: .storage, description: refusal) }
        return StoreBackup(storePath: path, chainKey: database.chainKey, pagesPerStep: pagesPerStep)
    }
}
