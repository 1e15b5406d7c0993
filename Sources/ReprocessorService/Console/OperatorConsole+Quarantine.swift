import AuditLog
import Foundation
import Hummingbird
import Reprocessor

extension OperatorConsole {
    /// Characters of a body shown before the rest is folded away.
    static let foldedBodyCharacters = 600
    /// Messages on a page of `/ui/quarantined`.
    static let quarantinedPageSize = 20

    /// `GET /ui/quarantined`: the quarantined messages still waiting, oldest first, with their
    /// reasons; bodies as text, long ones folded; each with its delete and re-ingest previews.
    func quarantined(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        let query = try QueryInput(request, allowed: ["cursor", "from"])
        let now = Date()
        let cursor = query.string("cursor")
        let from = cursor == nil ? 1 : max(1, Int(query.string("from") ?? "") ?? 1)
        let page = try await queries.quarantined(cursor: cursor, limit: Self.quarantinedPageSize)
        let total = max(try await auditLog.countWaitingInQuarantine(), from + page.rows.count - 1)
        var values: [String: Any] = [
            "rows": page.rows.enumerated().map { index, message -> [String: Any] in
                let folded = message.body.count > Self.foldedBodyCharacters
                return [
                    "index": from + index, "messageId": message.messageID,
                    "reason": message.quarantineReason ?? "not readable",
                    "receivedAt": ConsoleTime.view(message.receivedAt, now: now),
                    "receiveText": message.receiveCount == 1 ? "once" : "\(ConsoleText.number(message.receiveCount)) times",
                    "correlationId": message.correlationID as Any,
                    "body": message.body, "folded": folded, "head": String(message.body.prefix(Self.foldedBodyCharacters)),
                    "length": ConsoleText.number(message.body.count),
                ]
            },
            "hasRows": !page.rows.isEmpty,
            "position":
                "\(ConsoleText.number(from))–\(ConsoleText.number(from + page.rows.count - 1)) of "
                + ConsoleText.counted(total, "message"),
        ]
        if let next = page.next {
            values["nextLink"] =
                "/ui/quarantined?" + ConsoleText.query([("cursor", next), ("from", String(from + page.rows.count))])
        }
        if cursor != nil { values["firstLink"] = "/ui/quarantined" }
        return render("quarantined", values, title: "Quarantined messages", session: session, section: "/ui/quarantined")
    }

    /// `POST /ui/quarantined/preview`: the dry run of deleting or re-ingesting one message, then a
    /// form to confirm it.
    func previewQuarantined(_ session: ConsoleSession, _ form: ConsoleForm) async throws -> Response {
        let (command, messageID) = try Self.quarantineCommand(form)
        let result = try await operations.quarantined(
            command, messageID: messageID, actor: session.name, reason: form.string("reason"), dryRun: true)
        return quarantinePage(result, reason: form.string("reason"), session: session, dryRun: true)
    }

    /// `POST /ui/quarantined/run`: deletes or re-ingests one message, and says what became of it.
    func runQuarantined(_ session: ConsoleSession, _ form: ConsoleForm) async throws -> Response {
        let (command, messageID) = try Self.quarantineCommand(form)
        let result = try await operations.quarantined(
            command, messageID: messageID, actor: session.name, reason: form.string("reason"), dryRun: false)
        return quarantinePage(result, reason: form.string("reason"), session: session, dryRun: false)
    }

    /// The command and message a quarantine form names.
    static func quarantineCommand(_ form: ConsoleForm) throws(ServiceError) -> (QuarantineActions.Command, String) {
        guard let command = form.string("command").flatMap(QuarantineActions.Command.init(rawValue:)) else {
            throw ServiceError(.badRequest, "choose what to do: delete or reingest")
        }
        guard let messageID = form.string("message"), QuarantineActions.isMessageID(messageID) else {
            throw ServiceError(.badRequest, "no message is chosen, or its id is not one (1 to 200 letters, digits, -, _ and .)")
        }
        return (command, messageID)
    }

    /// A quarantine action's preview or result.
    func quarantinePage(_ result: QuarantineActions.Result, reason: String?, session: ConsoleSession, dryRun: Bool)
        -> Response
    {
        let isDelete = result.command == .delete
        let canConfirm = dryRun && !result.isFailure
        let headline: String =
            switch result.outcome {
            case .wouldDelete: "This will delete message \(result.messageID) from the quarantine."
            case .wouldReingest: "This will re-ingest message \(result.messageID)."
            case .deleted: "Message \(result.messageID) is deleted from the quarantine."
            case .reingested: "Message \(result.messageID) is re-ingested."
            case .refused: "Message \(result.messageID) stays quarantined."
            case .conflict: "Nothing was done to message \(result.messageID)."
            }
        let values: [String: Any] = [
            "outcome": result.outcome.rawValue, "outcomeLabel": ConsoleText.label(result.outcome.rawValue),
            "headline": headline, "message": result.message, "dryRun": canConfirm, "canConfirm": canConfirm,
            "command": result.command.rawValue, "messageId": result.messageID, "reason": reason ?? "",
            "needsReason": result.command.requiresReason, "isDelete": isDelete,
            "confirmLabel": isDelete ? "Delete this message" : "Re-ingest this message",
            "changeLinks": result.changeIDs.map(String.init), "hasChanges": !result.changeIDs.isEmpty,
            "actionId": result.actionID.map(String.init) as Any,
            "action": isDelete ? ActionKind.deleted.rawValue : ActionKind.reingested.rawValue,
        ]
        let verb = isDelete ? "delete" : "re-ingest"
        return render(
            "quarantineAction", values, title: dryRun ? "Preview: \(verb)" : (isDelete ? "Deleted" : "Re-ingested"),
            session: session, section: "/ui/quarantined")
    }
}
