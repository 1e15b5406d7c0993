import AuditLog
import Foundation
import TestSupport
import Testing

/// The executable's flags through the bounded input layer: out of range or malformed is exit 2
/// with one line naming the flag, never a trap and never a usage dump.
@Suite("command line: bounded input")
struct CommandLineInputTests {
    @Test("times, ages, limits, ids, rates and cursors out of range: exit 2, one line naming the flag")
    func refusals() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("audit.sqlite3").path
        _ = try AuditLog(path: store)
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": folder.path, "AUDIT_DB": store,
        ]
        func run(_ arguments: [String]) async throws -> CommandRunner.Output {
            try await CommandRunner.run(ReprocessorExecutable.path, arguments, environment: environment)
        }
        let longCursor = String(repeating: "A", count: 600)
        let cases: [([String], String)] = [
            (["list", "--since", "1e300d"], "--since"), (["list", "--until", "99999999999999999999d"], "--until"),
            (["list", "--since", "inf" + "d"], "--since"), (["list", "--since", "1969-12-31T23:59:59Z"], "--since"),
            (["list", "--limit", "0"], "--limit"), (["list", "--limit", "1001"], "--limit"),
            (["list", "--limit", "99999999999999999999"], "--limit"), (["list", "--cursor", "garbage"], "--cursor"),
            (["list", "--cursor", longCursor], "--cursor"), (["history", "1", "--at", "1e300d"], "--at"),
            (["audit", "--since", "1e300s"], "--since"), (["audit", "--until", "-5m"], "--until"),
            (["audit", "--limit", "0"], "--limit"), (["show", "0"], "change id"),
            (["show", "99999999999999999999"], "<id>"), (["quarantined", "--limit", "0"], "--limit"),
            (["quarantined", "--cursor", "q:1:x"], "--cursor"), (["batches", "--limit", "1001"], "--limit"),
            (["batches", "--cursor", "garbage"], "--cursor"), (["retry", "0"], "<ids>"),
            (["retry", "1", "--rate", "inf"], "--rate"), (["retry", "--since", "1e300d"], "--since"),
            (["skip", "1", "--reason", "r", "--rate", "1e-12"], "--rate"), (["skip-batch", "0", "--reason", "r"], "<ids>"),
        ]
        for (arguments, flag) in cases {
            let output = try await run(arguments)
            #expect(!output.killedBySignal && output.status == 2, "\(arguments): \(output)")
            let lines = output.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(arguments): one line: \(output)")
            #expect(lines.first?.contains(flag) == true, "\(arguments): names \(flag): \(output)")
        }
        let fine = try await run(["list", "--since", "2d", "--until", "9999-12-31", "--limit", "1000"])
        #expect(fine.status == 0, "in range passes: \(fine)")
    }
}
