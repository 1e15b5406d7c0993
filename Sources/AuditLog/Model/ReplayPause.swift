import Foundation
import StreamModel

/// Replay paused because search as a whole is failing.
public struct ReplayPause: Sendable, Hashable {
    /// What failed, in one line.
    public var reason: String
    /// When the outage was first seen.
    public var since: Date
    /// The last pass that found it.
    public var checkedAt: Date

    /// Makes a pause.
    public init(reason: String, since: Date, checkedAt: Date) {
        self.reason = reason
        self.since = since
        self.checkedAt = checkedAt
    }
}
