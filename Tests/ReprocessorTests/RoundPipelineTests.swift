import Synchronization
import Testing

@testable import Reprocessor

/// How a replay pass cuts its documents into rounds (``RoundSizing``) and how one round hands
/// over to the next (``RoundHandoff``): pure parts, checked without peers.
@Suite("Replay round pipeline")
struct RoundPipelineTests {
    /// The rounds a pass makes of `total` documents all known at once.
    static func rounds(of total: Int, full: Int) -> [Int] {
        let sizing = RoundSizing(full: full)
        var sizes: [Int] = []
        var waiting = total
        while let size = sizing.next(started: sizes.count, waiting: waiting, lastPage: true) {
            sizes.append(size)
            waiting -= size
        }
        return sizes
    }

    @Test("every document is in exactly one round, no round is over full, the first rounds ramp up and the last is small")
    func sizingCoversTheBacklog() {
        for full in [1, 7, 100, 500] {
            for total in Array(1...1200) + [4000, 16001] {
                let sizes = Self.rounds(of: total, full: full)
                #expect(sizes.reduce(0, +) == total, "full \(full), total \(total): \(sizes)")
                #expect(sizes.allSatisfy { (1...full).contains($0) }, "full \(full), total \(total): \(sizes)")
                for (index, size) in sizes.prefix(3).enumerated() {
                    #expect(size <= max(1, full >> (3 - index)), "full \(full), total \(total): \(sizes)")
                }
                #expect(sizes.last! <= max(1, full / 8), "full \(full), total \(total): \(sizes)")
                if total >= 4 * full { #expect(sizes.contains(full), "full \(full), total \(total): \(sizes)") }
            }
        }
        #expect(Self.rounds(of: 1000, full: 500) == [62, 125, 250, 282, 141, 70, 62, 8])
    }

    @Test("until every due document is read, a round waits for enough documents to fill its size")
    func sizingWaitsForPages() {
        let sizing = RoundSizing(full: 500)
        #expect(sizing.next(started: 0, waiting: 61, lastPage: false) == nil)
        #expect(sizing.next(started: 0, waiting: 62, lastPage: false) == 62)
        #expect(sizing.next(started: 3, waiting: 499, lastPage: false) == nil)
        #expect(sizing.next(started: 3, waiting: 900, lastPage: false) == 500)
        #expect(sizing.next(started: 9, waiting: 0, lastPage: true) == nil)
    }

    @Test("a round's table turn ends only after the turns of every round before it, even when it reads no table")
    func tableTurnsFollowTheRoundOrder() async {
        let started = Mutex<[Int]>([])
        let first = RoundHandoff(after: nil) { started.withLock { $0.append(2) } }
        let second = RoundHandoff(after: first) { started.withLock { $0.append(3) } }
        let third = RoundHandoff(after: second) { started.withLock { $0.append(4) } }
        let turns = Mutex<[Int]>([])
        for (number, handoff) in [(1, first), (2, second), (3, third)] {
            handoff.turn.whenFired { turns.withLock { $0.append(number) } }
        }
        // The third round stops early and the second gathers: neither may end its turn before the first.
        third.finish()
        second.gathered()
        second.gathered()
        #expect(started.withLock { $0 } == [4, 3])
        #expect(turns.withLock { $0 }.isEmpty)
        let secondReads = Task {
            await second.awaitTableTurn()
            second.finishTableTurn()
        }
        first.finish()
        await secondReads.value
        #expect(turns.withLock { $0 } == [1, 2, 3])
        #expect(started.withLock { $0 } == [4, 3, 2])
    }
}
