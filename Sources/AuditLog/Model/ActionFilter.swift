import Foundation
import StreamModel

/// Which actions to list; constraints combine with AND.
public struct ActionFilter: Sendable, Hashable {
    /// Exactly this actor.
    public var actor: String?
    /// Any of these kinds (empty: any kind).
    public var actions: Set<ActionKind>
    /// At or after this time.
    public var since: Date?
    /// Before this time.
    public var until: Date?

    /// Makes a filter.
    public init(actor: String? = nil, actions: Set<ActionKind> = [], since: Date? = nil, until: Date? = nil) {
        self.actor = actor
        self.actions = actions
        self.since = since
        self.until = until
    }
}
