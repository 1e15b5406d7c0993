import ArgumentParser
import AuditLog
import Foundation
import Reprocessor
import ReprocessorService

/// `serve`: the long-running service with the operator HTTP API and metrics.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Drain the DLQ continuously and replay on an interval, with an operator HTTP API and metrics.",
        discussion: """
            Holds the run lease while it runs (a concurrent `run --once` exits 0 and does nothing). \
            SIGTERM or SIGINT stops receiving, finishes the work in flight, releases the lease and exits 0. \
            Every /v1 endpoint needs `Authorization: Bearer <token>` with tokens from OPERATOR_TOKENS \
            (name:role:token entries, role read or operate; name:token means operate) or --operator-tokens-file; \
            without any they answer 403. /healthz, /readyz and /metrics are open.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "HTTP address, HOST:PORT (port 0 picks a free one).") var http = "127.0.0.1:8080"
    @Option(name: .long, help: "Seconds between replay passes.") var interval = 30
    @Option(name: .long, help: "Long-poll wait of each receive, 1-20 seconds (also the longest a stop waits for a receive).")
    var wait = 20
    @Option(name: .long, help: "Receives in flight at once.") var concurrency = 4
    @Option(name: .long, help: "File of name:role:token lines (env OPERATOR_TOKENS_FILE; else OPERATOR_TOKENS).")
    var operatorTokensFile: String?
    @Option(
        name: .long,
        help:
            "Seconds between scheduled dry-run reconciles of the table with the index, while holding the lease (off by default).")
    var reconcileInterval: Int?
    @Option(name: .long, help: "Folder for scheduled, verified backups of a SQLite store (env DLQ_BACKUP_DIR; off by default).")
    var backupDir: String?
    @Option(name: .long, help: "Time between scheduled backups: 90s, 30m, 1h, 1d (env DLQ_BACKUP_EVERY; default 1h).")
    var backupEvery: String?
    @Option(name: .long, help: "Scheduled backups kept, the newest (env DLQ_BACKUP_KEEP; default 24).")
    var backupKeep: String?

    func validate() throws {
        guard (1...86_400).contains(interval) else { throw ValidationError("--interval must be between 1 and 86400 seconds") }
        guard (1...20).contains(wait) else { throw ValidationError("--wait must be between 1 and 20 seconds") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 64") }
        if let reconcileInterval, !(1...604_800).contains(reconcileInterval) {
            throw ValidationError("--reconcile-interval must be between 1 and 604800 seconds")
        }
    }

    func run() async throws {
        let backup: BackupSchedule?
        do {
            backup = try BackupSchedule.resolve(directory: backupDir, every: backupEvery, keep: backupKeep)
        } catch {
            throw UsageError(message: "\(error)")
        }
        let reprocessor = try await CommandContext.open(global, connection, creatingStore: true)
        if backup != nil, let refusal = StoreBackup.refusal(for: reprocessor.auditLog.path) {
            throw UsageError(message: "--backup-dir: \(refusal)")
        }
        let options: ServeOptions
        do {
            options = ServeOptions(
                address: try HTTPAddress(parsing: http), replayInterval: .seconds(interval),
                ingest: IngestOptions(waitTimeSeconds: wait, concurrency: concurrency),
                leaseTTL: reprocessor.settings.leaseTTL,
                tokens: try OperatorTokens.load(file: operatorTokensFile, environment: ProcessInfo.processInfo.environment),
                reconcileInterval: reconcileInterval.map { .seconds($0) }, backup: backup)
        } catch {
            throw UsageError(message: "\(error)")
        }
        try await ReprocessorServer(reprocessor: reprocessor, options: options).run()
    }
}
