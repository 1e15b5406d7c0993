import Foundation

/// How many more messages a drain may receive, shared by its receivers.
actor MessageBudget {
    private var left: Int?
    private var drained = false
    /// When receives started coming back empty while the queue counted visible messages.
    private var emptySince: ContinuousClock.Instant?

    init(limit: Int?) { left = limit }

    /// Claims up to `wanted` messages; 0 when the budget is spent or the queue was found empty.
    func claim(upTo wanted: Int) -> Int {
        if drained { return 0 }
        guard let current = left else { return wanted }
        let granted = min(current, wanted)
        left = current - granted
        return granted
    }

    /// Returns what a receive did not use.
    func giveBack(_ count: Int) {
        if let current = left { left = current + count }
    }

    /// Records that a receive came back empty: the other receivers stop too.
    func markDrained() { drained = true }

    /// Notes an empty receive made while the queue may still hold visible messages.
    /// - Returns: How long receives have come back empty since messages last came.
    func noteEmptyReceive(at now: ContinuousClock.Instant) -> Duration {
        let since = emptySince ?? now
        emptySince = since
        return now - since
    }

    /// Notes a receive that brought messages: empty receives count from scratch again.
    func noteMessagesReceived() { emptySince = nil }
}

/// Totals across concurrent receivers.
actor RunningTotals {
    private(set) var value = IngestSummary()

    func add(_ summary: IngestSummary) -> IngestSummary {
        value.add(summary)
        return value
    }
}
