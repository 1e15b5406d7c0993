import ArgumentParser
import AuditLog
import Foundation
import Reprocessor
import StreamModel

/// Options of a DLQ drain.
struct DrainOptions: ParsableArguments {
    @Option(name: .long, help: "Stop after this many messages (default: until the queue is empty).")
    var maxMessages: Int?

    @Option(name: .long, help: "Long-poll wait of each receive, seconds (\(OperatorInput.drainWait.help)).")
    var wait: Int?

    @Option(name: .long, help: "Receives in flight at once (\(OperatorInput.receiveConcurrency.help)).")
    var concurrency: Int?

    func validate() throws {
        if let maxMessages, maxMessages < 1 { throw ValidationError("--max-messages must be at least 1") }
        _ = try ingestOptions
    }

    /// The drain these options ask for, each bound and default the input layer's.
    var ingestOptions: IngestOptions {
        get throws {
            try usage { () throws(InputError) in
                IngestOptions(
                    maxMessages: maxMessages, waitTimeSeconds: try OperatorInput.drainWait.resolve(wait, field: "--wait"),
                    concurrency: try OperatorInput.receiveConcurrency.resolve(concurrency, field: "--concurrency"))
            }
        }
    }
}

/// The JSON of an ingest summary.
func summaryJSON(_ summary: IngestSummary) -> JSONValue {
    .object([
        "messagesReceived": .number(String(summary.messagesReceived)),
        "messagesStored": .number(String(summary.messagesStored)),
        "duplicateMessages": .number(String(summary.duplicateMessages)),
        "changesStored": .number(String(summary.changesStored)),
        "duplicateChanges": .number(String(summary.duplicateChanges)),
        "quarantined": .number(String(summary.quarantined)),
        "batchesStored": .number(String(summary.batchesStored)),
        "duplicateBatches": .number(String(summary.duplicateBatches)),
        "batchesRead": .number(String(summary.batchesRead)),
        "batchesDelayed": .number(String(summary.batchesDelayed)),
        "expired": .number(String(summary.expired)),
        "filtered": .number(String(summary.filtered)),
        "deleteFailures": .number(String(summary.deleteFailures)),
    ])
}

/// What a pass did with failed batches, in words.
func batchLine(_ summary: IngestSummary) -> String {
    "batches: \(summary.batchesStored) stored (\(summary.duplicateBatches) already known), \(summary.batchesRead) read, "
        + "\(summary.batchesDelayed) put off for a later pass, \(summary.expired) expired"
}

/// `ingest`: drain the DLQ into the audit log.
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Drain the DLQ into the audit log (nothing is replayed).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var drain: DrainOptions
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, connection, creatingStore: true)
        let ingestor = try await reprocessor.makeIngestor(options: try drain.ingestOptions)
        let progress = ProgressLine()
        var summary = try await ingestor.drain { progress.show("ingest", done: $0.messagesReceived) }
        summary.add(try await ingestor.readPendingBatches())
        progress.finish()
        if json {
            Output.json(summaryJSON(summary))
        } else {
            print(
                "received \(summary.messagesReceived) messages: \(summary.messagesStored) stored, "
                    + "\(summary.duplicateMessages) already known; \(summary.changesStored) changes stored "
                    + "(\(summary.duplicateChanges) duplicates, \(summary.filtered) filtered), \(summary.quarantined) quarantined; "
                    + batchLine(summary))
        }
        if summary.quarantined > 0 || summary.expired > 0 { throw ExitStatus.needsOperator.exitCode }
    }
}

/// `run --once`: the cron job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Ingest, then replay everything due, holding a lease so that two runs never overlap.",
        discussion:
            "Exits 3 when parked or expired changes or expired batches wait for an operator, or this run quarantined messages; "
            + "exits 1 naming the new holder when another process takes the run lease over.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var drain: DrainOptions
    @Flag(name: .long, help: "Run once and exit (the cron form).") var once = false
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func validate() throws {
        guard once else { throw ValidationError("pass --once (the long-running form is `serve`)") }
    }

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, connection, creatingStore: true)
        let progress = ProgressLine()
        let result = try await CronRun(reprocessor: reprocessor).run(
            options: try drain.ingestOptions,
            ingestProgress: { progress.show("ingest", done: $0.messagesReceived) },
            replayProgress: { progress.show("replay", done: $0.applied + $0.superseded + $0.failed + $0.parked + $0.conflict) })
        progress.finish()
        switch result {
        case .leaseHeld(let holder, let stats):
            if json {
                Output.json(.object(["skipped": .bool(true), "leaseHolder": .string(holder)]))
            } else {
                print("another run holds the lease (\(holder)); nothing done")
            }
            try exitForOperatorWork(stats: stats, quarantined: 0, settings: reprocessor.settings)
        case .ran(let ingest, let replay, let stats):
            if json {
                Output.json(
                    .object([
                        "ingest": summaryJSON(ingest), "replay": AuditJSON.replaySummary(replay), "stats": AuditJSON.stats(stats),
                    ]))
            } else {
                print(
                    "ingest: \(ingest.messagesReceived) messages, \(ingest.changesStored) new changes, "
                        + "\(ingest.quarantined) quarantined; \(batchLine(ingest))")
                print("replay: \(replay.sentence)")
            }
            if let reason = replay.pausedReason {
                Output.error("replay paused: \(reason); the changes not reached stay due, no attempt counted")
                throw ExitStatus.failure.exitCode
            }
            try exitForOperatorWork(stats: stats, quarantined: ingest.quarantined, settings: reprocessor.settings)
        }
    }

    /// Exits 3 with one line on stderr when the pass leaves work for an operator (``CronRun/operatorWork(stats:quarantined:batchWaitAlert:now:)``).
    private func exitForOperatorWork(stats: AuditStats, quarantined: Int, settings: ReprocessorSettings) throws {
        let work = CronRun.operatorWork(
            stats: stats, quarantined: quarantined, batchWaitAlert: settings.batchWaitAlert, now: Date())
        guard !work.isEmpty else { return }
        Output.error("waiting for an operator: " + work.joined(separator: "; "))
        throw ExitStatus.needsOperator.exitCode
    }
}
