import AuditLog
import Foundation
import Logging
import Reprocessor
import TestSupport
import Testing

/// A reconcile asked for an impossible rate or segment count is refused before a run is recorded:
/// through the executable (exit 2, one line, no signal) and through the library (the façade every
/// front end calls), on a table that has drift, where the old pacing trapped.
@Suite("reconcile: bounded input")
struct ReconcileInputTests {
    /// A world whose table holds two artists the index lacks: drift to repair.
    static func driftedWorld() async throws -> ReprocessorWorld {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("1", name: "Ada")
        try await world.putArtist("2", name: "Bea")
        return world
    }

    static func cli(_ world: ReprocessorWorld, _ arguments: [String]) async throws -> CommandRunner.Output {
        try await CommandRunner.run(ReprocessorExecutable.path, arguments, environment: world.environment())
    }

    static func runRows(_ world: ReprocessorWorld) async throws -> [ReconcileRun] {
        try await AuditLog(path: world.auditDatabasePath).reconcileRuns(limit: 100)
    }

    @Test("reconcile --repair --rate 1e-12, inf, nan or --segments out of range: exit 2, one line, no run row")
    func executableRefusesBadRates() async throws {
        let world = try await Self.driftedWorld()
        for arguments in [
            ["--rate", "1e-12"], ["--rate", "inf"], ["--rate", "nan"], ["--rate", "0"], ["--rate", "10001"],
            ["--rate", "1e300"], ["--segments", "0"], ["--segments", "1001"], ["--segments", "99999999999999999999"],
        ] {
            let output = try await Self.cli(world, ["reconcile", "--repair", "--reason", "bounds"] + arguments)
            #expect(!output.killedBySignal && output.status == 2, "\(arguments): \(output)")
            let lines = output.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(arguments): one line: \(output)")
            #expect(lines.first?.contains(arguments[0]) == true, "\(arguments): names the flag: \(output)")
            let resolve = try await Self.cli(world, ["resolve-expired", "--reason", "bounds"] + arguments)
            #expect(!resolve.killedBySignal && resolve.status == 2, "resolve-expired \(arguments): \(resolve)")
        }
        #expect(try await Self.runRows(world).isEmpty, "no run was recorded")

        let fine = try await world.cli("reconcile", "--repair", "--reason", "bounds", "--rate", "10000")
        #expect(fine.status == 0, "a rate in range repairs the drift: \(fine)")
        #expect(try await Self.runRows(world).first?.repaired == 2)
    }

    @Test("Operations.reconcile with a rate of 1e-12, inf or nan, or 0 segments: refused naming the field, no run row")
    func libraryRefusesBadRequests() async throws {
        let world = try await Self.driftedWorld()
        let settings = try ReprocessorSettings.resolve(.init(), environment: world.environment())
        let reprocessor = try Reprocessor(
            settings: settings, environment: world.environment(),
            logger: Logger(label: "bounds", factory: { _ in SwiftLogNoOpLogHandler() }))
        let operations = try await Operations.open(reprocessor, writingToSearch: true)
        let requests =
            [1e-12, .infinity, -.infinity, .nan, 0, -1, 10_001].map {
                ReconcileRequest(repair: true, actor: "t", reason: "bounds", ratePerSecond: $0)
            }
            + [0, -1, 1001, Int.max, Int.min].map { ReconcileRequest(segments: $0, repair: true, actor: "t", reason: "bounds") }
        for request in requests {
            do {
                _ = try await operations.reconcile(request)
                Issue.record("\(request) was carried out")
            } catch let error as RequestError {
                #expect([.rate, .segments].contains(error.field), "\(request): \(error)")
                #expect(error.description.hasPrefix("\"rate\" ") || error.description.hasPrefix("\"segments\" "), "\(error)")
            }
        }
        #expect(try await Self.runRows(world).isEmpty, "no run was recorded")
        let report = try await operations.reconcile(
            ReconcileRequest(repair: true, actor: "t", reason: "bounds", ratePerSecond: 10_000))
        #expect(report.run.repaired == 2, "the same reconciliation repairs with a rate in range")
    }
}
