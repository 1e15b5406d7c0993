import Foundation
import SQLite
import StreamModel

extension AuditLog {
    /// How many changes match `filter`: the total a paged listing of it shows.
    /// - Throws: ``AuditLogError``: `.storage`.
    public func countChanges(_ filter: ChangeFilter) throws(AuditLogError) -> Int {
        let statuses = Self.statusValues(filter)
        return try read { db in
            var (conditions, bindings) = Self.conditions(of: filter, in: db)
            if !statuses.isEmpty {
                conditions.append("status IN (SELECT value FROM json_each(?))")
                bindings.append(Self.jsonArray(statuses))
            }
            let condition = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            return try db.queryOne("SELECT count(*) FROM changes\(condition)", bindings) { $0.column(0) as Int } ?? 0
        }
    }

    /// How many actions match `filter`: the total a paged listing of it shows.
    /// - Throws: ``AuditLogError``: `.storage`.
    public func countActions(_ filter: ActionFilter) throws(AuditLogError) -> Int {
        let kinds = Self.kindValues(filter)
        return try read { db in
            var (conditions, bindings) = Self.conditions(of: filter)
            if !kinds.isEmpty {
                conditions.append("action IN (SELECT value FROM json_each(?))")
                bindings.append(Self.jsonArray(kinds))
            }
            let condition = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            return try db.queryOne("SELECT count(*) FROM actions\(condition)", bindings) { $0.column(0) as Int } ?? 0
        }
    }

    /// The statuses a change filter names, sorted; empty when it names none or every one.
    static func statusValues(_ filter: ChangeFilter) -> [String] {
        filter.statuses.count == ChangeStatus.allCases.count ? [] : filter.statuses.map(\.rawValue).sorted()
    }

    /// The action kinds an action filter names, sorted; empty when it names none or every one.
    static func kindValues(_ filter: ActionFilter) -> [String] {
        filter.actions.count == ActionKind.allCases.count ? [] : filter.actions.map(\.rawValue).sorted()
    }

    /// The SQL conditions of a change filter but its statuses, with their bindings.
    static func conditions(of filter: ChangeFilter, in db: AuditDatabase) -> ([String], [any SQLBindable]) {
        var conditions: [String] = []
        var bindings: [any SQLBindable] = []
        if let documentID = filter.documentID {
            conditions.append("document_id = ?")
            bindings.append(documentID)
        }
        if let eventName = filter.eventName {
            // A literal, not a parameter: only a query that names REMOVE itself can use the
            // partial index changes_removed (the names are the enum's three words).
            conditions.append("event_name = '\(eventName.rawValue)'")
        }
        if let since = filter.since {
            conditions.append("created_at >= ?")
            bindings.append(since.databaseMilliseconds)
        }
        if let until = filter.until {
            conditions.append("created_at < ?")
            bindings.append(until.databaseMilliseconds)
        }
        if let pattern = filter.errorPattern {
            conditions.append("last_error IS NOT NULL AND \(db.likeWithoutEscapes("last_error"))")
            bindings.append("%" + pattern + "%")
        }
        if let text = filter.errorEquals {
            conditions.append("last_error IS NOT NULL AND last_error = ?")
            bindings.append(text)
        }
        if let group = filter.errorGroup {
            conditions.append("error_group IS NOT NULL AND error_group = ?")
            bindings.append(group)
        }
        if let ids = filter.ids {
            conditions.append("id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))")
            bindings.append("[" + ids.map(String.init).joined(separator: ",") + "]")
        }
        return (conditions, bindings)
    }

    /// The SQL conditions of an action filter but its kinds, with their bindings.
    static func conditions(of filter: ActionFilter) -> ([String], [any SQLBindable]) {
        var conditions: [String] = []
        var bindings: [any SQLBindable] = []
        if let actor = filter.actor {
            conditions.append("actor = ?")
            bindings.append(actor)
        }
        if let since = filter.since {
            conditions.append("at >= ?")
            bindings.append(since.databaseMilliseconds)
        }
        if let until = filter.until {
            conditions.append("at < ?")
            bindings.append(until.databaseMilliseconds)
        }
        return (conditions, bindings)
    }
}
