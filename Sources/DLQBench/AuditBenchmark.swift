import ArgumentParser
import AuditLog
import Foundation

/// Step 1: the audit store on its own — inserts, `history` and `list --status` on a big database;
/// then the same rows inserted raw (``RawAuditInsert``), the insert figure's baseline.
struct AuditBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract:
            "Insert changes into a new audit log in batches, then time history and list --status on it; then insert the same rows into bare tables (the baseline)."
    )

    @Option(help: "The audit database to create (removed first if it exists); the baseline's is <db>-raw, removed at the end.")
    var db: String
    @Option(help: "Changes to insert.") var changes = 1_000_000
    @Option(help: "Changes per AuditLog.ingest call (one transaction).") var batch = 1000
    @Option(help: "Changes per document, on average.") var changesPerDocument = 10
    @Option(help: "history and list calls to time.") var samples = 1000

    func validate() throws {
        guard changes >= 10, batch >= 10, changesPerDocument >= 1, samples >= 1 else {
            throw ValidationError("--changes and --batch must be at least 10, the others at least 1")
        }
    }

    func run() async throws {
        let rawDB = db + "-raw"
        for path in [db, rawDB] {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let documents = max(1, changes / changesPerDocument)
        var report = StepReport(step: "audit")
        report.set("changes", changes)
        report.set("documents", documents)
        var insertRate = 0.0
        do {
            let auditLog = try AuditLog(path: db)

            let inserting = try await timeInserts(documents: documents, by: "ingest") { messages in
                try await auditLog.ingest(messages, at: Date()).reduce(0) { $0 + $1.storedChangeIDs.count }
            }
            insertRate = Double(changes) / Latencies.seconds(inserting)
            report.set("insertChangesPerSecond", insertRate)

            var generator = SplitMix64(seed: 42)
            var history = Latencies()
            for _ in 0..<samples {
                let document = String(Int.random(in: 0..<documents, using: &generator))
                let found = try await history.time { try await auditLog.history(documentID: document) }
                guard !found.changes.isEmpty, found.actions.count >= found.changes.count else {
                    throw BenchError("history of document \(document) is empty")
                }
            }
            report.set("historyP50Ms", history.percentile(0.5))
            report.set("historyP99Ms", history.percentile(0.99))

            // Consecutive pages of `list --status filtered` (the CLI's default page of 50), from the start.
            var list = Latencies()
            var cursor: String?
            for _ in 0..<samples {
                let page = try await list.time {
                    try await auditLog.listChanges(ChangeFilter(statuses: [.filtered]), after: cursor, limit: 50)
                }
                guard !page.rows.isEmpty else { throw BenchError("list --status filtered returned an empty page") }
                cursor = page.next
            }
            report.set("listPageP99Ms", list.percentile(0.99))
        }
        // The audit log is closed here (its last reference is gone), so the WAL is checkpointed into the file.
        report.set("databaseBytes", Self.bytesOnDisk([db, db + "-wal", db + "-shm"]))

        // The baseline: the same messages, in groups of the same size, inserted raw.
        do {
            let raw = try RawAuditInsert(path: rawDB)
            let inserting = try await timeInserts(documents: documents, by: "the raw insert") { messages in
                try raw.insert(messages, at: Date())
            }
            let rawRate = Double(changes) / Latencies.seconds(inserting)
            report.set("rawInsertChangesPerSecond", rawRate)
            report.set("insertRatio", insertRate / rawRate)
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: rawDB + suffix) }
        try report.print()
    }

    /// Inserts the step's messages, `batch` changes a call, with `insert` (which returns how many
    /// changes it stored), and times the calls alone (not making the messages).
    /// - Throws: ``BenchError`` naming `inserter` when a call stores fewer changes than it was given.
    func timeInserts(
        documents: Int, by inserter: String, _ insert: ([NewMessage]) async throws -> Int
    ) async throws -> Duration {
        var inserting = Duration.zero
        var inserted = 0
        while inserted < changes {
            let count = min(batch, changes - inserted)
            let messages = BenchData.auditMessages(first: inserted, count: count, documents: documents, at: Date())
            let start = ContinuousClock.now
            let stored = try await insert(messages)
            inserting += ContinuousClock.now - start
            guard stored == count else { throw BenchError("\(inserter) stored \(stored) of \(count) changes") }
            inserted += count
        }
        return inserting
    }

    /// Disk space of the files that exist (allocated blocks, not apparent size).
    static func bytesOnDisk(_ paths: [String]) -> Int {
        paths.reduce(0) { total, path in
            var info = stat()
            guard stat(path, &info) == 0 else { return total }
            return total + Int(info.st_blocks) * 512
        }
    }
}
