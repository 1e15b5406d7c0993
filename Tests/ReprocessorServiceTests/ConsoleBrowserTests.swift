import Foundation
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
    /// by Selenium from PyPI; `scripts/setup.sh` installs them): `Browser/console_flows.py` walks
    /// the operator's flows against a real `serve` and saves a screenshot of every screen under
    /// `.build/console-screenshots/`.
    @Suite("serve: console in a browser")
    struct ConsoleBrowserTests {
        /// The package's root folder.
        static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        @Test("keyboard-only preview, overview, group retry, rollback, forced rollback, phone width, roles, CSRF, escaping")
        func operatorFlows() async throws {
            let fixture = try await ConsoleFixture.start()
            defer { fixture.service.process.stop() }
            let stats = try await fixture.world.cli("stats", "--json")
            #expect(stats.status == 0 || stats.status == 3, "\(stats)")
            let folder = Self.packageRoot.appendingPathComponent(".build/console-screenshots")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let statsFile = folder.appendingPathComponent("stats.json")
            try Data(stats.stdout.utf8).write(to: statsFile)

            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Browser/console_flows.py")
            let output = try await CommandRunner.run(
                "/usr/bin/env",
                [
                    "python3", script.path, "--url", fixture.service.baseURL, "--operator-token", ConsoleFixture.operatorToken,
                    "--reader-token", ConsoleFixture.readerToken, "--stats", statsFile.path, "--screenshots", folder.path,
                ],
                environment: ProcessInfo.processInfo.environment)
            #expect(output.status == 0, "browser flows failed:\n\(output.stdout)\n\(output.stderr)")
            let audit = try await fixture.world.cli("audit", "--actor", "alice", "--format", "json")
            let actions = try JSONValue(parsing: audit.stdout)["actions"]?.arrayValue ?? []
            let kinds = Set(actions.compactMap { $0["action"]?.stringValue })
            #expect(kinds.isSuperset(of: ["retried", "rolled_back"]), "actions recorded under alice: \(kinds)")
            let forced = actions.filter { $0["outcome"]?.stringValue?.contains("(forced)") == true }
            #expect(forced.count == 1, "the forced rollback is recorded once: \(actions)")
        }
    }
}
