import Foundation
import StreamModel

/// The lease row as stored: who holds it, since when, its epoch.
public struct LeaseState: Sendable, Hashable {
    /// The lease.
    public var name: String
    /// The last holder.
    public var holder: String
    /// The epoch of the last take-over.
    public var epoch: Int64
    /// When the holder took it.
    public var acquiredAt: Date
    /// When the holder last renewed it.
    public var renewedAt: Date?
    /// Until when it counts as held without a renewal (its last renewal, or take-over, plus its time to live).
    public var expiresAt: Date
    /// When the holder gave it up; nil while held.
    public var releasedAt: Date?

    /// Makes a state.
    public init(
        name: String, holder: String, epoch: Int64, acquiredAt: Date, renewedAt: Date?, expiresAt: Date, releasedAt: Date?
    ) {
        self.name = name
        self.holder = holder
        self.epoch = epoch
        self.acquiredAt = acquiredAt
        self.renewedAt = renewedAt
        self.expiresAt = expiresAt
        self.releasedAt = releasedAt
    }

    /// Whether someone holds it at `now`: not released, renewed within its time to live.
    public func isHeld(at now: Date) -> Bool { releasedAt == nil && expiresAt > now }
}
