import Foundation
import StreamModel

/// A row of the append-only actions table.
public struct ActionRecord: Sendable, Hashable {
    /// The action's id (consecutive: the chain order).
    public var id: Int64
    /// The change it concerns.
    public var changeID: Int64?
    /// The message it concerns.
    public var messageID: String?
    /// What happened.
    public var action: ActionKind
    /// Who did it: `system` or an operator's name.
    public var actor: String
    /// Why.
    public var reason: String?
    /// What came of it.
    public var outcome: String
    /// The search server's response, if any.
    public var response: String?
    /// When.
    public var at: Date
    /// Hex SHA-256 of the previous action's hash and this row (see `ActionChain`).
    public var hash: String

    /// Makes a record from its fields.
    public init(
        id: Int64, changeID: Int64?, messageID: String?, action: ActionKind, actor: String, reason: String?, outcome: String,
        response: String?, at: Date, hash: String
    ) {
        self.id = id
        self.changeID = changeID
        self.messageID = messageID
        self.action = action
        self.actor = actor
        self.reason = reason
        self.outcome = outcome
        self.response = response
        self.at = at
        self.hash = hash
    }
}
