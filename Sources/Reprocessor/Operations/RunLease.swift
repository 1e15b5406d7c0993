import AuditLog
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The run lease: one process at a time ingests and replays (docs/design.md, "The run lease").
///
/// Two parts. A kernel lock (`flock`) on `<database>.lease`, which the kernel releases when
/// its holder dies, so a `kill -9`'d run never blocks the next one. And the `leases` row in
/// the audit log, which names the holder for `stats` and the API and carries an epoch that
/// grows with every take-over: the ``LeaseFence`` a holder gets is checked by the audit log
/// inside every fenced write, so a holder that lost the lease cannot write.
///
/// The row can be taken without the lock only when its holder stopped renewing it for a
/// whole time to live (a stopped or hung process still holds the lock); the new holder then
/// takes the lock as soon as the old one lets go of it.
///
/// On a shared PostgreSQL store there is no file to lock: the lease is the row alone, taken
/// once its holder stopped renewing it for a time to live (a holder killed with -9 is
/// replaced after at most one time to live). There it elects the fleet's leader for the
/// singleton duties (reading batches from their streams, scheduled reconcile); documents are
/// claimed one by one instead (``WriteEngine/claiming(as:ttl:)``).
public final class RunLease: Sendable {
    /// What a renewal found.
    public enum Renewal: Sendable, Hashable {
        /// Still held; the row is renewed.
        case held(LeaseFence)
        /// Another holder took it over (or it was released); the kernel lock is let go.
        case lost(LeaseState?)
    }

    /// This process's holder id (see ``makeHolderID()``).
    public let holder: String
    /// How long the row counts as held without a renewal.
    public let ttl: Duration
    /// The lock file.
    public let lockPath: String
    let auditLog: AuditLog

    private struct State {
        /// The open lock file while its `flock` is held; -1 otherwise.
        var descriptor: Int32 = -1
        var fence: LeaseFence?
    }
    private let state = Mutex(State())

    /// Creates the run lease of `auditLog`'s database, not yet taken.
    /// - Parameters:
    ///   - auditLog: The audit log whose database the lease guards (the lock file, `<database>.lease`, sits beside it).
    ///   - holder: This process's holder id.
    ///   - ttl: How long the row counts as held without a renewal.
    public init(auditLog: AuditLog, holder: String, ttl: Duration) {
        self.auditLog = auditLog
        self.holder = holder
        self.ttl = ttl
        self.lockPath = auditLog.path + ".lease"
    }

    private var name: String { AuditLog.runLeaseName }

    deinit {
        state.withLock { state in
            if state.descriptor >= 0 { close(state.descriptor) }
        }
    }

    /// A holder id unique to this process start: `host:pid/` and a random run id, so two
    /// containers with the same host name and pid are still two holders.
    public static func makeHolderID() -> String {
        let info = ProcessInfo.processInfo
        let runID = (0..<8).map { _ in String(UInt8.random(in: 0...255), radix: 16) }
            .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        return "\(info.hostName):\(info.processIdentifier)/\(runID)"
    }

    /// The fence while this process holds the lease.
    public var fence: LeaseFence? { state.withLock(\.fence) }

    /// Takes the lease when it is free: the kernel lock is free (its holder is gone), or the
    /// row's holder stopped renewing it for a whole time to live. Taking it again while held
    /// renews it.
    /// - Returns: This holder's fence, or nil when another holder has the lease.
    /// - Throws: `AuditLogError` when the database fails.
    public func acquire() async throws -> LeaseFence? {
        if fence != nil {
            if case .held(let renewed) = try await renew() { return renewed }
        }
        let locked = lockFile()
        let fence = try await auditLog.takeLease(name: name, holder: holder, ttl: ttl, lockHeld: locked, now: Date())
        state.withLock { $0.fence = fence }
        return fence
    }

    /// Renews the row; takes the kernel lock when it has come free meanwhile.
    /// - Returns: ``Renewal/held(_:)``, or ``Renewal/lost(_:)`` (the lock is then let go).
    /// - Throws: `AuditLogError` when the database fails (the lease is then not known to be held).
    public func renew() async throws -> Renewal {
        guard let fence else { return .lost(try await auditLog.lease(name: name)) }
        let (renewed, current) = try await auditLog.renewLease(fence, now: Date())
        guard renewed else {
            letGo()
            return .lost(current)
        }
        _ = lockFile()
        return .held(fence)
    }

    /// Gives the lease up: the row is marked released and the kernel lock let go.
    public func release() async {
        if let fence {
            try? await auditLog.releaseLease(fence, now: Date())
        }
        letGo()
    }

    /// Who holds the lease by the row (nil when nobody does).
    /// - Throws: `AuditLogError`.
    public func currentHolder() async throws -> String? {
        guard let current = try await auditLog.lease(name: name), current.isHeld(at: Date()) else { return nil }
        return current.holder
    }

    /// Takes the kernel lock if this process does not have it; whether it has it now (never on
    /// a shared store, which has no file beside it).
    private func lockFile() -> Bool {
        guard !auditLog.isShared else { return false }
        return state.withLock { state in
            if state.descriptor >= 0 { return true }
            let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { return false }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                close(descriptor)
                return false
            }
            state.descriptor = descriptor
            return true
        }
    }

    /// Forgets the fence and lets go of the kernel lock.
    private func letGo() {
        state.withLock { state in
            state.fence = nil
            if state.descriptor >= 0 {
                close(state.descriptor)
                state.descriptor = -1
            }
        }
    }
}
