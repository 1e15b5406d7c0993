import Synchronization

/// How one round of a replay pass hands over to the next, so that the rounds overlap while the
/// table (the slowest peer) is read back to back.
///
/// A round calls ``gathered()`` once it has read search and the audit log and is about to read
/// the table: the pass then starts the next round's reads. It reads the table only after the
/// round before it has (``awaitTableTurn()``), then ends its turn (``finishTableTurn()``). A
/// round that reads no table, or stops early, still ends its turn, after the round before it.
final class RoundHandoff: Sendable {
    private let next: Signal
    private let previousTurn: Signal?
    /// Fired once this round and every round before it have read the table.
    let turn = Signal()

    /// - Parameters:
    ///   - previous: The handoff of the round started before this one (nil for the first).
    ///   - gathered: Called once, when the pass may start the next round.
    init(after previous: RoundHandoff?, gathered: @escaping @Sendable () -> Void) {
        next = Signal()
        previousTurn = previous?.turn
        next.whenFired(gathered)
    }

    /// The round has read search and the audit log: the next may start reading.
    func gathered() {
        next.fire()
    }

    /// Waits until every round started before this one has read the table.
    func awaitTableTurn() async {
        await previousTurn?.wait()
    }

    /// This round is done with the table: the next may read it once the rounds before are too.
    func finishTableTurn() {
        guard let previousTurn else { return turn.fire() }
        previousTurn.whenFired { [turn] in turn.fire() }
    }

    /// Ends everything this round owes the next (when it stops, whatever happened).
    func finish() {
        gathered()
        finishTableTurn()
    }
}

/// A one-shot event: actions registered before it fires run when it fires; after, at once.
final class Signal: Sendable {
    private let state = Mutex<[@Sendable () -> Void]?>([])

    /// Fires the event (once; later calls do nothing).
    func fire() {
        let waiting = state.withLock { waiting in
            defer { waiting = nil }
            return waiting ?? []
        }
        for action in waiting { action() }
    }

    /// Runs `action` when the event fires, or now if it has.
    func whenFired(_ action: @escaping @Sendable () -> Void) {
        let fired = state.withLock { waiting in
            guard waiting != nil else { return true }
            waiting?.append(action)
            return false
        }
        if fired { action() }
    }

    /// Returns once the event has fired.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            whenFired { continuation.resume() }
        }
    }
}

/// How many documents each round of a replay pass takes, so that a small backlog fills the
/// pipeline as fast as a large one: the first rounds are small (an eighth, a quarter, a half of
/// a full round), so writing starts early, and once every due document is known the last rounds
/// halve, so the last write, which nothing overlaps, is short.
struct RoundSizing: Sendable {
    /// Documents in a full round.
    let full: Int

    /// The size of the next round, or nil to wait for more documents (or none are left).
    /// - Parameters:
    ///   - started: Rounds started so far in this pass.
    ///   - waiting: Documents read and not yet given to a round.
    ///   - lastPage: Whether every due document has been read.
    func next(started: Int, waiting: Int, lastPage: Bool) -> Int? {
        guard waiting > 0 else { return nil }
        let ramp = max(1, full >> max(0, 3 - started))
        guard lastPage else { return waiting >= ramp ? ramp : nil }
        let smallest = max(1, full / 8)
        guard waiting > smallest else { return waiting }
        return min(ramp, max(smallest, (waiting + 1) / 2))
    }
}
