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
    @Option(name: .long, help: "Seconds between replay passes (\(OperatorInput.replayInterval.help)).") var interval: Int?
    @Option(
        name: .long,
        help:
            "Long-poll wait of each receive, seconds (\(OperatorInput.serveWait.help); also the longest a stop waits for a receive)."
    )
    var wait: Int?
    @Option(name: .long, help: "Receives in flight at once (\(OperatorInput.receiveConcurrency.help)).") var concurrency: Int?
    @Option(name: .long, help: "File of name:role:token lines (env OPERATOR_TOKENS_FILE; else OPERATOR_TOKENS).")
    var operatorTokensFile: String?
    @Option(
        name: .long,
        help:
            "Seconds between scheduled dry-run reconciles of the table with the index, while holding the lease (off by default).")
    var reconcileInterval: Int?
    @Option(name: .long, help: "Folder for scheduled, verified backups of a SQLite store (env DLQ_BACKUP_DIR; off by default).")
    var backupDir: String?
    @Option(
        name: .long,
        help:
            "Time between scheduled backups: 90s, 30m, 1h, 1d (env DLQ_BACKUP_EVERY; default \(BackupSchedule.defaultInterval.components.seconds / 3600)h)."
    )
    var backupEvery: String?
    @Option(name: .long, help: "Scheduled backups kept, the newest (env DLQ_BACKUP_KEEP; default \(BackupSchedule.defaultKeep)).")
    var backupKeep: String?

    func validate() throws {
        _ = try resolved
    }

    /// The interval, wait, concurrency and reconcile interval asked for, each bound and default the input layer's.
    var resolved: (interval: Int, wait: Int, concurrency: Int, reconcileInterval: Int?) {
        get throws {
            try usage { () throws(InputError) in
                (
                    try OperatorInput.replayInterval.resolve(interval, field: "--interval"),
                    try OperatorInput.serveWait.resolve(wait, field: "--wait"),
                    try OperatorInput.receiveConcurrency.resolve(concurrency, field: "--concurrency"),
                    try reconcileInterval.map { (seconds) throws(InputError) in
                        try OperatorInput.reconcileInterval(seconds, field: "--reconcile-interval")
                    }
                )
            }
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
        let asked = try resolved
        let options: ServeOptions
        do {
            options = ServeOptions(
                address: try HTTPAddress(parsing: http), replayInterval: .seconds(asked.interval),
                ingest: IngestOptions(waitTimeSeconds: asked.wait, concurrency: asked.concurrency),
                leaseTTL: reprocessor.settings.leaseTTL,
                tokens: try OperatorTokens.load(file: operatorTokensFile, environment: ProcessInfo.processInfo.environment),
                reconcileInterval: asked.reconcileInterval.map { .seconds($0) }, backup: backup)
        } catch {
            throw UsageError(message: "\(error)")
        }
        try await ReprocessorServer(reprocessor: reprocessor, options: options).run()
    }
}
