import AuditLog
import Foundation
import StreamModel

/// The formats the audit log's actions are exported in, one line per action: the same lines
/// from the command line's `audit --format`, `GET /v1/audit/export` and the console's export.
public enum ActionExportFormat: String, Sendable, CaseIterable {
    /// Comma-separated values with a header line.
    case csv
    /// One ``AuditJSON/action(_:)`` object per line.
    case ndjson

    /// The media type of the export.
    public var contentType: String {
        switch self {
        case .csv: "text/csv; charset=utf-8"
        case .ndjson: "application/x-ndjson"
        }
    }

    /// The line before the first action (with its new line), if the format has one.
    public var header: String? {
        switch self {
        case .csv: "id,change_id,message_id,action,actor,reason,outcome,at\n"
        case .ndjson: nil
        }
    }

    /// One action as a line, new line included.
    /// - Parameter action: The action.
    /// - Returns: The line.
    public func line(_ action: ActionRecord) -> String {
        switch self {
        case .ndjson:
            return AuditJSON.action(action).serialized + "\n"
        case .csv:
            let fields = [
                String(action.id), action.changeID.map(String.init) ?? "", action.messageID ?? "", action.action.rawValue,
                action.actor, action.reason ?? "", action.outcome, AuditJSON.time(action.at),
            ]
            return fields.map(Self.csvField).joined(separator: ",") + "\n"
        }
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension AuditQueries {
    /// Writes every action matching `filter` in `format`, a page at a time, so memory stays the
    /// size of one page however long the log is.
    /// - Parameters:
    ///   - filter: Which actions.
    ///   - format: CSV or NDJSON.
    ///   - limit: Most actions to write (nil: all).
    ///   - write: Called with the header and then each page's lines, in order.
    /// - Throws: Audit-log errors, and whatever `write` throws (a client that went away).
    public func exportActions(
        _ filter: ActionFilter, format: ActionExportFormat, limit: Int? = nil, write: (String) async throws -> Void
    ) async throws {
        if let header = format.header { try await write(header) }
        var cursor: String?
        var written = 0
        repeat {
            let pageSize = min(Self.actionsPage.standard, limit.map { $0 - written } ?? Self.actionsPage.standard)
            guard pageSize > 0 else { return }
            let page = try await actions(filter, cursor: cursor, limit: pageSize)
            cursor = page.next
            written += page.rows.count
            guard !page.rows.isEmpty else { return }
            try await write(page.rows.map(format.line).joined())
        } while cursor != nil
    }
}
