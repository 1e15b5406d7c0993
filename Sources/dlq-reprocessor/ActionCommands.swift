import ArgumentParser
import AuditLog
import Foundation
import Reprocessor
import StreamModel

/// Options shared by retry, skip, rollback and resync.
struct ChangeActionOptions: ParsableArguments {
    @Argument(help: "Change ids (or choose by filter).") var ids: [Int64] = []
    @OptionGroup var filter: ChangeFilterOptions
    @Option(name: .long, help: "Why (recorded; required for skip and rollback).") var reason: String?
    @Option(name: .long, help: "Who (recorded; default: $DLQ_ACTOR, else the login name of the user id).") var actor: String?
    @Flag(name: .long, help: "Report what would happen; change nothing.") var dryRun = false
    @Option(name: .long, help: "At most N changes per second (\(OperatorInput.rateHelp)).") var rate: Double?
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    /// The request these options describe (the actor is resolved in `run`).
    func request(actor: String, force: Bool) throws -> OperatorRequest {
        OperatorRequest(
            ids: ids, filter: filter.isEmpty ? nil : try filter.filter(now: Date()), actor: actor, reason: reason,
            dryRun: dryRun, force: force, ratePerSecond: rate)
    }
}

/// Runs one operator command and prints its results.
func performChangeAction(
    _ command: OperatorActions.Command, options: ChangeActionOptions, global: GlobalOptions, connection: ConnectionOptions,
    force: Bool = false
) async throws {
    let actor = try operatorActor(options.actor)
    let request = try options.request(actor: actor, force: force)
    try checkRequest { () throws(RequestError) in try request.validate(for: command) }
    let reprocessor = try await CommandContext.open(global, connection)
    let operations = try await Operations.open(reprocessor, writingToSearch: command.writesToSearch)
    let collector = ResultCollector()
    let progress = ProgressLine()
    let leftOut = try await operations.perform(command, request) { result in
        await collector.add(result)
        progress.show(command.rawValue, done: await collector.count)
    }
    progress.finish()
    let results = await collector.results
    if options.json {
        Output.json(AuditJSON.results(results, leftOut: leftOut, command: command))
    } else {
        printResults(results, command: command, dryRun: options.dryRun)
        if let summary = leftOut.summary(for: command) { print(summary) }
    }
    if results.contains(where: \.isFailure) { throw ExitStatus.failure.exitCode }
}

/// Prints a command's results as an aligned table and a line counting them by outcome, or one
/// line saying that nothing matched.
func printResults(_ results: [OperationResult], command: OperatorActions.Command, dryRun: Bool) {
    let done: String =
        switch command {
        case .retry: "retried"
        case .skip: "skipped"
        case .rollback: "rolled back"
        case .resync: "resynced"
        }
    guard !results.isEmpty else {
        print(dryRun ? "dry run: no change matches; nothing would be \(done)" : "no change matches; nothing \(done)")
        return
    }
    Output.table(
        ["ID", "OUTCOME", "STATUS", "MESSAGE"],
        results.map { [String($0.id), $0.outcome.rawValue, $0.status?.rawValue ?? "-", $0.message] })
    var counts: [ChangeOutcome: Int] = [:]
    for result in results { counts[result.outcome, default: 0] += 1 }
    let outcomes = ChangeOutcome.allCases.compactMap { outcome in counts[outcome].map { "\($0) \(outcome.rawValue)" } }
    let total = "\(results.count) \(results.count == 1 ? "change" : "changes")"
    print(
        dryRun
            ? "dry run: \(total) (\(outcomes.joined(separator: ", "))); nothing changed"
            : "\(total): \(outcomes.joined(separator: ", "))")
}

/// Gathers results as they come.
actor ResultCollector {
    private(set) var results: [OperationResult] = []
    var count: Int { results.count }

    func add(_ result: OperationResult) {
        results.append(result)
    }
}

/// `retry`: replay now.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Replay changes now (one, a list, or a filter).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var options: ChangeActionOptions

    func run() async throws {
        try await performChangeAction(.retry, options: options, global: global, connection: connection)
    }
}

/// `skip`: mark as deliberately not applied.
struct SkipCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skip", abstract: "Mark changes as deliberately not applied (needs --reason).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var options: ChangeActionOptions

    func run() async throws {
        try await performChangeAction(.skip, options: options, global: global, connection: connection)
    }
}

/// `rollback`: restore the old image.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Restore the old image in OpenSearch (needs --reason; refuses when the document moved on, unless --force).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var options: ChangeActionOptions
    @Flag(name: .long, help: "Roll back even when the live document no longer reflects the change.") var force = false

    func run() async throws {
        try await performChangeAction(.rollback, options: options, global: global, connection: connection, force: force)
    }
}

/// `resync`: make the document match the table.
struct ResyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resync", abstract: "Make each change's document match the table's current item.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var options: ChangeActionOptions

    func run() async throws {
        try await performChangeAction(.resync, options: options, global: global, connection: connection)
    }
}

/// `skip-batch ID… --reason R`: an operator gives up on failed batches (pending or expired).
struct SkipBatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skip-batch",
        abstract: "Mark failed batches as deliberately not read or repaired (pending or expired ones), with a reason.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Batch ids (see `batches`).") var ids: [Int64]
    @Option(name: .long, help: "Why (recorded; required).") var reason: String
    @Option(name: .long, help: "Who (recorded; default: $DLQ_ACTOR, else the login name of the user id).") var actor: String?
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func run() async throws {
        let request = BatchRequest(ids: ids, actor: try operatorActor(actor), reason: reason)
        try checkRequest { () throws(RequestError) in try request.validate() }
        let operations = try await Operations.open(try await CommandContext.open(global), writingToSearch: false)
        var skipped: [JSONValue] = []
        try await operations.skipBatches(request) { batch in
            skipped.append(AuditJSON.batch(batch))
            if !json { print("batch \(batch.id): skipped") }
        }
        if json { Output.json(.object(["batches": .array(skipped)])) }
    }
}

/// `reopen-batch ID… --reason R`: an operator reopens batches that were expired wrongly.
struct ReopenBatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reopen-batch",
        abstract: "Reopen expired batches, so that their records are read from the stream again, with a reason.",
        discussion:
            "For a batch expired wrongly (before this version, a wrong stream endpoint, region or account expired "
            + "batches on their first try). The batch is pending again, due at once; the stream decides: read, or "
            + "expired again only when it shows the records trimmed.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Batch ids (see `batches --status expired`).") var ids: [Int64]
    @Option(name: .long, help: "Why (recorded; required).") var reason: String
    @Option(name: .long, help: "Who (recorded; default: $DLQ_ACTOR, else the login name of the user id).") var actor: String?
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func run() async throws {
        let request = BatchRequest(ids: ids, actor: try operatorActor(actor), reason: reason)
        try checkRequest { () throws(RequestError) in try request.validate() }
        let operations = try await Operations.open(try await CommandContext.open(global), writingToSearch: false)
        var reopened: [JSONValue] = []
        try await operations.reopenBatches(request) { batch in
            reopened.append(AuditJSON.batch(batch))
            if !json { print("batch \(batch.id): reopened (pending; read by the next pass)") }
        }
        if json { Output.json(.object(["batches": .array(reopened)])) }
    }
}
