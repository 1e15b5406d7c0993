/// Spaces work out to at most a given rate, shared by concurrent callers: each call reserves its
/// place first, then sleeps until it comes.
actor RatePacer {
    let interval: Duration?
    var next = ContinuousClock.now

    /// A pacer for `ratePerSecond` operations a second (`nil` or not above 0: no limit).
    init(ratePerSecond: Double?) {
        if let ratePerSecond, ratePerSecond > 0 {
            interval = .nanoseconds(Int64(1e9 / ratePerSecond))
        } else {
            interval = nil
        }
    }

    /// Waits until `count` more operations fit the rate.
    func wait(for count: Int = 1) async {
        guard let interval else { return }
        let now = ContinuousClock.now
        let start = max(next, now)
        next = start + interval * count
        if start > now { try? await Task.sleep(until: start, clock: .continuous) }
    }
}
