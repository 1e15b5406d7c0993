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

    /// Seconds until `address` may try again, nil when it may try now.
    func retryAfter(_ address: String, now: Date = Date()) -> Int? {
        failures.withLock { failures in
            let recent = (failures[address] ?? []).filter { now.timeIntervalSince($0) < Self.window }
            failures[address] = recent.isEmpty ? nil : recent
            guard recent.count >= Self.failuresAllowed, let oldest = recent.first else { return nil }
            return max(1, Int((Self.window - now.timeIntervalSince(oldest)).rounded(.up)))
        }
    }

    /// Counts a failed login from `address`.
    func recordFailure(_ address: String, now: Date = Date()) {
        failures.withLock { failures in
            if failures[address] == nil, failures.count >= Self.keptAddresses {
                let stalest = failures.min { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }
                if let stalest { failures[stalest.key] = nil }
            }
            failures[address, default: []].append(now)
        }
    }

    /// Forgets `address`'s failures after a successful login.
    func recordSuccess(_ address: String) {
        failures.withLock { _ = $0.removeValue(forKey: address) }
    }
}
