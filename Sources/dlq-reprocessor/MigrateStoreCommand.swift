import ArgumentParser
import AuditLog
import Foundation
import Logging
import Reprocessor

/// `migrate-store`: copies a SQLite audit store into a shared PostgreSQL store.
struct MigrateStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-store",
        abstract: "Copy a SQLite audit store into a PostgreSQL store, resumably, verifying the chain on both ends.",
        discussion: """
            It holds the SQLite store's run lease while it copies, so no serve or run --once writes it meanwhile, \
            and refuses (exit 1, naming the holder) while one holds it, unless --force. The source's chain must verify; every row keeps its \
            id and every action its hash, so the PostgreSQL store holds the same chain, verified with the same key \
            against the source's head. Run it again after an interruption: it continues where it stopped. The \
            PostgreSQL password comes from the URL, else AUDIT_DB_SECRET_ARN, else PGPASSWORD.
            """)

    @Option(name: .long, help: "The SQLite store to copy.") var from: String
    @Option(name: .long, help: "The PostgreSQL store: postgres://user@host:port/database?sslmode=…") var to: String
    @Option(name: .long, help: "Rows per page (\(OperatorInput.migrationPage.help)).") var pageSize: Int?
    @Flag(
        name: .long,
        help: "Copy even while a serve or run --once holds the source's run lease (verified against the head at the start)."
    ) var force = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        _ = try usage { () throws(InputError) in try OperatorInput.migrationPage.resolve(pageSize, field: "--page-size") }
        guard global.db == nil else { throw ValidationError("migrate-store copies --from into --to; --db does not apply") }
    }

    func run() async throws {
        CommandContext.bootstrapLogging(global)
        let logger = Logger(label: "dlq-reprocessor")
        let settings = try ReprocessorSettings.resolve(
            .init(auditDatabasePath: to, auditKeyFile: global.auditKeyFile, auditKeySecretARN: global.auditKeySecretArn))
        let key = try await Reprocessor.loadAuditKey(settings: settings, logger: logger)
        var environment = ProcessInfo.processInfo.environment
        if let password = try await Reprocessor.loadDatabasePassword(settings: settings, logger: logger) {
            environment["PGPASSWORD"] = password
        }
        let report = try await StoreMigration.run(
            from: from, to: to, chainKey: key, environment: environment,
            pageSize: try OperatorInput.migrationPage.resolve(pageSize, field: "--page-size"), force: force
        ) { table, copied in
            if copied % 10_000 == 0 { FileHandle.standardError.write(Data("\(table): \(copied) rows copied\n".utf8)) }
        }
        let tables = report.copy.copied.keys.sorted()
        for table in tables {
            let there = report.copy.alreadyThere[table] ?? 0
            print("\(table): \(report.copy.copied[table] ?? 0) copied" + (there > 0 ? ", \(there) already there" : ""))
        }
        print("ok: \(report.actions) actions verified on both ends; head \(report.head)")
    }
}
