import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

/// The executable is deployed alone (copied to `/usr/local/bin`, as the systemd example's install
/// comment says): it must need no resource folder beside it, the migrations being built into it.
@Suite("standalone binary")
struct StandaloneBinaryTests {
    @Test("the executable copied alone into an empty folder runs run --once and serves /ui/login, and holds no resource bundle")
    func copiedAlone() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let executable = folder.appendingPathComponent("dlq-reprocessor")
        try FileManager.default.copyItem(atPath: ReprocessorExecutable.path, toPath: executable.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["dlq-reprocessor"])
        // SwiftPM's resource accessor falls back to the bundle's absolute build path, which a copied
        // binary would still find here: the executable must hold no such accessor at all.
        let bytes = try Data(contentsOf: executable)
        for marker in ["could not load resource bundle", "_AuditLog.resources"] {
            #expect(bytes.range(of: Data(marker.utf8)) == nil, "the executable still reads a resource bundle: \(marker)")
        }

        let world = try await ReprocessorWorld.start()
        try await world.putArtist("1", name: "Alone")
        try await world.send([world.forwardedBody(try await world.streamRecords().map(\.record))])
        let store = folder.appendingPathComponent("audit.sqlite3").path
        let environment = world.environment(["AUDIT_DB": store, "HOME": folder.path])
        let run = try await CommandRunner.run(executable.path, ["run", "--once", "--wait", "0"], environment: environment)
        #expect(!run.killedBySignal && run.status == 0, "\(run)")
        #expect(!run.stderr.contains("resource bundle"), "\(run)")
        let stats = try await CommandRunner.run(executable.path, ["stats", "--json"], environment: environment)
        #expect(try JSONValue(parsing: stats.stdout)["changes"]?["applied"]?.intValue == 1, "\(stats)")

        let (service, url) = try await PeerProcess.start(
            executable: executable.path, arguments: ["serve", "--http", "127.0.0.1:0", "--interval", "1", "--wait", "1"],
            environment: environment.merging(["OPERATOR_TOKENS": "alone:operate:standalone-token-0123456789"]) { $1 },
            readyWhen: { line -> String? in
                guard let start = line.range(of: "dlq-reprocessor serving on ") else { return nil }
                return String(line[start.upperBound...]).trimmingCharacters(in: .whitespaces)
            },
            timeout: .seconds(120))
        defer { service.stop() }
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/ui/login"), timeout: .seconds(60))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        #expect(response.status.code == 200, "\(body)")
        #expect(body.contains("<form"), "\(body)")
    }
}
