import Foundation
import StreamModel

/// Which changes to list; every field defaults to "no constraint", and constraints combine with AND.
public struct ChangeFilter: Sendable, Hashable {
    /// Any of these statuses (empty: any status).
    public var statuses: Set<ChangeStatus>
    /// Exactly this document.
    public var documentID: String?
    /// Exactly this event name.
    public var eventName: EventName?
    /// Stored at or after this time.
    public var since: Date?
    /// Stored before this time.
    public var until: Date?
    /// A SQL LIKE pattern (`%` any text, `_` one character) that must occur somewhere in
    /// `lastError`; ASCII letters match case-insensitively. Changes without an error never match.
    public var errorPattern: String?
    /// Exactly this `lastError`, byte for byte, never a text that merely contains it.
    public var errorEquals: String?
    /// Exactly this failure group (``ErrorGroup/id``): every change whose error has its fingerprint.
    public var errorGroup: String?
    /// Only these ids.
    public var ids: [Int64]?

    /// Makes a filter.
    public init(
        statuses: Set<ChangeStatus> = [], documentID: String? = nil, eventName: EventName? = nil, since: Date? = nil,
        until: Date? = nil, errorPattern: String? = nil, errorEquals: String? = nil, errorGroup: String? = nil,
        ids: [Int64]? = nil
    ) {
        self.statuses = statuses
        self.documentID = documentID
        self.eventName = eventName
        self.since = since
        self.until = until
        self.errorPattern = errorPattern
        self.errorEquals = errorEquals
        self.errorGroup = errorGroup
        self.ids = ids
    }
}
