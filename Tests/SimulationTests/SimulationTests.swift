import Foundation
import Synchronization
import Testing

@testable import Reprocessor

/// The deterministic simulation of the write engine (docs/simulation.md): seeds, replay of one
/// seed, shrinking, and proof that each invariant bites.
///
/// Environment (`scripts/simulate.sh` sets it): `SIMULATION_SEEDS` (how many, default 1000),
/// `SIMULATION_FROM` (first seed, default 1), `SIMULATION_SEED` with `SIMULATION_STEPS` (one seed,
/// optionally only the listed step indexes) and `SIMULATION_TRACE=1` (print every step).
@Suite("Deterministic simulation of the write engine", .serialized)
struct SimulationTests {
    static let environment = ProcessInfo.processInfo.environment

    /// The violations of one seed (with the steps kept, nil: all).
    static func violations(seed: UInt64, keep: Set<Int>? = nil, echo: Bool = false) async throws -> [String] {
        try await Simulation(seed: seed, keep: keep, echo: echo).run()
    }

    /// The smallest set of steps of `seed` that still fails, found by dropping steps one at a
    /// time (and keeping each drop after which it still fails).
    static func shrink(seed: UInt64) async throws -> [Int] {
        var kept = Array(Step.schedule(seed: seed).indices)
        var position = kept.count - 1
        while position >= 0 {
            var trial = kept
            trial.remove(at: position)
            if try await !violations(seed: seed, keep: Set(trial)).isEmpty { kept = trial }
            position -= 1
        }
        return kept
    }

    /// Runs `count` seeds from `first`; on the first failure reports the seed, its violations and
    /// its shortest failing schedule.
    /// - Returns: The failing seed, if any.
    static func sweep(first: UInt64, count: Int, report: Bool) async throws -> UInt64? {
        let started = ContinuousClock.now
        for seed in first..<(first + UInt64(count)) {
            let found = try await violations(seed: seed)
            guard found.isEmpty else {
                guard report else { return seed }
                let kept = try await shrink(seed: seed)
                let schedule = Step.schedule(seed: seed)
                let steps = kept.map { "  [\($0)] \(schedule[$0])" }.joined(separator: "\n")
                let line =
                    "simulation seed \(seed) fails:\n  \(found.joined(separator: "\n  "))\n"
                    + "shortest failing schedule (\(kept.count) of \(schedule.count) steps):\n\(steps)\n"
                    + "replay: scripts/simulate.sh --seed \(seed) --steps \(kept.map(String.init).joined(separator: ",")) --trace"
                print(line)
                Issue.record(Comment(rawValue: line))
                return seed
            }
        }
        let seconds = Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000
        if report {
            print(
                "simulation: \(count) seeds (\(first)…\(first + UInt64(count) - 1)) in "
                    + String(format: "%.1f s, %.0f seeds/s", seconds, Double(count) / max(seconds, 0.001)))
        }
        return nil
    }

    @Test("every invariant holds for every seed")
    func seeds() async throws {
        #if DEBUG
            if let names = Self.environment["SIMULATION_MUTATION"] {
                let mutations = try names.split(separator: ",").map { name in
                    try #require(EngineMutation(rawValue: String(name)), "no mutation \(name)")
                }
                try await EngineMutation.$current.withValue(Set(mutations)) { try await sweepOrReplay() }
                return
            }
        #endif
        try await sweepOrReplay()
    }

    /// One seed (`SIMULATION_SEED`) or a sweep.
    func sweepOrReplay() async throws {
        if let seed = Self.environment["SIMULATION_SEED"].flatMap(UInt64.init) {
            let keep = Self.environment["SIMULATION_STEPS"].map { Set($0.split(separator: ",").compactMap { Int($0) }) }
            let found = try await Self.violations(
                seed: seed, keep: keep, echo: Self.environment["SIMULATION_TRACE"] == "1")
            print(found.isEmpty ? "simulation seed \(seed): every invariant holds" : found.joined(separator: "\n"))
            #expect(found.isEmpty, "seed \(seed)")
            return
        }
        let first = Self.environment["SIMULATION_FROM"].flatMap(UInt64.init) ?? 1
        let count = Self.environment["SIMULATION_SEEDS"].flatMap(Int.init) ?? 1000
        _ = try await Self.sweep(first: first, count: count, report: true)
    }

    @Test("a seed replays exactly: the same trace step for step")
    func replaysExactly() async throws {
        for seed: UInt64 in [7, 42] {
            let first = try Simulation(seed: seed, tracing: true)
            _ = try await first.run()
            let second = try Simulation(seed: seed, tracing: true)
            _ = try await second.run()
            let traces = (first.world.state.withLock { $0.trace }, second.world.state.withLock { $0.trace })
            #expect(traces.0.count > 20)
            #expect(traces.0 == traces.1)
        }
    }

    #if DEBUG
        /// How many seeds a mutation gets to be caught in.
        static let mutationBound = 1500

        /// The invariant each mutation breaks.
        static func invariant(brokenBy mutation: EngineMutation) -> SimWorld.Invariant {
            switch mutation {
            case .ignoreFloors: .forward
            case .coalesceOldest: .clean
            case .skipLandedCheck, .rereadFailureAsConflict, .skipShownWrites: .oneAction
            case .decideOnStaleChanges: .twice
            case .ignoreIdempotence: .twice
            case .supersedeNewest: .lost
            case .filterReachesClosed: .filter
            case .stealOwnClaims, .unclaimedOnSQLite: .exclusive
            }
        }

        /// The mutations in effect to bring `mutation`'s defect back: itself, and for a stale
        /// decision claims undone too. A rollback can land between a task's 409 and its re-decision
        /// only when that task's claim expired mid-round (documented in docs/simulation.md), which
        /// the seeds reach too rarely for a bounded search; without claims they reach it as found.
        static func mutations(bringingBack mutation: EngineMutation) -> Set<EngineMutation> {
            mutation == .decideOnStaleChanges ? [mutation, .unclaimedOnSQLite] : [mutation]
        }

        @Test(
            "each mutation of the engine is caught, as the invariant it breaks, within a bounded number of seeds",
            arguments: EngineMutation.allCases)
        func mutationIsCaught(_ mutation: EngineMutation) async throws {
            let expected = Self.invariant(brokenBy: mutation)
            let caught = try await EngineMutation.$current.withValue(Self.mutations(bringingBack: mutation)) {
                () async throws -> UInt64? in
                for seed in 1...UInt64(Self.mutationBound)
                where try await Self.violations(seed: seed).contains(where: { $0.contains("[\(expected.rawValue)]") }) {
                    return seed
                }
                return nil
            }
            print(
                "simulation: mutation \(mutation.rawValue) caught as [\(expected.rawValue)] by seed \(caught.map(String.init) ?? "none")"
            )
            #expect(caught != nil, "mutation \(mutation.rawValue) not caught within \(Self.mutationBound) seeds")
        }

        /// The seeds that found defects, each with the mutations that bring its defect back and
        /// the invariant it then breaks. Seeds 174 and 1520 bring theirs back with claims undone
        /// too: since document claims came to SQLite (0019) a rollback can no longer land inside
        /// another task's round on the same document, so claims hide those interleavings, and the
        /// fix must still hold without them (a task whose claim expired mid-round). Where a change
        /// of the engine's round sizes (a pass's first rounds ramp up) gave a seed another schedule,
        /// a seed that meets the same defect now stands in for it: 113 for 56, 1520 for 5210, and 2
        /// for 6270 (its missing claim, caught as two tasks writing one document).
        static let regressions: [(seed: UInt64, defect: Set<EngineMutation>, breaks: SimWorld.Invariant)] = [
            (113, [.skipShownWrites], .oneAction),
            (107, [.skipShownWrites], .oneAction),
            (174, [.decideOnStaleChanges, .unclaimedOnSQLite], .twice),
            (1520, [.decideOnStaleChanges, .unclaimedOnSQLite], .clean),
            (2, [.unclaimedOnSQLite], .exclusive),
        ]

        @Test(
            "the seeds that found defects hold, and fail again with their defect brought back",
            arguments: [0, 1, 2, 3, 4])
        func regression(_ index: Int) async throws {
            let (seed, defect, expected) = Self.regressions[index]
            #expect(try await Self.violations(seed: seed).isEmpty)
            let again = try await EngineMutation.$current.withValue(defect) { try await Self.violations(seed: seed) }
            #expect(
                again.contains { $0.contains("[\(expected.rawValue)]") },
                "seed \(seed) with \(defect.map(\.rawValue).sorted()): \(again)")
        }

        @Test("the simulation runs every invariant it claims (each mutation's tag is a known invariant)")
        func everyInvariantHasItsMutation() {
            let covered = Set(EngineMutation.allCases.map { Self.invariant(brokenBy: $0) })
            // The chain is the store's (AuditLog), which no engine mutation can break.
            #expect(covered == Set(SimWorld.Invariant.allCases).subtracting([.chain]))
        }
    #endif
}
