import Foundation
import StreamModel

/// An action a caller asks to append.
public struct ActionEntry: Sendable, Hashable, Codable {
    /// What happened.
    public var action: ActionKind
    /// Who did it.
    public var actor: String
    /// Why.
    public var reason: String?
    /// What came of it.
    public var outcome: String
    /// The search server's response, if any.
    public var response: String?

    /// Makes an entry.
    public init(action: ActionKind, actor: String = "system", reason: String? = nil, outcome: String, response: String? = nil) {
        self.action = action
        self.actor = actor
        self.reason = reason
        self.outcome = outcome
        self.response = response
    }
}
