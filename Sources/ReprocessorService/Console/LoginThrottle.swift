import Foundation
import Synchronization

/// Failed console logins, counted per client address: after ``failuresAllowed`` failures within
/// ``window`` an address's next attempts are refused, right token or not, until the oldest
/// failure leaves the window. A successful login forgets the address's failures.
///
/// Behind a reverse proxy every browser arrives from the proxy's address, so they share one count.
final class LoginThrottle: Sendable {
    /// Failed logins an address may make within ``window``.
    static let failuresAllowed = 5
    /// How long a failure counts.
    static let window: TimeInterval = 60
    /// Most addresses remembered; beyond it, those whose last failure is oldest are forgotten.
    static let keptAddresses = 10_000

    private let failures = Mutex<[String: [Date]]>([:])

    /// Admits a login attempt from `address`, or says when it may try again.
    ///
    /// The check and the count are one step: an admitted attempt counts as a failure at once (a
    /// successful login then forgets it, ``recordSuccess(_:)``), so however many attempts arrive
    /// together, at most ``failuresAllowed`` within ``window`` get their token looked at.
    /// - Returns: nil when the attempt may go on; else the seconds until the oldest failure
    ///   leaves the window.
    func admit(_ address: String, now: Date = Date()) -> Int? {
        failures.withLock { failures in
            let recent = (failures[address] ?? []).filter { now.timeIntervalSince($0) < Self.window }
            if recent.count >= Self.failuresAllowed, let oldest = recent.first {
                failures[address] = recent
                return max(1, Int((Self.window - now.timeIntervalSince(oldest)).rounded(.up)))
            }
            if recent.isEmpty, failures[address] == nil, failures.count >= Self.keptAddresses {
                let stalest = failures.min { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }
                if let stalest { failures[stalest.key] = nil }
            }
            failures[address] = recent + [now]
            return nil
        }
    }

    /// Forgets `address`'s failures after a successful login.
    func recordSuccess(_ address: String) {
        failures.withLock { _ = $0.removeValue(forKey: address) }
    }
}
