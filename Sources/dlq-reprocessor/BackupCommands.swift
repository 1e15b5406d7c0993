import ArgumentParser
import AuditLog
import Foundation
import Logging
import Reprocessor
import StreamModel

/// The store's path and chain key, without opening the store (backup, restore and salvage open
/// their files themselves).
private func storeAndKey(_ global: GlobalOptions) async throws -> (path: String, key: AuditChainKey?) {
    CommandContext.bootstrapLogging(global)
    let settings = try ReprocessorSettings.resolve(
        .init(auditDatabasePath: global.db, auditKeyFile: global.auditKeyFile, auditKeySecretARN: global.auditKeySecretArn))
    if let refusal = StoreBackup.refusal(for: settings.auditDatabasePath) { throw UsageError(message: refusal) }
    let key = try await Reprocessor.loadAuditKey(settings: settings, logger: Logger(label: "dlq-reprocessor"))
    return (settings.auditDatabasePath, key)
}

/// `backup --to PATH`: a consistent online copy of the SQLite store, verified before it reports success.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite audit store while it is in use, verify the copy, and say its head.",
        discussion: """
            The copy is one snapshot of the store, taken through SQLite's online backup API without blocking \
            serve or run --once; it is written to a temporary name beside PATH, synced, verified (as verify does, \
            and its head must be the store's head at the copy's moment), then renamed to PATH (mode 0600). \
            PATH must not exist. A PostgreSQL store is refused: use pg_dump or the managed service's snapshots.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Where the copy goes (a new file).") var to: String
    @Flag(name: .long, help: "Print one JSON document: path, size, head, duration.") var json = false

    func run() async throws {
        let store = try await storeAndKey(global)
        let report = try await StoreBackup(storePath: store.path, chainKey: store.key).copy(to: to)
        let seconds = Double(report.duration.components.seconds) + Double(report.duration.components.attoseconds) / 1e18
        if json {
            Output.json(
                .object([
                    "path": .string(report.path), "bytes": .number(String(report.bytes)),
                    "head": .object(["count": .number(String(report.head.count)), "hash": .string(report.head.hash)]),
                    "durationSeconds": .number(String(format: "%.3f", seconds)),
                ]))
        } else {
            print(
                "ok: backup \(report.path): \(report.bytes) bytes, head \(report.head), verified; took \(String(format: "%.1f", seconds)) s"
            )
        }
    }
}

/// `restore --from BACKUP`: replaces the store with a verified backup while no process holds it.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the SQLite audit store with a backup, after verifying it, while nothing uses the store.",
        discussion: """
            Refused while serve or run --once holds the store (the run lease) or any process has it open. The \
            replaced store (and its -wal) is kept beside it as <store>.replaced-<time>. What a restore loses: \
            everything recorded after the backup's moment — changes stored since had their DLQ messages deleted, \
            so their rows live only in the replaced store, a later backup or a replica. Run reconcile afterwards \
            to bring search back in step with the table.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The backup to restore (made by backup or a scheduled backup).") var from: String
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func run() async throws {
        let store = try await storeAndKey(global)
        let report = try await StoreBackup.restore(from: from, to: store.path, chainKey: store.key)
        let lost: String? = report.replacedHead.flatMap { replaced in
            replaced.count > report.head.count ? "actions \(report.head.count + 1)–\(replaced.count)" : nil
        }
        if json {
            Output.json(
                .object([
                    "path": .string(report.path), "backup": .string(report.backup),
                    "head": .object(["count": .number(String(report.head.count)), "hash": .string(report.head.hash)]),
                    "keptAs": report.keptAs.map(JSONValue.string) ?? .null,
                    "replacedHead": report.replacedHead.map { .string($0.description) } ?? .null,
                    "lostActions": lost.map(JSONValue.string) ?? .null,
                ]))
            return
        }
        print("ok: restored \(report.path) from \(report.backup); head \(report.head)")
        if let keptAs = report.keptAs {
            let replaced = report.replacedHead.map { "its head was \($0)" } ?? "it could not be read"
            print("the replaced store is kept as \(keptAs) (\(replaced))")
        }
        if let lost {
            print(
                "not in the restored store: \(lost), recorded after the backup; their DLQ messages were deleted, so they live only in the replaced store, a later backup or a replica"
            )
        }
        print("next: run reconcile (then reconcile --repair --reason …) to bring search back in step with the table")
    }
}

/// `salvage --from DAMAGED --to NEW`: reads what still reads from a damaged store into a new one.
struct SalvageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "salvage",
        abstract: "Read every row that still reads from a damaged SQLite store into a new store, and say what was lost.",
        discussion: """
            Table by table, in id ranges, halving a range that fails until the rows around the damage are read. \
            Rows keep their ids and actions their hashes; a salvaged action records what was read and lost. \
            verify on the new store then names every stretch of the chain that is missing. The damaged file is \
            only read. Exit 0 when every row was read, 3 when some could not be (an operator must look).
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The damaged store.") var from: String
    @Option(name: .long, help: "The new store (a new file).") var to: String
    @Option(name: .long, help: "Who salvages (recorded; default: $DLQ_ACTOR, else the login name of the user id).") var actor:
        String?
    @Option(name: .long, help: "Why (recorded on the salvaged action).") var reason: String?
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func validate() throws {
        guard global.db == nil else { throw ValidationError("salvage reads --from and writes --to; --db does not apply") }
    }

    func run() async throws {
        let actor = try operatorActor(actor)
        var options = global
        options.db = from
        let store = try await storeAndKey(options)
        let report = try await StoreBackup.salvage(
            from: store.path, to: to, chainKey: store.key, actor: actor, reason: reason)
        if json {
            Output.json(
                .object([
                    "source": .string(report.source), "path": .string(report.path), "complete": .bool(report.isComplete),
                    "head": .object(["count": .number(String(report.head.count)), "hash": .string(report.head.hash)]),
                    "tables": .array(
                        report.tables.map { table in
                            .object([
                                "table": .string(table.name), "rows": .number(String(table.rows)),
                                "unreadable": .array(table.unreadable.map { .string(SalvageReport.describe($0)) }),
                                "lost": table.lost.map(JSONValue.string) ?? .null,
                            ])
                        }),
                ]))
        } else {
            Output.table(
                ["TABLE", "ROWS", "UNREADABLE IDS"],
                report.tables.map { table in
                    [
                        table.name, String(table.rows),
                        table.lost
                            ?? (table.unreadable.isEmpty
                                ? "-" : table.unreadable.map(SalvageReport.describe).joined(separator: ", ")),
                    ]
                })
            print(
                report.isComplete
                    ? "ok: every row read into \(report.path); head \(report.head)"
                    : "salvaged what reads into \(report.path); head \(report.head); run verify on it to see every gap in the chain"
            )
        }
        if !report.isComplete { throw ExitStatus.needsOperator.exitCode }
    }
}
