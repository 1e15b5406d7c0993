import AuditLog
import Foundation
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
    /// by Selenium from PyPI; `scripts/setup.sh` installs them): `Browser/console_flows.py` walks
    /// the operator's flows against a real `serve` at 1280 and 390 px and saves a screenshot of
    /// every screen under `.build/console-screenshots/` (`docs/console/` holds the committed ones).
    @Suite("serve: console in a browser")
    struct ConsoleBrowserTests {
        /// The package's root folder.
        static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        /// The message an older parser quarantined although its body reads now (re-ingested by the flows).
        static let oldQuarantinedID = "old-parser-4"
        static let correlationID = "corr-cleo-4"

        @Test(
            "keyboard-only preview, overview with charts and refresh, newest first with totals, search, nested diff, group retry, rollback, forced rollback, quarantine delete and re-ingest, both widths, roles, CSRF, escaping"
        )
        func operatorFlows() async throws {
            let fixture = try await ConsoleFixture.start()
            defer { fixture.service.process.stop() }
            let world = fixture.world
            // Artist 1 renamed and given a second style: a MODIFY the running serve ingests and applies,
            // whose diff has a changed field and an added array element.
            try await world.putArtist("1", name: "Ada Renamed", styles: ["blackwork", "dotwork"])
            let records = try await world.streamRecords()
            let modify = try #require(records.last)
            try await world.send([world.forwardedBody([modify.record])])
            try await fixture.service.eventually("the MODIFY of artist 1 applied") {
                let (_, list) = try await world.cliJSON("list", "--key", "1", "--status", "applied")
                return list?["changes"]?.arrayValue?.count == 2
            }
            // A message an older parser quarantined although its body reads now: artist 4's INSERT.
            try await world.putArtist("4", name: "Cleo Requeued")
            let insert = try #require(try await world.streamRecords().last)
            let log = try AuditLog(path: world.auditDatabasePath)
            let now = Date()
            _ = try await log.ingest(
                [
                    NewMessage(
                        messageID: Self.oldQuarantinedID,
                        body: world.forwardedBody([insert.record], correlationID: Self.correlationID),
                        format: .unrecognized, correlationID: Self.correlationID, receivedAt: now,
                        disposition: .quarantined(reason: "not a DLQ envelope this version knows (before the fix)"))
                ], at: now)

            let stats = try await world.cli("stats", "--json")
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
                    "--quarantined-id", Self.oldQuarantinedID, "--correlation-id", Self.correlationID,
                ],
                environment: ProcessInfo.processInfo.environment)
            #expect(output.status == 0, "browser flows failed:\n\(output.stdout)\n\(output.stderr)")
            let audit = try await world.cli("audit", "--actor", "alice", "--format", "json")
            let actions = try JSONValue(parsing: audit.stdout)["actions"]?.arrayValue ?? []
            let kinds = Set(actions.compactMap { $0["action"]?.stringValue })
            #expect(
                kinds.isSuperset(of: ["retried", "rolled_back", "deleted", "reingested"]),
                "actions recorded under alice: \(kinds)")
            let forced = actions.filter { $0["outcome"]?.stringValue?.contains("(forced)") == true }
            #expect(forced.count == 1, "the forced rollback is recorded once: \(actions)")
            // The re-ingested message's change is stored, and the chain and every row still verify.
            let (_, artist4) = try await world.cliJSON("list", "--key", "4")
            #expect(artist4?["changes"]?.arrayValue?.count == 1, "artist 4's change is stored: \(String(describing: artist4))")
            let verify = try await world.cli("verify")
            #expect(verify.status == 0, "\(verify)")
        }
    }
}
