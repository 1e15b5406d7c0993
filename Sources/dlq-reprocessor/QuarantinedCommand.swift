import ArgumentParser
import AuditLog
import Reprocessor

/// `quarantined`: messages nobody could read, with their reasons and raw bodies; with `--delete ID`
/// or `--reingest ID`, the action on one of them (``QuarantineActions``).
struct QuarantinedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantined",
        abstract:
            "Quarantined messages: reason and raw body as received; delete one (--delete ID --reason) or re-ingest it (--reingest ID).",
        discussion: """
            Without an action, lists the messages still waiting in the quarantine. --delete takes one out of the
            quarantine (it stays in the audit log; a reason is required); --reingest reads its kept body again
            through the ingest path and stores what it carries, once the cause is fixed. Both are recorded on the
            message as an action (deleted, reingested); --dry-run previews either and changes nothing.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Rows per page (\(AuditQueries.quarantinedPage.help)).") var limit: Int?
    @Option(name: .long, help: "Continue after this cursor (from the previous page's \"next\").") var cursor: String?
    @Option(name: .long, help: "Delete this message from the quarantine (kept in the audit log; needs --reason).")
    var delete: String?
    @Option(name: .long, help: "Read this message's kept body again and store what it carries.") var reingest: String?
    @Option(name: .long, help: "Why (recorded; required for --delete).") var reason: String?
    @Option(name: .long, help: "Who (recorded; default: $DLQ_ACTOR, else the login name of the user id).") var actor: String?
    @Flag(name: .long, help: "Report what --delete or --reingest would do; change nothing.") var dryRun = false
    @Flag(name: .long, help: "Print one JSON document (bodies in full).") var json = false

    /// The action asked for, with its message id.
    var action: (QuarantineActions.Command, String)? {
        if let delete { return (.delete, delete) }
        return reingest.map { (.reingest, $0) }
    }

    func validate() throws {
        _ = try usage { () throws(InputError) in try AuditQueries.quarantinedPage.resolve(limit, field: "--limit") }
        try checkCursor(cursor, for: .quarantinedMessages)
        if delete != nil && reingest != nil { throw ValidationError("give --delete or --reingest, not both") }
        if action == nil && (reason != nil || actor != nil || dryRun) {
            throw ValidationError("--reason, --actor and --dry-run go with --delete ID or --reingest ID")
        }
        if action != nil && (limit != nil || cursor != nil) {
            throw ValidationError("--limit and --cursor page the listing; they do not go with --delete or --reingest")
        }
        if let (command, _) = action {
            try checkRequest { () throws(RequestError) in try QuarantineActions.validate(command, reason: reason) }
        }
    }

    func run() async throws {
        if let (command, messageID) = action {
            try await act(command, messageID)
            return
        }
        let reprocessor = try await CommandContext.open(global, readOnly: true)
        let page = try await AuditQueries(auditLog: reprocessor.auditLog).quarantined(cursor: cursor, limit: limit)
        if json {
            Output.json(AuditQueries.json(quarantined: page))
            return
        }
        Output.table(
            ["MESSAGE", "RECEIVED", "TRIES", "REASON", "BODY"],
            page.rows.map {
                [
                    $0.messageID, Output.shortTime($0.receivedAt), String($0.receiveCount), Output.clip($0.quarantineReason, 70),
                    Output.clip($0.body, 40),
                ]
            })
        if let next = page.next { print("more: --cursor \(next)") }
    }

    /// Deletes or re-ingests one message, and prints what became of it.
    func act(_ command: QuarantineActions.Command, _ messageID: String) async throws {
        let actor = try operatorActor(actor)
        let reprocessor = try await CommandContext.open(global)
        let operations = try await Operations.open(reprocessor, writingToSearch: false)
        let result = try await operations.quarantined(
            command, messageID: messageID, actor: actor, reason: reason, dryRun: dryRun)
        if json {
            Output.json(result.json)
        } else {
            Output.table(["MESSAGE", "OUTCOME", "MESSAGE TEXT"], [[result.messageID, result.outcome.rawValue, result.message]])
            if !result.changeIDs.isEmpty {
                print("changes stored: \(result.changeIDs.map(String.init).joined(separator: ", "))")
            }
        }
        if result.isFailure { throw ExitStatus.failure.exitCode }
    }
}
