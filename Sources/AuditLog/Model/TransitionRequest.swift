import Foundation
import StreamModel

/// One move of ``AuditLog/transitions(_:at:)``: the arguments of ``AuditLog/transition(_:to:expecting:update:action:at:)``.
public struct TransitionRequest: Sendable, Hashable, Codable {
    /// The change.
    public var id: Int64
    /// Its new status.
    public var to: ChangeStatus
    /// The statuses the caller believes the change is in (nil: any).
    public var expecting: Set<ChangeStatus>?
    /// Attempts, due time and last error to set along the way.
    public var update: ChangeUpdate
    /// The action to record.
    public var action: ActionEntry

    /// Makes a request.
    /// - Parameters:
    ///   - id: The change.
    ///   - to: Its new status.
    ///   - expecting: The statuses the caller believes the change is in.
    ///   - update: Attempts, due time and last error to set along the way.
    ///   - action: The action to record.
    public init(
        _ id: Int64, to: ChangeStatus, expecting: Set<ChangeStatus>? = nil, update: ChangeUpdate = .init(), action: ActionEntry
    ) {
        self.id = id
        self.to = to
        self.expecting = expecting
        self.update = update
        self.action = action
    }
}
