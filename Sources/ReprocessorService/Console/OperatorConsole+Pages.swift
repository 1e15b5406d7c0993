import AuditLog
import Foundation
import Hummingbird
import NIOCore
import Reprocessor
import StreamModel
import SyncTransform

extension OperatorConsole {
    // MARK: overview

    /// How long the overview waits for the queue's depth.
    static let depthTimeout: Duration = .seconds(3)

    /// `GET /ui`: counts by status (each a link to the list), the oldest pending change, the DLQ's
    /// depth, the last run and the lease, whether replay is paused, the batches waiting and their
    /// time left before their stream's retention, freshness (sent → applied), streams that cannot
    /// be described, the latest reconcile.
    func overview(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        let query = try QueryInput(request, allowed: ["refresh"])
        let refresh: Int
        do {
            refresh = try OperatorInput.overviewRefresh.parse(query.string("refresh"), field: "refresh")
        } catch {
            throw ServiceError(error)
        }
        let now = Date()
        let (stats, recentLags) = try await queries.stats()
        let attention: Set<ChangeStatus> = [.failed, .parked, .expired]
        var values: [String: Any] = [
            "counts": ChangeStatus.allCases.map { status -> [String: Any] in
                let count = stats.changes[status] ?? 0
                return [
                    "status": status.rawValue, "label": ConsoleText.label(status.rawValue), "count": ConsoleText.number(count),
                    "link": "/ui/changes?status=\(status.rawValue)", "attention": count > 0 && attention.contains(status),
                ]
            },
            "messagesTotal": ConsoleText.number(stats.messagesTotal),
            "messagesQuarantined": ConsoleText.number(stats.messagesQuarantined),
        ]
        values["oldestPending"] = stats.oldestPendingCreatedAt.map { ConsoleTime.view($0, now: now) }
        values["lastRun"] = stats.lastRunAt.map { ConsoleTime.view($0, now: now) }
        values["lease"] = stats.runLease.map { lease -> [String: Any] in
            [
                "holder": lease.holder, "epoch": String(lease.epoch), "held": lease.isHeld(at: now),
                "since": ConsoleTime.view(lease.acquiredAt, now: now),
            ]
        }
        values["batchesPending"] = ConsoleText.number(stats.batches[.pending] ?? 0)
        values["oldestBatch"] = stats.oldestWaitingBatchSince.map { ConsoleTime.view($0, now: now) }
        values["retentionLeft"] = stats.mostUrgentBatchLastRecordAt.map {
            ConsoleText.duration(seconds: DLQIngestor.retentionLeft(lastRecordAt: $0, now: now))
        }
        if case .object(let lag) = AuditJSON.lagSummary(recentLags) {
            func seconds(_ key: String) -> String {
                lag[key]?.numberText.flatMap(Double.init).map { String(format: "%.1f", $0) } ?? "-"
            }
            values["lag"] = [
                "changes": lag["changes"]?.numberText ?? "0", "p50": seconds("p50Seconds"), "p99": seconds("p99Seconds"),
                "max": seconds("maxSeconds"),
            ]
        }
        values["streamsUnavailable"] = !stats.streamProblems.isEmpty
        values["streamProblems"] = stats.streamProblems.map { problem -> [String: Any] in
            ["reason": problem.reason, "since": ConsoleTime.view(problem.since, now: now)]
        }
        values["paused"] = stats.replayPause.map { pause -> [String: Any] in
            ["reason": pause.reason, "since": ConsoleTime.view(pause.since, now: now)]
        }
        if let run = stats.lastReconcile {
            var reconcile = ConsoleText.plain(AuditJSON.reconcileRun(run)) as? [String: Any] ?? [:]
            reconcile["startedAt"] = ConsoleTime.view(run.startedAt, now: now)
            values["reconcile"] = reconcile
        }
        switch await queueDepth() {
        case .success(let depth):
            values["depth"] = ["visible": ConsoleText.number(depth.visible), "inFlight": ConsoleText.number(depth.inFlight)]
            depthHistory.record(depth.visible, at: now)
        case .failure(let problem):
            values["depthProblem"] = problem.description
        }
        let hourly = try await auditLog.hourlyActionCounts(
            [.applied, .failed, .parked], hours: ConsoleChart.hours, end: now)
        let zero = Array(repeating: 0, count: ConsoleChart.hours)
        let failures = zip(hourly[.failed] ?? zero, hourly[.parked] ?? zero).map { $0 + $1 }
        values["activity"] = ConsoleChart.activity(failures: failures, applies: hourly[.applied] ?? zero, end: now)
        values["depthChart"] = ConsoleChart.depth(depthHistory.all, end: now)
        values["refreshSeconds"] = String(refresh)
        values["generatedMillis"] = String(Int64(now.timeIntervalSince1970 * 1000))
        values["generatedAt"] = ConsoleTime.utc(now)
        return render("overview", values, title: "Overview", session: session, section: "/ui")
    }

    /// Why the queue's depth is unknown.
    struct DepthUnknown: Error, CustomStringConvertible {
        var description: String
    }

    /// The queue's approximate depth, or why it is unknown, within ``depthTimeout``.
    func queueDepth() async -> Result<(visible: Int, inFlight: Int), DepthUnknown> {
        guard let ingestor else { return .failure(DepthUnknown(description: "this process has no queue")) }
        return await withTaskGroup(of: Result<(visible: Int, inFlight: Int), DepthUnknown>?.self) { group in
            group.addTask {
                do {
                    return .success(try await ingestor.approximateDepth())
                } catch {
                    return .failure(DepthUnknown(description: String(describing: error)))
                }
            }
            group.addTask {
                try? await Task.sleep(for: Self.depthTimeout)
                return Task.isCancelled ? nil : .failure(DepthUnknown(description: "the queue did not answer in time"))
            }
            var answer: Result<(visible: Int, inFlight: Int), DepthUnknown> = .failure(
                DepthUnknown(description: "the queue did not answer"))
            for await result in group {
                guard let result else { continue }
                answer = result
                break
            }
            group.cancelAll()
            return answer
        }
    }

    // MARK: failures grouped by error

    /// `GET /ui/errors`: failures grouped by fingerprint, each with a preview of retrying or skipping the group by its id.
    func errorGroups(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        _ = try QueryInput(request, allowed: [])
        // Not paged, as /v1/errors: it holds a place among the expensive work while it reads.
        let permit = try ConsoleJobs.place(in: expensive)
        defer { withExtendedLifetime(permit) {} }
        let now = Date()
        let groups = try await queries.errorGroups(statuses: [])
        let rows = groups.enumerated().map { index, group -> [String: Any] in
            let filter = AuditQueries.filter(for: group)
            let statuses = filter.statuses.map(\.rawValue).sorted()
            let listQuery = [("group", group.id)] + statuses.map { ("status", $0) }
            return [
                "index": index + 1, "error": group.error, "countText": ConsoleText.changes(group.count), "groupID": group.id,
                "fingerprint": group.fingerprint,
                "documentsText": "\(ConsoleText.number(group.documents)) document\(group.documents == 1 ? "" : "s")",
                "firstSeen": ConsoleTime.view(group.firstSeen, now: now), "lastSeen": ConsoleTime.view(group.lastSeen, now: now),
                "statuses": group.statuses.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                    [
                        "status": $0.key.rawValue, "label": ConsoleText.label($0.key.rawValue),
                        "count": ConsoleText.number($0.value),
                    ]
                },
                "statusNames": statuses, "listLink": "/ui/changes?" + ConsoleText.query(listQuery),
            ]
        }
        return render("errors", ["groups": rows], title: "Failures by error", session: session, section: "/ui/errors")
    }

    // MARK: changes

    /// `GET /ui/changes`: the `list` filters in the URL, a page at a time, with the selected
    /// changes (or every matching one) offered to the actions.
    func changes(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        let query = try QueryInput(request, allowed: FilterInput.names.union(ConsolePaging.names))
        let filter = try FilterInput.filter(query)
        let paging = try ConsolePaging(query, pageSize: AuditQueries.changesPage)
        let now = Date()
        let page = try await queries.changes(
            filter, cursor: paging.cursor, limit: paging.limit, newestFirst: paging.newestFirst)
        let total = try await queries.changeCount(filter)
        let rows = page.rows.map { change -> [String: Any] in
            [
                "id": String(change.id), "status": change.status.rawValue,
                "statusLabel": ConsoleText.label(change.status.rawValue),
                "event": change.eventName?.rawValue ?? "", "documentId": change.documentID as Any,
                "sequence": change.sequenceNumber.digits, "attempts": String(change.attempts),
                "lastError": ConsoleText.clip(change.lastError, 160), "createdAt": ConsoleTime.view(change.createdAt, now: now),
            ]
        }
        let filters = ConsolePaging.filters(of: request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        let filterFields = filters.map { ["name": "f_" + $0.0, "value": $0.1] }
        let statuses = Set(query.list("status"))
        let event = query.string("event")?.uppercased()
        var values: [String: Any] = [
            "rows": rows, "hasRows": !rows.isEmpty,
            "filter": [
                "key": query.string("key") ?? "", "since": query.string("since") ?? "", "until": query.string("until") ?? "",
                "error": query.string("error") ?? "",
            ],
            "statusOptions": ChangeStatus.allCases.map {
                ["value": $0.rawValue, "label": ConsoleText.label($0.rawValue), "selected": statuses.contains($0.rawValue)]
            },
            "eventOptions": EventName.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == event] },
            "errorEquals": query.string("errorEquals") as Any, "group": filter.errorGroup as Any,
            "filterFields": filterFields, "hasFilterFields": !filterFields.isEmpty,
            "commands": OperatorActions.Command.allCases.map { ["command": $0.rawValue, "verb": ConsoleText.verb($0)] },
            "order": paging.newestFirst ? "newest" : "oldest",
        ]
        values.merge(
            paging.values(
                path: "/ui/changes", filters: filters, rows: rows.count, total: total, next: page.next, noun: ConsoleText.changes)
        ) { _, new in new }
        return render("changes", values, title: "Changes", session: session, section: "/ui/changes")
    }

    /// `GET /ui/changes/{id}`: one change, its images beside the live document, its actions, and the
    /// actions its status allows.
    func change(_ request: Request, _ context: ServiceRequestContext, _ session: ConsoleSession) async throws -> Response {
        _ = try QueryInput(request, allowed: [])
        let id: Int64
        do {
            id = try OperatorInput.id(context.parameters.get("id") ?? "", field: "change id")
        } catch {
            throw ServiceError(error)
        }
        let now = Date()
        let (change, actions) = try await queries.change(id: id)
        let old = change.oldImage.map(SyncTransform.plainJSON)?.objectValue ?? [:]
        let new = change.newImage.map(SyncTransform.plainJSON)?.objectValue ?? [:]
        var live: [String: JSONValue] = [:]
        var liveProblem: String?
        if let documentID = change.documentID {
            do {
                live = try await operations.liveDocument(documentID)?.objectValue ?? [:]
            } catch {
                liveProblem = String(describing: error)
            }
        }
        let diff = ConsoleDiff.rows(old: old, new: new, live: live)
        let commands = OperatorActions.Command.allCases.filter { $0.applies(to: change.status) }
        let values: [String: Any] = [
            "id": String(change.id), "status": change.status.rawValue, "statusLabel": ConsoleText.label(change.status.rawValue),
            "attemptsText": ConsoleText.counted(change.attempts, "attempt"),
            "event": change.eventName?.rawValue ?? "no event", "sequence": change.sequenceNumber.digits,
            "documentId": change.documentID as Any, "lastError": change.lastError as Any,
            "messageId": change.messageID as Any,
            "messageLink": "/ui/search?" + ConsoleText.query([("q", change.messageID ?? "")]),
            "createdAt": ConsoleTime.view(change.createdAt, now: now), "updatedAt": ConsoleTime.view(change.updatedAt, now: now),
            "diff": diff, "liveProblem": liveProblem as Any,
            "actions": actions.map { action -> [String: Any] in
                [
                    "at": ConsoleTime.view(action.at, now: now), "action": action.action.rawValue,
                    "actionLabel": ConsoleText.label(action.action.rawValue), "actor": action.actor,
                    "reason": action.reason ?? "", "outcome": action.outcome, "response": action.response as Any,
                ]
            },
            "commands": commands.map { ["command": $0.rawValue, "verb": ConsoleText.verb($0)] },
            "hasCommands": !commands.isEmpty,
        ]
        return render("change", values, title: "Change \(change.id)", session: session, section: "/ui/changes")
    }

    // MARK: history

    /// `GET /ui/history?key=…&at=…`: one artist's timeline, and its document as it stood at a moment.
    func history(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        let query = try QueryInput(request, allowed: ["key", "at"])
        let now = Date()
        let at = try query.time("at", now: now)
        var values: [String: Any] = ["key": query.string("key") ?? "", "at": query.string("at") ?? ""]
        if let key = query.string("key") {
            // Not paged, as /v1/history: it holds a place among the expensive work while it reads.
            let permit = try ConsoleJobs.place(in: expensive)
            defer { withExtendedLifetime(permit) {} }
            let history = try await queries.history(key: key)
            values["searched"] = true
            values["documentId"] = history.documentID
            values["truncated"] = history.truncated
            let changes = history.changes.map { change -> (Date, Int, [String: Any]) in
                (
                    change.createdAt, 0,
                    [
                        "kind": "change", "isChange": true, "at": ConsoleTime.view(change.createdAt, now: now),
                        "changeId": String(change.id), "event": change.eventName?.rawValue ?? "",
                        "sequence": change.sequenceNumber.digits, "status": change.status.rawValue,
                        "statusLabel": ConsoleText.label(change.status.rawValue),
                    ]
                )
            }
            let actions = history.actions.map { action -> (Date, Int, [String: Any]) in
                (
                    action.at, 1,
                    [
                        "kind": "action", "isChange": false, "at": ConsoleTime.view(action.at, now: now),
                        "changeId": action.changeID.map(String.init) ?? "", "action": action.action.rawValue,
                        "actionLabel": ConsoleText.label(action.action.rawValue),
                        "actor": action.actor, "reason": action.reason as Any, "outcome": action.outcome,
                    ]
                )
            }
            let timeline = (changes + actions).sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
            values["timeline"] = timeline
            values["hasTimeline"] = !timeline.isEmpty
            if let at {
                let document = try await queries.document(key: key, at: at)
                values["documentAt"] =
                    [
                        "documentId": document.documentID, "moment": ConsoleTime.view(at, now: now), "exists": document.exists,
                        "fields": (document.state?.document.objectValue ?? [:]).sorted { $0.key < $1.key }.map {
                            ["name": $0.key, "value": ConsoleText.value($0.value)]
                        },
                        "asOf": document.state.map { state -> [String: Any] in
                            [
                                "id": String(state.action.id), "action": state.action.action.rawValue,
                                "actor": state.action.actor,
                                "at": ConsoleTime.view(state.action.at, now: now),
                            ]
                        } as Any,
                    ] as [String: Any]
            }
        }
        return render("history", values, title: "Artist history", session: session, section: "/ui/history")
    }

    // MARK: audit

    /// `GET /ui/audit`: actions by actor, kind and time, a page at a time, with export links.
    func audit(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        let query = try QueryInput(request, allowed: FilterInput.actionNames.union(ConsolePaging.names))
        let filter = try FilterInput.actionFilter(query)
        let paging = try ConsolePaging(query, pageSize: AuditQueries.actionsScreenPage)
        let now = Date()
        let page = try await queries.actions(
            filter, cursor: paging.cursor, limit: paging.limit, newestFirst: paging.newestFirst)
        let total = try await queries.actionCount(filter)
        let filters = ConsolePaging.filters(of: request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        let kind = query.string("action")
        var values: [String: Any] = [
            "rows": page.rows.map { action -> [String: Any] in
                [
                    "id": String(action.id), "at": ConsoleTime.view(action.at, now: now),
                    "changeId": action.changeID.map(String.init) as Any, "messageId": action.messageID ?? "",
                    "messageLink": "/ui/search?" + ConsoleText.query([("q", action.messageID ?? "")]),
                    "action": action.action.rawValue, "actionLabel": ConsoleText.label(action.action.rawValue),
                    "actor": action.actor, "reason": action.reason ?? "", "outcome": action.outcome,
                ]
            },
            "hasRows": !page.rows.isEmpty,
            "filter": [
                "actor": query.string("actor") ?? "", "since": query.string("since") ?? "", "until": query.string("until") ?? "",
            ],
            "kindOptions": ActionKind.allCases.map {
                ["value": $0.rawValue, "label": ConsoleText.label($0.rawValue), "selected": $0.rawValue == kind]
            },
            "csvLink": "/ui/audit/export?" + ConsoleText.query(filters + [("format", "csv")]),
            "ndjsonLink": "/ui/audit/export?" + ConsoleText.query(filters + [("format", "ndjson")]),
            "order": paging.newestFirst ? "newest" : "oldest",
        ]
        values.merge(
            paging.values(
                path: "/ui/audit", filters: filters, rows: page.rows.count, total: total, next: page.next,
                noun: { ConsoleText.counted($0, "action") })
        ) { _, new in new }
        return render("audit", values, title: "Audit log", session: session, section: "/ui/audit")
    }

    /// `GET /ui/audit/export?format=csv|ndjson&…`: every matching action, streamed a page at a time.
    func exportAudit(_ request: Request) async throws -> Response {
        let query = try QueryInput(request, allowed: FilterInput.actionNames.union(["format"]))
        let format = try FilterInput.exportFormat(query)
        return OperatorAPI.export(try FilterInput.actionFilter(query), format: format, queries: queries, logger: logger)
    }
}
