import ArgumentParser
import AuditLog
import Foundation
import Reprocessor
import StreamModel
import SyncTransform

/// `list`: changes by filter, a page at a time.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List changes by status, key, event and time.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var filter: ChangeFilterOptions
    @Option(name: .long, help: "Rows per page (\(AuditQueries.changesPage.help)).") var limit: Int?
    @Option(name: .long, help: "Continue after this cursor (from the previous page's \"next\").") var cursor: String?
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func validate() throws {
        _ = try usage { () throws(InputError) in try AuditQueries.changesPage.resolve(limit, field: "--limit") }
        try checkCursor(cursor, for: .changes)
    }

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, readOnly: true)
        let page = try await AuditQueries(auditLog: reprocessor.auditLog).changes(
            try filter.filter(now: Date()), cursor: cursor, limit: limit)
        if json {
            Output.json(AuditJSON.list(page))
            return
        }
        Output.table(
            ["ID", "STATUS", "EVENT", "DOCUMENT", "SEQUENCE", "TRIES", "CREATED", "LAST ERROR"],
            page.rows.map {
                [
                    String($0.id), $0.status.rawValue, $0.eventName?.rawValue ?? "-", $0.documentID ?? "-",
                    $0.sequenceNumber.digits, String($0.attempts), Output.shortTime($0.createdAt), Output.clip($0.lastError),
                ]
            })
        if let next = page.next { print("more: --cursor \(next)") }
    }
}

/// `show ID`: one change with its images, field diff and actions.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one change: images, field diff, actions.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Change id.") var id: Int64
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func validate() throws {
        try checkIDs([id], "change id")
    }

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, readOnly: true)
        let (change, actions) = try await AuditQueries(auditLog: reprocessor.auditLog).change(id: id)
        if json {
            Output.json(AuditJSON.show(change, actions: actions))
            return
        }
        print("change \(change.id): \(change.status.rawValue)")
        print("  event       \(change.eventName?.rawValue ?? "-") of \(change.documentID.map { "ARTIST#\($0)" } ?? "-")")
        print("  sequence    \(change.sequenceNumber.digits)")
        print("  attempts    \(change.attempts)" + (change.nextAttemptAt.map { ", next at \(Output.shortTime($0))" } ?? ""))
        print("  message     \(change.messageID ?? "-") (correlation \(change.correlationID ?? "-"))")
        if let lastError = change.lastError { print("  last error  \(lastError)") }
        let changed = SyncTransform.changedFields(old: change.oldImage, new: change.newImage)
        if !changed.isEmpty { print("  changed     \(changed.joined(separator: ", "))") }
        print("  old image   \(change.oldImage.map { SyncTransform.plainJSON($0).serialized } ?? "-")")
        print("  new image   \(change.newImage.map { SyncTransform.plainJSON($0).serialized } ?? "-")")
        print("")
        Output.table(
            ["AT", "ACTION", "ACTOR", "REASON", "OUTCOME"],
            actions.map {
                [Output.shortTime($0.at), $0.action.rawValue, $0.actor, Output.clip($0.reason, 40), Output.clip($0.outcome, 80)]
            })
    }
}

/// `history KEY`: every change and action for one artist.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Every change and action for one artist; --at shows the document as it stood then.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Artist key: ARTIST#42 or 42.") var key: String
    @Option(name: .long, help: "Show the document as the reprocessor left it at this time (ISO-8601, a date, or an age).")
    var at: String?
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func validate() throws {
        _ = try usage { () throws(InputError) in try flagTime(at, "--at", now: Date()) }
    }

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, readOnly: true)
        let queries = AuditQueries(auditLog: reprocessor.auditLog)
        if let at = try flagTime(at, "--at", now: Date()) {
            let answer = try await queries.document(key: key, at: at)
            let documentID = answer.documentID
            if json {
                Output.json(answer.json)
            } else if let state = answer.state {
                print(
                    "ARTIST#\(documentID) at \(AuditJSON.time(at)), as left by action \(state.action.id) (\(state.action.action.rawValue) at \(Output.shortTime(state.action.at))):"
                )
                print(state.document == .null ? "  (deleted)" : "  \(state.document.serialized)")
            } else {
                print("ARTIST#\(documentID): nothing written by the reprocessor at or before \(AuditJSON.time(at))")
            }
            return
        }
        let history = try await queries.history(key: key)
        if json {
            Output.json(history.json)
            return
        }
        guard !history.changes.isEmpty || !history.actions.isEmpty else {
            print("ARTIST#\(history.documentID): no changes recorded for this artist")
            return
        }
        print(
            "ARTIST#\(history.documentID): \(history.changes.count) change\(history.changes.count == 1 ? "" : "s"), "
                + "\(history.actions.count) action\(history.actions.count == 1 ? "" : "s")")
        Output.table(
            ["CHANGE", "SEQUENCE", "EVENT", "STATUS", "CREATED", "CHANGED FIELDS"],
            history.changes.map {
                [
                    String($0.id), $0.sequenceNumber.digits, $0.eventName?.rawValue ?? "-", $0.status.rawValue,
                    Output.shortTime($0.createdAt),
                    SyncTransform.changedFields(old: $0.oldImage, new: $0.newImage).joined(separator: ","),
                ]
            })
        print("")
        Output.table(
            ["AT", "CHANGE", "ACTION", "ACTOR", "OUTCOME"],
            history.actions.map {
                [
                    Output.shortTime($0.at), $0.changeID.map(String.init) ?? "-", $0.action.rawValue, $0.actor,
                    Output.clip($0.outcome, 80),
                ]
            })
    }
}

/// `errors`: failures grouped by fingerprint.
struct ErrorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "errors",
        abstract: "Failures grouped by fingerprint; act on a group with retry/skip/list --group ID.",
        discussion:
            "A group is every change whose error is the same once document ids, quoted values, numbers, UUIDs and "
            + "sequence numbers are masked. Each group shows its id, how many changes and documents, when first and "
            + "last seen, statuses, and one full example error (wrapped to the terminal; --wide keeps it on the row).")

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, parsing: .upToNextOption, help: "Statuses to group (default failed, parked, expired).")
    var status: [ChangeStatus] = []
    @Flag(name: .long, help: "Print each example error in full at the end of its row instead of wrapped below it.")
    var wide = false
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, readOnly: true)
        let groups = try await AuditQueries(auditLog: reprocessor.auditLog).errorGroups(statuses: Set(status))
        if json {
            Output.json(AuditQueries.json(errorGroups: groups))
            return
        }
        guard !groups.isEmpty else {
            let statuses = (status.isEmpty ? AuditQueries.defaultErrorStatuses : Set(status)).map(\.rawValue).sorted()
            print("no failures in status \(statuses.joined(separator: ", "))")
            return
        }
        var headers = ["GROUP", "COUNT", "DOCUMENTS", "FIRST SEEN", "LAST SEEN", "STATUSES"]
        var rows = groups.map { group in
            [
                group.id, String(group.count), String(group.documents), Output.shortTime(group.firstSeen),
                Output.shortTime(group.lastSeen),
                group.statuses.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }
                    .joined(separator: ","),
            ]
        }
        if wide {
            headers.append("EXAMPLE ERROR")
            for index in rows.indices { rows[index].append(groups[index].error.replacingOccurrences(of: "\n", with: " ")) }
            Output.table(headers, rows)
        } else {
            let lines = Output.tableLines(headers, rows)
            print(lines[0])
            let width = Output.terminalWidth()
            for (line, group) in zip(lines.dropFirst(), groups) {
                print(line)
                for exampleLine in Output.wrapped(group.error, width: width, indent: "    ") { print(exampleLine) }
            }
        }
        print("act on a group: retry --group GROUP, skip --group GROUP --reason R, list --group GROUP")
    }
}

/// `audit`: actions by actor, kind and time.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Actions by actor, action and time.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, ndjson, csv }

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Only this actor.") var actor: String?
    @Option(name: .long, parsing: .upToNextOption, help: "Only these actions.") var action: [ActionKind] = []
    @Option(name: .long, help: "At or after this time (ISO-8601, a date, or an age).") var since: String?
    @Option(name: .long, help: "Before this time.") var until: String?
    @Option(name: .long, help: "Output: table, json, ndjson or csv.") var format: Format = .table
    @Option(name: .long, help: "Most actions to print (default: all).") var limit: Int?

    func validate() throws {
        _ = try usage { () throws(InputError) in try actionFilter(now: Date()) }
        _ = try usage { () throws(InputError) in try OperatorInput.actionsLimit.resolve(limit, field: "--limit") }
    }

    /// The action filter, ages counted back from `now`.
    func actionFilter(now: Date) throws(InputError) -> ActionFilter {
        ActionFilter(
            actor: actor, actions: Set(action), since: try flagTime(since, "--since", now: now),
            until: try flagTime(until, "--until", now: now))
    }

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, readOnly: true)
        let filter = try actionFilter(now: Date())
        let queries = AuditQueries(auditLog: reprocessor.auditLog)
        let export: ActionExportFormat? =
            switch format {
            case .csv: .csv
            case .ndjson: .ndjson
            case .json, .table: nil
            }
        if let export {
            try await queries.exportActions(filter, format: export, limit: limit) { lines in
                FileHandle.standardOutput.write(Data(lines.utf8))
            }
            return
        }
        var cursor: String?
        var printed = 0
        var jsonRows: [JSONValue] = []
        var tableRows: [[String]] = []
        repeat {
            let standard = AuditQueries.actionsPage.standard
            let pageSize = min(standard, limit.map { $0 - printed } ?? standard)
            guard pageSize > 0 else { break }
            let page = try await queries.actions(filter, cursor: cursor, limit: pageSize)
            cursor = page.next
            for row in page.rows {
                printed += 1
                if format == .json {
                    jsonRows.append(AuditJSON.action(row))
                } else {
                    tableRows.append([
                        String(row.id), Output.shortTime(row.at), row.changeID.map(String.init) ?? "-", row.action.rawValue,
                        row.actor, Output.clip(row.reason, 30), Output.clip(row.outcome, 70),
                    ])
                }
            }
        } while cursor != nil
        if format == .json {
            Output.json(.object(["actions": .array(jsonRows)]))
        } else {
            Output.table(["ID", "AT", "CHANGE", "ACTION", "ACTOR", "REASON", "OUTCOME"], tableRows)
        }
    }
}

extension ActionKind: ExpressibleByArgument {}

/// `stats`: counts by status, oldest pending age, last run.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Counts by status, oldest pending age, last run.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, readOnly: true)
        let (stats, lags) = try await AuditQueries(auditLog: reprocessor.auditLog).stats()
        if json {
            Output.json(AuditJSON.stats(stats, recentLags: lags))
            return
        }
        Output.table(
            ["STATUS", "CHANGES"], ChangeStatus.allCases.map { [$0.rawValue, String(stats.changes[$0] ?? 0)] })
        print("")
        print("messages: \(stats.messagesTotal) (\(stats.messagesQuarantined) quarantined)")
        if let oldest = stats.oldestPendingCreatedAt {
            print("oldest pending change: \(Int(Date().timeIntervalSince(oldest)))s old")
        } else {
            print("oldest pending change: none")
        }
        print("last run: \(stats.lastRunAt.map { AuditJSON.time($0) } ?? "never")")
        print(
            "batches: "
                + BatchStatus.allCases.map { "\(stats.batches[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", "))
        if let waiting = stats.oldestWaitingBatchSince {
            print("oldest waiting batch: \(Int(Date().timeIntervalSince(waiting)))s waiting")
        }
        if let lastRecordAt = stats.mostUrgentBatchLastRecordAt {
            let left = Int(DLQIngestor.retentionLeft(lastRecordAt: lastRecordAt, now: Date()))
            print("most urgent batch: \(left)s left before its stream's 24 h retention")
        }
        for problem in stats.streamProblems {
            print("stream unavailable since \(AuditJSON.time(problem.since)): \(problem.reason)")
        }
        if case .object(let lag) = AuditJSON.lagSummary(lags) {
            let figures = ["p50Seconds", "p99Seconds", "maxSeconds"].map { "\($0.dropLast(7)) \(lag[$0]?.numberText ?? "-")s" }
            print("sent → applied, last \(lag["changes"]?.numberText ?? "0") applied: " + figures.joined(separator: ", "))
        }
        if let lease = stats.runLease {
            let state = lease.isHeld(at: Date()) ? "held by" : "last held by"
            print("run lease: \(state) \(lease.holder) (epoch \(lease.epoch)) since \(AuditJSON.time(lease.acquiredAt))")
        }
        if let run = stats.lastReconcile {
            let found = DriftKind.allCases.map { "\(run.found[$0.rawValue] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
            print(
                "last reconcile: run \(run.id) (\(run.mode.rawValue), \(run.status.rawValue)) started \(AuditJSON.time(run.startedAt)): "
                    + "scanned \(run.scanned), indexed \(run.indexed), \(found), repaired \(run.repaired)")
        }
        if let pause = stats.replayPause {
            print(
                "replay paused since \(AuditJSON.time(pause.since)) (last checked \(AuditJSON.time(pause.checkedAt))): \(pause.reason)"
            )
        }
    }
}

/// `verify`: the audit hash chain and the database's integrity.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit hash chain, that every row agrees with it, none missing, and integrity (exit 1 when broken).",
        discussion: """
            Every message, change and batch must be recorded by its actions, with the status its last action left; \
            every row an action names must exist. A keyed chain needs its key (--audit-key-file or \
            --audit-key-secret-arn). --expect-head COUNT:HEX \
            (a head printed earlier by verify or logged by serve) also fails when that head is no longer in the \
            chain: rows removed from its end, or history rewritten before it.
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Print one JSON document.") var json = false
    @Option(name: .long, help: "A head kept elsewhere, COUNT:HEX: exit 1 unless the chain still holds it.")
    var expectHead: String?

    func validate() throws {
        if let expectHead, ChainHead(parsing: expectHead) == nil {
            throw ValidationError("--expect-head must be COUNT:HEX, such as 1042:<64 hex digits> (as verify --json prints it)")
        }
    }

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, readOnly: true)
        let report = try await reprocessor.auditLog.verify(expectedHead: expectHead.flatMap(ChainHead.init(parsing:)))
        if json {
            Output.json(AuditJSON.verifyReport(report))
        } else {
            let keying = report.keyedFrom.map { "keyed from action \($0)" } ?? "unkeyed (no audit key)"
            if report.isIntact {
                print(
                    "ok: \(report.actionsChecked) actions, hash chain intact, \(keying); head \(report.head); "
                        + "\(report.rowsChecked) messages, changes and batches match their actions, none missing; "
                        + "integrity_check ok")
            } else {
                if let broken = report.firstBrokenActionID {
                    print("BROKEN: action \(broken): \(report.brokenReason ?? "hash mismatch")")
                }
                if let headReason = report.headReason {
                    print("BROKEN: \(headReason)")
                }
                for problem in report.rowProblems {
                    print("BROKEN: \(problem.reason)")
                }
                if report.integrityCheck != ["ok"] {
                    print("integrity_check: \(report.integrityCheck.joined(separator: "; "))")
                }
                print("chain \(keying); intact up to head \(report.head)")
            }
        }
        if !report.isIntact { throw ExitStatus.failure.exitCode }
    }
}

/// `batches`: failed batches (format-A messages) and how far their records are read.
struct BatchesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batches",
        abstract: "Failed batches: pending (records still to read, and how long they waited), read, expired, skipped.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Only batches in these statuses (pending, read, expired, skipped).") var status: [String] = []
    @Option(name: .long, help: "Rows per page (\(AuditQueries.batchesPage.help)).") var limit: Int?
    @Option(name: .long, help: "Continue after this cursor (from the previous page's \"next\").") var cursor: String?
    @Flag(name: .long, help: "Print one JSON document.") var json = false

    func validate() throws {
        _ = try usage { () throws(InputError) in try AuditQueries.batchesPage.resolve(limit, field: "--limit") }
        _ = try usage { () throws(InputError) in
            try cursor.map { (text) throws(InputError) in try OperatorInput.cursor(text, field: "--cursor") }
        }
        for value in status where BatchStatus(rawValue: value) == nil {
            throw ValidationError("unknown batch status \(value): use pending, read, expired or skipped")
        }
    }

    func run() async throws {
        let reprocessor = try await CommandContext.open(global, readOnly: true)
        let page = try await reprocessor.auditLog.listBatches(
            statuses: Set(status.compactMap(BatchStatus.init(rawValue:))),
            limit: try AuditQueries.batchesPage.resolve(limit, field: "--limit"),
            cursor: cursor)
        if json {
            Output.json(AuditJSON.batches(page))
            return
        }
        Output.table(
            ["ID", "STATUS", "SHARD", "START", "END", "READ", "TRIES", "WAITING SINCE", "LAST ERROR"],
            page.rows.map {
                [
                    String($0.id), $0.status.rawValue, Output.clip($0.shardID, 24), $0.startSequenceNumber.digits,
                    $0.endSequenceNumber.digits, String($0.recordsRead), String($0.attempts),
                    $0.status == .pending ? Output.shortTime($0.waitingSince) : "-", Output.clip($0.lastError),
                ]
            })
        if let next = page.next { print("more: --cursor \(next)") }
    }
}
