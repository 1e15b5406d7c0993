import ArgumentParser
import AuditLog
import Foundation

/// The audit store on PostgreSQL: changes ingested by one or more workers at once, each its own
/// `AuditLog` (its own connection), as a fleet's processes ingest. Appends to the action chain
/// are serialised on the store's `chain_head` row, so this measures what that costs.
struct PostgresAuditBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-postgres",
        abstract: "Insert changes into a new PostgreSQL audit store, from one or more workers at once.")

    @Option(help: "The empty PostgreSQL database (postgres://…).") var url: String
    @Option(help: "Changes to insert, shared among the workers.") var changes = 100_000
    @Option(help: "Changes per AuditLog.ingest call (one transaction).") var batch = 1000
    @Option(help: "Changes per document, on average.") var changesPerDocument = 10
    @Option(help: "Workers ingesting at once, each with its own connection.") var workers = 1

    func validate() throws {
        guard changes >= 10, batch >= 10, changesPerDocument >= 1, (1...32).contains(workers) else {
            throw ValidationError("--changes and --batch must be at least 10, --workers 1 to 32")
        }
    }

    func run() async throws {
        let documents = max(1, changes / changesPerDocument)
        var logs: [AuditLog] = []
        for _ in 0..<workers { logs.append(try await AuditLog(location: url)) }
        // Worker k ingests batches k, k + workers, k + 2 × workers…
        let (total, perCall) = (changes, batch)
        let batches = stride(from: 0, to: total, by: perCall).map { ($0, min(perCall, total - $0)) }
        let workerLogs = logs
        var before: [StoreCounters] = []
        for log in logs { before.append(await log.storeCounters()) }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (worker, log) in workerLogs.enumerated() {
                group.addTask {
                    for index in stride(from: worker, to: batches.count, by: workerLogs.count) {
                        let (first, count) = batches[index]
                        let messages = BenchData.auditMessages(first: first, count: count, documents: documents, at: Date())
                        let outcomes = try await log.ingest(messages, at: Date())
                        let stored = outcomes.reduce(0) { $0 + $1.storedChangeIDs.count }
                        guard stored == count else { throw BenchError("ingest stored \(stored) of \(count) changes") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = Latencies.seconds(ContinuousClock.now - start)
        var spent: [StoreCounters] = []
        for (worker, log) in logs.enumerated() { spent.append(await log.storeCounters().since(before[worker])) }
        let verify = try await logs[0].verify()
        guard verify.isIntact else { throw BenchError("the chain does not verify after the inserts: \(verify)") }
        var report = StepReport(step: "audit-postgres")
        report.set("changes", changes)
        report.set("workers", workers)
        report.set("batch", batch)
        report.set("insertChangesPerSecond", Double(changes) / seconds)
        // Where each worker's time went: statements (the server and the network), encoding the
        // rows, the write lock (its round trip and any wait for another worker's commit).
        for (worker, counters) in spent.enumerated() {
            report.set("worker\(worker)RoundTrips", counters.roundTrips)
            report.set("worker\(worker)LockSeconds", Latencies.seconds(counters.chainLockWaiting))
            report.setStoreTimes("worker\(worker)", counters)
        }
        try report.print()
    }
}
