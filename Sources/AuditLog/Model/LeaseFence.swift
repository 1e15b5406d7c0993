import Foundation
import StreamModel

/// A holder's proof that it holds a run lease: writes made with it are refused once
/// another holder has taken the lease over (the epoch moved on) or it was released.
public struct LeaseFence: Sendable, Hashable, CustomStringConvertible {
    /// The lease, e.g. `run`.
    public var name: String
    /// The holder id (unique per process start).
    public var holder: String
    /// The lease's epoch when this holder took it; every take-over increments it.
    public var epoch: Int64

    /// Makes a fence.
    public init(name: String, holder: String, epoch: Int64) {
        self.name = name
        self.holder = holder
        self.epoch = epoch
    }

    /// `holder (epoch n)`.
    public var description: String { "\(holder) (epoch \(epoch))" }
}
