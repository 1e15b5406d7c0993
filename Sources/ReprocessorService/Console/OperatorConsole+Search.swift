import AuditLog
import Foundation
import Hummingbird
import Reprocessor

extension OperatorConsole {
    /// The longest text the search box takes.
    static let longestSearch = 200
    /// Messages of one correlation id, and changes of one message, listed by a search.
    static let searchRows = 20

    /// `GET /ui/search?q=…`: one box for an artist id or key, a change id, a message id or a
    /// correlation id. Every reading of the text is tried; one match opens it, several are listed.
    func search(_ request: Request, _ session: ConsoleSession) async throws -> Response {
        let query = try QueryInput(request, allowed: ["q"])
        let text = (query.string("q") ?? "").trimmingCharacters(in: .whitespaces)
        guard text.utf8.count <= Self.longestSearch else {
            throw ServiceError(.badRequest, "the search is longer than \(Self.longestSearch) bytes")
        }
        var matches: [[String: Any]] = []
        if !text.isEmpty {
            if let id = Int64(text), id > 0, let change = try await auditLog.change(id: id) {
                matches.append([
                    "kind": "Change", "link": "/ui/changes/\(id)",
                    "text": "change \(id): \(ConsoleText.label(change.status.rawValue).lowercased())"
                        + (change.documentID.map { ", artist \($0)" } ?? ""),
                ])
            }
            if let documentID = try? FilterInput.artistKey(text, "q") {
                let count = try await queries.changeCount(ChangeFilter(documentID: documentID))
                if count > 0 {
                    matches.append([
                        "kind": "Artist", "link": "/ui/history?" + ConsoleText.query([("key", documentID)]),
                        "text": "artist \(documentID): \(ConsoleText.changes(count)) (its history)",
                        "more": [
                            ["link": "/ui/changes?" + ConsoleText.query([("key", documentID)]), "text": "list its changes"]
                        ],
                    ])
                }
            }
            if let message = try await auditLog.message(id: text) {
                matches.append(try await messageMatch(message, kind: "Message"))
            }
            for message in try await auditLog.messages(correlationID: text, limit: Self.searchRows) {
                matches.append(try await messageMatch(message, kind: "Correlation id"))
            }
        }
        if matches.count == 1, let link = matches[0]["link"] as? String {
            return Self.redirect(link)
        }
        let values: [String: Any] = [
            "q": text, "searchText": text, "searched": !text.isEmpty, "matches": matches, "hasMatches": !matches.isEmpty,
            "countText": "\(matches.count) \(matches.count == 1 ? "match" : "matches")",
        ]
        return render("search", values, title: "Search", session: session)
    }

    /// A message found by its id or its correlation id, with its changes (or its place in the quarantine).
    func messageMatch(_ message: StoredMessage, kind: String) async throws -> [String: Any] {
        var match: [String: Any] = ["kind": kind]
        if message.quarantineReason != nil {
            let resolution = try await auditLog.quarantineResolution(messageID: message.messageID)
            match["text"] =
                "message \(message.messageID): quarantined"
                + (resolution.map { ", then \(ConsoleText.label($0.action.rawValue).lowercased()) by \($0.actor)" } ?? "")
            if resolution == nil { match["link"] = "/ui/quarantined" }
        }
        let ids = try await auditLog.changeIDs(messageID: message.messageID, limit: Self.searchRows)
        if match["text"] == nil {
            match["text"] = "message \(message.messageID): " + (ids.isEmpty ? "no change (it named a batch)" : "its changes")
        }
        if ids.count == 1, match["link"] == nil { match["link"] = "/ui/changes/\(ids[0])" }
        match["more"] = ids.map { ["link": "/ui/changes/\($0)", "text": "change \($0)"] }
        return match
    }
}
