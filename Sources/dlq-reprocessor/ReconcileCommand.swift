import ArgumentParser
import AuditLog
import Foundation
import Reprocessor
import StreamModel

/// `reconcile`: compare the table with the index; repair on request.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare the table with the index (missing, stale, orphaned, differs); repair with --repair.",
        discussion: """
            Dry run by default: writes nothing to search and exits 3 when it finds drift, 0 when none. \
            With --repair --reason R each difference is repaired conditionally through the write engine's rules \
            (the table's current item written as a table copy, or the orphan deleted), each repair an audited \
            action of kind reconciled; it exits 3 when some drift is left unrepaired. \
            --repair --dry-run writes nothing and lists each repair a repair would make (document, kind, \
            the write or delete and its condition) as it is found, one line each (--json: one JSON object \
            a line, then the report), before the report.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Parallel Scan segments (\(OperatorInput.segments.help)).") var segments: Int?
    @Flag(name: .long, help: "Report only; write nothing (the default). With --repair: list each repair it would make.")
    var dryRun = false
    @Flag(name: .long, help: "Repair what is found (needs --reason unless --dry-run).") var repair = false
    @Option(name: .long, help: "Why (recorded on the run and every repair).") var reason: String?
    @Option(name: .long, help: "Who (recorded; default: $DLQ_ACTOR, else the login name of the user id).") var actor: String?
    @Option(name: .long, help: "At most N repairs per second (\(OperatorInput.rateHelp)).") var rate: Double?
    @Flag(name: .long, help: "Continue the last unfinished run of the same mode.") var resume = false
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    /// The request these options describe.
    func request(actor: String) -> ReconcileRequest {
        ReconcileRequest(
            segments: segments, repair: repair && !dryRun, actor: actor, reason: reason, ratePerSecond: rate, resume: resume)
    }

    func validate() throws {
        try checkRequest { () throws(RequestError) in try request(actor: "").validate() }
    }

    func run() async throws {
        let request = request(actor: try operatorActor(actor))
        // Reconcile writes (its runs and repairs are recorded): it may start a new store.
        let reprocessor = try await CommandContext.open(global, connection, creatingStore: true)
        let operations = try await Operations.open(reprocessor, writingToSearch: true)
        let line = ProgressLine()
        let estimate = await operations.reconcileEstimate()
        let report = try await operations.reconcile(
            request,
            progress: { run in
                let drift = run.found.values.reduce(0, +)
                line.show("reconcile, scanned", done: run.scanned, estimate: estimate, detail: "drift \(drift)")
            },
            planned: repair && dryRun ? Self.listing(json: json) : nil)
        line.finish()
        if json {
            Output.json(report.json)
        } else {
            print(
                "run \(report.run.id) (\(report.run.mode.rawValue)): scanned \(report.run.scanned), indexed \(report.run.indexed)"
            )
            Output.table(
                ["kind", "found", "samples"],
                DriftKind.allCases.map { kind in
                    [kind.rawValue, String(report.count(kind)), Output.clip(report.samples(kind).joined(separator: " "), 80)]
                })
            print("repaired \(report.run.repaired), conflicts \(report.run.conflicts), failed \(report.run.failed)")
        }
        if report.unrepaired > 0 { throw ExitStatus.needsOperator.exitCode }
    }

    /// Prints each repair a dry run would make, as it is found: `kind  document  index|delete
    /// condition  document written` (clipped), or one JSON object a line.
    static func listing(json: Bool) -> @Sendable (ReconcileFinding) -> Void {
        let printer = LinePrinter()
        return { finding in
            if json {
                printer.print(AuditJSON.plannedRepair(finding).serialized)
                return
            }
            let planned = AuditJSON.plannedRepair(finding)["repair"]
            let condition: String
            switch (planned?["condition"]?["ifSeqNo"], planned?["condition"]?["ifPrimaryTerm"]) {
            case (let seqNo?, let term?): condition = "if _seq_no \(seqNo.serialized) _primary_term \(term.serialized)"
            default: condition = planned?["condition"]?["createOnly"] == .bool(true) ? "if absent" : "-"
            }
            let operation = planned?["operation"]?.stringValue ?? "-"
            let written = operation == "index" ? Output.clip(planned?["document"]?.serialized, 100) : ""
            printer.print(
                "would repair \(finding.kind?.rawValue ?? "-") \(finding.documentID): \(operation) \(condition)"
                    + (written.isEmpty ? "" : " \(written)"))
        }
    }
}

/// `resolve-expired`: a repairing reconcile, then the expired batches it covered are resolved.
struct ResolveExpiredCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve-expired",
        abstract: "Run a repairing reconcile, then mark the batches that expired before it resolved.",
        discussion: """
            Batches whose records left the stream cannot be replayed. A repairing reconcile that starts after \
            they expired makes search match the table for every artist; when it leaves no drift unrepaired, \
            each such batch is marked resolved, with an action naming the run. Exits 3 when drift is left \
            (nothing resolved), 0 otherwise.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Parallel Scan segments (\(OperatorInput.segments.help)).") var segments: Int?
    @Option(name: .long, help: "Why (recorded on the run, every repair and every batch).") var reason: String
    @Option(name: .long, help: "Who (recorded; default: $DLQ_ACTOR, else the login name of the user id).") var actor: String?
    @Option(name: .long, help: "At most N repairs per second (\(OperatorInput.rateHelp)).") var rate: Double?
    @Flag(name: .long, help: "Continue the last unfinished repairing run.") var resume = false
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    /// The request these options describe.
    func request(actor: String) -> ReconcileRequest {
        ReconcileRequest(segments: segments, repair: true, actor: actor, reason: reason, ratePerSecond: rate, resume: resume)
    }

    func validate() throws {
        try checkRequest { () throws(RequestError) in try request(actor: "").validate() }
    }

    func run() async throws {
        let request = request(actor: try operatorActor(actor))
        let reprocessor = try await CommandContext.open(global, connection)
        let operations = try await Operations.open(reprocessor, writingToSearch: true)
        let (report, resolved) = try await operations.resolveExpired(request)
        if json {
            Output.json(AuditJSON.resolveExpired(report, resolvedBatches: resolved))
        } else {
            print(
                "reconcile run \(report.run.id): scanned \(report.run.scanned), indexed \(report.run.indexed), "
                    + "drift \(report.drift), repaired \(report.run.repaired)")
            print(
                report.unrepaired > 0
                    ? "\(report.unrepaired) differences left unrepaired: no batch resolved"
                    : "resolved \(resolved.count) expired batches: \(resolved.map(String.init).joined(separator: " "))")
        }
        if report.unrepaired > 0 { throw ExitStatus.needsOperator.exitCode }
    }
}
