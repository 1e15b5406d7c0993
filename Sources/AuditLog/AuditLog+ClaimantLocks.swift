import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// On a SQLite store every claiming process runs on the store's machine, so the kernel can say
/// which of them died: each holds, for its life, a lock on a file of its own beside the store
/// (`<store>.claimants/<holder, hex>`), which the kernel releases when the process dies, however
/// it dies. A claim whose holder's file is there and unlocked is free at once, not only when its
/// time to live is over: a `retry`, `reconcile --repair` or `run --once` killed mid-round leaves
/// nothing held. A holder with no file (a process that never took one, or whose file another
/// claimant cleared) counts as alive: its claims expire by their time to live, as before.
extension AuditLog {
    /// Lock files this process holds, by path: one per store it claims on, kept for its life.
    private static let heldClaimantLocks = Mutex<[String: Int32]>([:])

    /// The folder of the claimant locks of this store (nil on a shared store, whose claimants
    /// run on many machines: there claims end only by their time to live).
    nonisolated var claimantLockFolder: String? {
        isShared ? nil : path + ".claimants"
    }

    /// Takes, for the rest of this process's life, the kernel lock that says `holder` (this
    /// process's holder id, whose tasks claim as `holder#n`) is alive; and frees the claims of
    /// every process whose lock file it finds unlocked (it died), clearing their files. Nothing
    /// on a shared store; best effort (a file that cannot be made leaves this process's claims
    /// to their time to live).
    /// - Throws: ``AuditLogError`` `.storage` when a dead process's claims cannot be freed.
    public func holdClaimantLock(for holder: String) throws(AuditLogError) {
        guard let folder = claimantLockFolder else { return }
        let path = Self.claimantLockPath(holder, in: folder)
        let dead: [String] = Self.heldClaimantLocks.withLock { held in
            guard held[path] == nil else { return [] }
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let dead = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).compactMap { name in
                Self.clearIfDead(folder + "/" + name) ? Self.holder(ofLockFile: name) : nil
            }
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { return dead }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                close(descriptor)
                return dead
            }
            held[path] = descriptor
            return dead
        }
        guard !dead.isEmpty else { return }
        try statement { db in
            for process in dead { try Self.releaseTaskClaims(of: process, in: db) }
        }
    }

    /// Of the holders `holders` (claimants `process#n`), those whose process is known to have
    /// died: its lock file is there and nobody holds its lock (the file is cleared, so the
    /// caller frees all its claims). Always none on a shared store.
    nonisolated func deadClaimants(_ holders: some Sequence<String>) -> [String] {
        guard let folder = claimantLockFolder else { return [] }
        return holders.filter { holder in
            let path = Self.claimantLockPath(Self.process(of: holder), in: folder)
            guard Self.heldClaimantLocks.withLock({ $0[path] == nil }) else { return false }
            return Self.clearIfDead(path)
        }
    }

    /// The process a claimant is a task of: its id up to its last `#`.
    static func process(of holder: String) -> String {
        guard let mark = holder.lastIndex(of: "#") else { return holder }
        return String(holder[..<mark])
    }

    /// The lock file of process `holder` (its id in hexadecimal: holder ids hold `:` and `/`).
    private static func claimantLockPath(_ holder: String, in folder: String) -> String {
        folder + "/" + holder.utf8.map { String(format: "%02x", $0) }.joined()
    }

    /// The holder id a lock file's name spells in hexadecimal (nil for any other file).
    private static func holder(ofLockFile name: String) -> String? {
        let digits = Array(name.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Whether the lock file at `path` exists and nobody holds its lock; such a file is removed.
    private static func clearIfDead(_ path: String) -> Bool {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return false }
        unlink(path)
        return true
    }
}
