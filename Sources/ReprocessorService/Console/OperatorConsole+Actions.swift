import AuditLog
import Foundation
import Hummingbird
import NIOCore
import Reprocessor
import StreamModel
import Synchronization

extension OperatorConsole {
    /// Results a preview lists (all are counted).
    static let previewResults = 200

    /// The fields of a console action form that choose changes: `id` (repeated), or the list
    /// filters prefixed `f_` (`f_status` repeated, `f_key`, `f_event`, `f_since`, `f_until`, `f_error`).
    static func selection(_ form: ConsoleForm) -> [(name: String, value: String)] {
        let names = ["id"] + FilterInput.names.sorted().map { "f_" + $0 }
        return names.flatMap { name in form.list(name).map { (name, $0) } }
    }

    /// The operator request a console form describes, for `session`'s operator.
    func operatorRequest(_ form: ConsoleForm, _ session: ConsoleSession, dryRun: Bool) throws -> (
        OperatorActions.Command, OperatorRequest
    ) {
        guard let command = form.string("command").flatMap(OperatorActions.Command.init(rawValue:)) else {
            throw ServiceError(
                .badRequest,
                "choose what to do: \(OperatorActions.Command.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var request = OperatorRequest(
            actor: session.name, reason: form.string("reason"), dryRun: dryRun, force: form.flag("force"))
        let ids = form.list("id")
        if !ids.isEmpty {
            do {
                request.ids = try ids.map { text throws(InputError) in try OperatorInput.id(text, field: "change id") }
            } catch {
                throw ServiceError(error)
            }
        } else {
            var object: [String: JSONValue] = [:]
            for name in FilterInput.names {
                let values = form.list("f_" + name)
                guard !values.isEmpty else { continue }
                object[name] = name == "status" ? .array(values.map(JSONValue.string)) : .string(values[values.count - 1])
            }
            // Nothing ticked and no filter: the operations' rule refuses the request, naming the selection.
            request.filter = object.isEmpty ? nil : try FilterInput.filter(object)
        }
        return (command, request)
    }

    /// `POST /ui/actions/preview`: a dry run of the chosen action, saying how many changes it
    /// would act on, then a form to confirm it.
    ///
    /// Skip and rollback need a reason even for a dry run (``OperatorRequest/validate(for:)``): without
    /// one, the page asks for it first and runs nothing.
    func preview(_ request: Request, _ session: ConsoleSession, _ form: ConsoleForm) async throws -> Response {
        let (command, operatorRequest) = try operatorRequest(form, session, dryRun: true)
        if command.requiresReason, operatorRequest.reason == nil {
            return askForReason(command, form, session)
        }
        try operatorRequest.validate(for: command)
        let permit = try ConsoleJobs.place(in: expensive)
        defer { withExtendedLifetime(permit) {} }
        let reason = operatorRequest.reason
        let collected = Mutex<(shown: [OperationResult], counts: [ChangeOutcome: Int])>(([], [:]))
        try await operations.perform(command, operatorRequest) { result in
            collected.withLock { collected in
                collected.counts[result.outcome, default: 0] += 1
                if collected.shown.count < Self.previewResults { collected.shown.append(result) }
            }
        }
        let (shown, counts) = collected.withLock { ($0.shown, $0.counts) }
        let acting: Set<ChangeOutcome> = [.wouldRetry, .wouldSkip, .wouldRollBack, .wouldResync]
        let willAct = counts.filter { acting.contains($0.key) }.values.reduce(0, +)
        let total = counts.values.reduce(0, +)
        let conflicts = shown.filter { $0.outcome == .conflict }
        let conflictCount = counts[.conflict] ?? 0
        let verb = ConsoleText.verb(command)
        let confirm = "\(verb.prefix(1).uppercased())\(verb.dropFirst()) \(ConsoleText.changes(willAct))"
        let values: [String: Any] = [
            "command": command.rawValue, "verb": verb, "willAct": willAct, "hasWillAct": willAct > 0,
            "willActText": ConsoleText.changes(willAct),
            "totalText": ConsoleText.changes(total),
            "otherOutcomes": counts.filter { !acting.contains($0.key) }.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                [
                    "outcome": $0.key.rawValue, "label": ConsoleText.label($0.key.rawValue),
                    "count": ConsoleText.number($0.value),
                ]
            },
            "hasOtherOutcomes": counts.contains { !acting.contains($0.key) },
            "conflicts": conflicts.map {
                ["id": String($0.id), "message": ConsoleText.resultMessage($0.message, outcome: $0.outcome.rawValue)]
            },
            "hasConflicts": !conflicts.isEmpty, "conflictsText": ConsoleText.changes(conflictCount),
            "offerForce": command == .rollback && conflictCount > 0,
            "forceLabel": "Roll back \(ConsoleText.changes(willAct + conflictCount)) anyway (force)",
            "selection": Self.selection(form).map { ["name": $0.name, "value": $0.value] },
            "reason": reason ?? "", "needsReason": command.requiresReason,
            "confirmLabel": confirm,
            "results": shown.map(Self.resultRow), "hasResults": !shown.isEmpty,
            "moreResults": total > shown.count, "shown": shown.count,
            "backLink": request.headers[.referer].flatMap { URL(string: $0)?.path }.flatMap { $0.hasPrefix("/ui") ? $0 : nil }
                ?? "/ui/changes",
        ]
        return render("preview", values, title: "Preview: \(verb)", session: session)
    }

    /// The page that asks for the reason a skip or rollback needs before its preview runs.
    func askForReason(_ command: OperatorActions.Command, _ form: ConsoleForm, _ session: ConsoleSession) -> Response {
        let verb = ConsoleText.verb(command)
        let values: [String: Any] = [
            "command": command.rawValue, "verb": verb,
            "selection": Self.selection(form).map { ["name": $0.name, "value": $0.value] },
            "chosen": form.list("id").isEmpty ? "every change the filter matches" : ConsoleText.changes(form.list("id").count),
        ]
        return render("reason", values, title: "Why \(verb)?", session: session)
    }

    /// `POST /ui/actions/run`: starts the confirmed action and shows its progress page.
    func run(_ request: Request, _ session: ConsoleSession, _ form: ConsoleForm) throws -> Response {
        let (command, operatorRequest) = try operatorRequest(form, session, dryRun: false)
        try operatorRequest.validate(for: command)
        let expected: Int
        do {
            expected = try OperatorInput.previewedChanges.parse(form.string("expected"), field: "expected")
        } catch {
            throw ServiceError(error)
        }
        let id = try jobs.start(command, operatorRequest, expected: expected)
        return Self.redirect("/ui/jobs/\(id)")
    }

    /// `GET /ui/jobs/{id}`: a started action's progress, then its per-change results.
    func job(_ request: Request, _ context: ServiceRequestContext, _ session: ConsoleSession) throws -> Response {
        let job = try knownJob(context)
        let verb = ConsoleText.verb(job.command)
        let verbTitle = "\(verb.prefix(1).uppercased())\(verb.dropFirst())"
        let values: [String: Any] = [
            "id": job.id, "verbTitle": verbTitle, "actor": job.actor,
            "startedAt": ConsoleTime.view(job.startedAt, now: Date()), "finished": job.finished,
            "done": job.done, "expected": max(job.expected, job.done), "failure": job.failure as Any,
            "doneText": ConsoleText.changes(job.done), "expectedText": ConsoleText.changes(max(job.expected, job.done)),
            "counts": job.counts.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                ["outcome": $0.key.rawValue, "label": ConsoleText.label($0.key.rawValue), "count": ConsoleText.number($0.value)]
            },
            "results": job.results.map(Self.resultRow), "hasResults": !job.results.isEmpty,
        ]
        return render("job", values, title: "\(verbTitle): " + (job.finished ? "results" : "running"), session: session)
    }

    /// `GET /ui/jobs/{id}/progress`: `{"done", "expected", "finished"}` for the progress script.
    func jobProgress(_ request: Request, _ context: ServiceRequestContext) throws -> Response {
        let job = try knownJob(context)
        return JSONResponse.make(
            .object([
                "done": .number(String(job.done)), "expected": .number(String(max(job.expected, job.done))),
                "finished": .bool(job.finished),
            ]))
    }

    func knownJob(_ context: ServiceRequestContext) throws(ServiceError) -> ConsoleJob {
        guard let id = context.parameters.get("id"), let job = jobs.job(id) else {
            throw ServiceError(
                .notFound, "no such job here: jobs are kept in this process only, the last \(ConsoleJobs.keptJobs)")
        }
        return job
    }

    static func resultRow(_ result: OperationResult) -> [String: Any] {
        [
            "id": String(result.id), "outcome": result.outcome.rawValue,
            "outcomeLabel": ConsoleText.label(result.outcome.rawValue),
            "status": result.status?.rawValue ?? "", "statusLabel": result.status.map { ConsoleText.label($0.rawValue) } ?? "",
            "message": ConsoleText.resultMessage(result.message, outcome: result.outcome.rawValue),
        ]
    }
}
