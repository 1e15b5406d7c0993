import Foundation
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// `serve --backup-dir … --backup-every … --backup-keep …` (issue 30): verified copies on a
    /// schedule, the newest kept, metrics of the last success and of failures.
    @Suite("serve: scheduled backups")
    struct ScheduledBackupTests {
        static func copies(in folder: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { $0.hasPrefix("dlq-audit-") && $0.hasSuffix(".sqlite3") }.sorted()
        }

        @Test("copies are taken every interval, each verifies, only the newest are kept, and the metric follows")
        func rotation() async throws {
            let world = try await ReprocessorWorld.start()
            for id in 1...3 { try await world.putArtist("\(id)", name: "Artist \(id)") }
            try await world.send([world.forwardedBody(try await world.streamRecords().map(\.record))])
            let folder = world.directory.appendingPathComponent("backups").path
            let started = Date().timeIntervalSince1970.rounded(.down)
            let service = try await RunningService.start(
                world, arguments: ["--backup-dir", folder, "--backup-every", "1s", "--backup-keep", "2"])
            try await service.eventually("a first scheduled backup") { !Self.copies(in: folder).isEmpty }
            let first = try #require(Self.copies(in: folder).first)
            // Rotation: the first copy is removed once two newer ones exist.
            try await service.eventually("the oldest copy rotated out") {
                let names = Self.copies(in: folder)
                return !names.contains(first) && names.count == 2
            }
            #expect(Self.copies(in: folder).count <= 2)
            let last = try #require(try await service.metric("dlq_backup_last_success_timestamp_seconds"))
            #expect(last >= started)
            #expect(try await service.metric("dlq_backup_failures_total") == 0)
            var status = stat()
            #expect(stat(folder, &status) == 0 && status.st_mode & 0o777 == 0o700)
            for name in Self.copies(in: folder) {
                let path = (folder as NSString).appendingPathComponent(name)
                let verify = try await world.cli("verify", "--json", environment: ["AUDIT_DB": path])
                // A copy taken while serve is running: it may still be renamed away by the next
                // rotation, so only a copy that is still there must verify.
                guard FileManager.default.fileExists(atPath: path) else { continue }
                #expect(verify.status == 0, "\(name): \(verify)")
            }
            #expect(service.process.recentOutput.contains { $0.contains("backup ") && $0.contains("verified") })
        }

        @Test("a failing backup is logged and counted, and ingest goes on")
        func failuresAreCounted() async throws {
            let world = try await ReprocessorWorld.start()
            // The folder is a file: every backup fails (set by the environment, as a deployment would).
            let notAFolder = world.directory.appendingPathComponent("not-a-folder").path
            try Data("x".utf8).write(to: URL(fileURLWithPath: notAFolder))
            let service = try await RunningService.start(
                world, environment: ["DLQ_BACKUP_DIR": notAFolder, "DLQ_BACKUP_EVERY": "1s", "DLQ_BACKUP_KEEP": "3"])
            try await service.eventually("two failed backups counted") {
                (try await service.metric("dlq_backup_failures_total") ?? 0) >= 2
            }
            #expect(try await service.metric("dlq_backup_last_success_timestamp_seconds") == nil)
            #expect(service.process.recentOutput.contains { $0.contains("scheduled backup into \(notAFolder) failed") })
            try await world.putArtist("1", name: "Artist 1")
            try await world.send([world.forwardedBody(try await world.streamRecords().map(\.record))])
            try await service.eventually("the change is applied while backups fail") {
                try await world.liveDocument("1") != nil
            }
        }

        @Test("a bad schedule is a usage error naming the flag")
        func badSchedule() async throws {
            let world = try await ReprocessorWorld.start()
            let output = try await world.cli(
                "serve", "--http", "127.0.0.1:0", "--backup-dir", world.directory.path, "--backup-every", "soon")
            #expect(output.status == 2, "\(output)")
            #expect(output.stderr.contains("--backup-every"), "\(output.stderr)")
        }
    }
}
