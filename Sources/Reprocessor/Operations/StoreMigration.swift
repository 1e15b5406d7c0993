import AuditLog
import Foundation
import Logging

/// `migrate-store`: moves a SQLite audit store into a shared PostgreSQL store, verifying the
/// chain on both ends.
///
/// The source's chain must verify first (a broken trail is not carried over as if sound).
/// The copy keeps every id and hash, page by page, and resumes where an interrupted run
/// stopped; then the target's chain is verified with the same key and its head must be the
/// source's head. Stop every process writing to the source first: rows it adds meanwhile are
/// copied only if they come before the copy's position in their table.
public enum StoreMigration {
    /// What a migration did.
    public struct Report: Sendable {
        /// Rows copied, and rows the target held already (a resumed run), per table.
        public var copy: StoreCopyReport
        /// The chain's head, the same on both ends.
        public var head: ChainHead
        /// Actions verified on each end.
        public var actions: Int
    }

    /// Copies the store at `sourcePath` into the PostgreSQL store at `targetURL`.
    /// - Parameters:
    ///   - sourcePath: The SQLite file.
    ///   - targetURL: The `postgres://` URL (its schema is created or migrated at open).
    ///   - chainKey: The audit chain key, when the chain is keyed.
    ///   - environment: Where `PGPASSWORD` is read when the URL has no password.
    ///   - pageSize: Rows per page.
    ///   - force: Copy even while another process holds the source's run lease (a `serve` or
    ///     `run --once` writing it): the copy is then verified against the head the source had
    ///     when it started, and what the writer adds meanwhile is copied by a later run.
    ///   - progress: Called after each page with the table and the rows copied of it so far.
    /// - Returns: What was copied, and the shared head.
    /// - Throws: ``ReprocessorError`` `.invalidSetting` for a source that is not a SQLite file or a
    ///   target that is not a PostgreSQL URL; `.storeInUse` naming the holder when a writer holds
    ///   the source's run lease (unless `force`); `AuditLogError` `.corrupt` when either chain
    ///   does not verify or their heads differ, and the errors of either store.
    public static func run(
        from sourcePath: String, to targetURL: String, chainKey: AuditChainKey?,
        environment: [String: String] = ProcessInfo.processInfo.environment, pageSize: Int = 1000, force: Bool = false,
        progress: (@Sendable (String, Int) -> Void)? = nil
    ) async throws -> Report {
        guard !AuditLog.isSharedLocation(sourcePath) else {
            throw ReprocessorError(.invalidSetting, "--from must be a SQLite file, not a URL: \(sourcePath)")
        }
        guard AuditLog.isSharedLocation(targetURL) else {
            throw ReprocessorError(.invalidSetting, "--to must be a postgres:// URL")
        }
        guard FileManager.default.fileExists(atPath: sourcePath) else {
            throw ReprocessorError(.invalidSetting, "--from \(sourcePath): no such file")
        }
        let source = try AuditLog(path: sourcePath, chainKey: chainKey, creating: false)
        // The copy holds the source's run lease, so no `serve` or `run --once` writes it meanwhile
        // (they stand aside, as for any holder); one that holds it now is named, not raced.
        let lease = RunLease(auditLog: source, holder: "\(RunLease.makeHolderID())/migrate-store", ttl: .seconds(3600))
        if !force {
            guard try await lease.acquire() != nil else {
                let holder = try await lease.currentHolder() ?? "another process"
                throw ReprocessorError(
                    .storeInUse,
                    "\(sourcePath) is in use: \(holder) holds its run lease (a serve or run --once writing it); stop it first, or give --force to copy it anyway"
                )
            }
        }
        do {
            let report = try await copy(
                source, to: targetURL, chainKey: chainKey, environment: environment, pageSize: pageSize, progress: progress)
            await lease.release()
            return report
        } catch {
            await lease.release()
            throw error
        }
    }

    /// Verifies the source, copies it and verifies the copy against the source's head.
    private static func copy(
        _ source: AuditLog, to targetURL: String, chainKey: AuditChainKey?, environment: [String: String], pageSize: Int,
        progress: (@Sendable (String, Int) -> Void)?
    ) async throws -> Report {
        let before = try await source.verify()
        guard before.isIntact else {
            throw AuditLogError(
                code: .corrupt,
                description: "the source's chain does not verify (\(Self.why(before))); nothing copied: run verify on it")
        }
        // Opened without the key: the key's anchor is the source's, and it is copied with the rest.
        let target = try await AuditLog(location: targetURL, environment: environment)
        let copy = try await source.copy(to: target, pageSize: pageSize, progress: progress)
        let checker = try await AuditLog(location: targetURL, chainKey: chainKey, environment: environment)
        let after = try await checker.verify(expectedHead: before.head)
        guard after.isIntact, after.head == before.head else {
            throw AuditLogError(
                code: .corrupt,
                description:
                    "the copy's chain does not verify against the source's head \(before.head) (\(Self.why(after)), head \(after.head))"
            )
        }
        return Report(copy: copy, head: after.head, actions: after.actionsChecked)
    }

    private static func why(_ report: VerifyReport) -> String {
        [
            report.firstBrokenActionID.map { "action \($0): \(report.brokenReason ?? "hash mismatch")" },
            report.headReason, report.firstBrokenRow.map { "\($0): \(report.brokenRowReason ?? "")" },
        ].compactMap { $0 }.first ?? "integrity check: \(report.integrityCheck.joined(separator: "; "))"
    }
}
