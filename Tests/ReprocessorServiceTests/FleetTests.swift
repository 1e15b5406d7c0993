import AWSClients
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// Three `serve` processes sharing one PostgreSQL store, one of them killed with -9 in the
    /// middle of replay.
    @Suite("serve: a fleet on one PostgreSQL store")
    struct FleetTests {
        static let artists = 2_000
        /// Changes per artist: an INSERT and two MODIFYs.
        static let revisions = 3

        @Test("three serves share the work; one killed with -9 loses nothing, order holds, search equals the table")
        func fleetSurvivesAKill() async throws {
            let world = try await ReprocessorWorld.start(visibilityTimeoutSeconds: 5)
            let database = try await SharedPostgresServer.newDatabase()
            let postgres = try await SharedPostgresServer.shared()
            let databaseName = try #require(URL(string: database)?.path.split(separator: "/").last.map(String.init))
            // Every write to search goes through the proxy: it records them in arrival order, and
            // slows each request a little so the kill lands in the middle of replay.
            let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
            defer { proxy.stop() }
            try await Self.seed(world)

            let environment = [
                "AUDIT_DB": database, "OPENSEARCH_ENDPOINT": proxy.url.absoluteString,
                "DLQ_LEASE_TTL": "4", "DLQ_BATCH_DOCUMENTS": "50",
            ]
            proxy.delayNext(100_000, by: .milliseconds(40))
            var workers: [RunningService] = []
            defer { for worker in workers { worker.process.stop() } }
            // Two workers replay first; once replay is well under way, a third starts and is held
            // in its first round, its documents claimed and their write intents recorded. Its
            // claims are read the moment it is held (they expire after its DLQ_LEASE_TTL of 15 s,
            // and the others may then take them; a load-bound 4 s let them, in CI), and then it is
            // killed: a kill provably leaves claimed documents with work due, whatever the load.
            for _ in 0..<2 { workers.append(try await RunningService.start(world, environment: environment)) }
            try await workers[0].eventually("replay is under way", timeout: .seconds(120)) {
                proxy.requests(method: "POST", pathContaining: "_bulk").count >= 6
            }
            let resume = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-hold-\(UUID().uuidString)").path
            let victim = try await RunningService.start(
                world,
                environment: environment.merging([
                    "DLQ_TEST_PAUSE_AT": "before-write", "DLQ_TEST_RESUME_FILE": resume, "DLQ_LEASE_TTL": "15",
                ]) {
                    _, held in held
                })
            workers.append(victim)
            try await victim.eventually("the third worker is held mid-round", timeout: .seconds(120)) {
                FileManager.default.fileExists(atPath: resume + ".paused")
            }
            let held = try await postgres.psql(
                "SELECT document_id FROM document_claims WHERE holder LIKE '%:\(victim.process.pid)/%' AND expires_at > 0",
                database: databaseName
            ).split(separator: "\n").map(String.init)
            victim.process.send(signal: SIGKILL)
            _ = await victim.process.waitForExit(timeout: .seconds(30))
            let list = held.map { "'\($0)'" }.joined(separator: ",")
            // Those with work still due when it died (the others it had recorded, but not yet released).
            let heldWithWork =
                held.isEmpty
                ? []
                : try await postgres.psql(
                    "SELECT DISTINCT document_id FROM changes WHERE status IN ('pending', 'failed') AND document_id IN (\(list))",
                    database: databaseName
                ).split(separator: "\n").map(String.init)

            // The two left finish everything.
            let survivor = workers[0]
            try await survivor.eventually("every change is settled", timeout: .seconds(240)) {
                let open = try await postgres.psql(
                    "SELECT count(*) FROM changes WHERE status IN ('pending', 'failed')", database: databaseName)
                let stored = try await postgres.psql("SELECT count(*) FROM changes", database: databaseName)
                return open == "0" && stored == String(Self.artists * Self.revisions)
            }
            proxy.clearFaults()

            // Both survivors replayed a share (the killed one was in the middle of its first round).
            for (number, worker) in workers.enumerated().dropLast() {
                let replayed = worker.process.recentOutput.filter {
                    $0.contains("replayed: ") && !$0.contains("replayed: 0 writes")
                }
                #expect(!replayed.isEmpty, "worker \(number) wrote nothing to search")
            }

            // Nothing lost, nothing stored twice.
            let counts = try await postgres.psql(
                "SELECT count(*), count(DISTINCT event_id), count(DISTINCT document_id) FROM changes", database: databaseName)
            #expect(counts == "\(Self.artists * Self.revisions)|\(Self.artists * Self.revisions)|\(Self.artists)")
            let statuses = try await postgres.psql(
                "SELECT string_agg(DISTINCT status, ',' ORDER BY status) FROM changes", database: databaseName)
            #expect(statuses == "applied" || statuses == "applied,superseded", "\(statuses)")
            #expect(try await world.queueDepth() == 0)

            // The killed worker held documents with work due when it died; the others claimed them and finished them.
            #expect(!heldWithWork.isEmpty, "the killed worker held \(held.count) documents, none with work due")
            if !heldWithWork.isEmpty {
                let taken = try await postgres.psql(
                    """
                    SELECT count(*) FROM document_claims
                    WHERE document_id IN (\(heldWithWork.map { "'\($0)'" }.joined(separator: ","))) AND holder IS NULL AND epoch >= 2
                    """, database: databaseName)
                #expect(taken == String(heldWithWork.count), "claims taken over and released: \(taken) of \(heldWithWork.count)")
            }

            // Per document, the writes search received never go back in sequence.
            var written: [String: [String]] = [:]
            for request in proxy.requests(method: "POST", pathContaining: "_bulk") where request.injectedStatus == nil {
                for (id, sequence) in Self.indexWrites(in: request.bodyText) { written[id, default: []].append(sequence) }
            }
            let backwards = written.filter { _, sequences in
                zip(sequences, sequences.dropFirst()).contains { Self.isBefore($1, $0) }
            }
            #expect(backwards.isEmpty, "\(backwards.prefix(3))")
            #expect(written.count == Self.artists)

            // Search equals the table.
            let ids = (0..<Self.artists).map(String.init)
            var mismatched: [String] = []
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                let live = try await world.openSearch.multiGet(index: world.index, ids: chunk)
                for id in chunk {
                    let expected = world.expectedContent(Self.item(id, revision: Self.revisions))
                    if live[id].map({ ReprocessorWorld.content($0.source) }) != expected { mismatched.append(id) }
                }
            }
            #expect(mismatched.isEmpty, "\(mismatched.count) documents differ from the table, e.g. \(mismatched.prefix(5))")

            // The chain, appended to by three workers, verifies.
            let verify = try await world.cli("verify", environment: ["AUDIT_DB": database])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }

        @Test("PostgreSQL restarted in the middle of replay: serve waits it out, run --once fails in one line, nothing is lost")
        func postgresRestart() async throws {
            let world = try await ReprocessorWorld.start(visibilityTimeoutSeconds: 5)
            // A server of its own: this test stops it.
            let postgres = try await PostgresServer.start()
            defer { postgres.stop() }
            try await postgres.psql("CREATE DATABASE restart")
            let database = postgres.url(database: "restart")
            let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
            defer { proxy.stop() }
            let artists = 300
            try await Self.seed(world, artists: artists)
            proxy.delayNext(100_000, by: .milliseconds(100))
            let environment = [
                "AUDIT_DB": database, "OPENSEARCH_ENDPOINT": proxy.url.absoluteString, "DLQ_BATCH_DOCUMENTS": "20",
            ]
            let worker = try await RunningService.start(world, environment: environment)
            defer { worker.process.stop() }
            try await worker.eventually("replay is under way", timeout: .seconds(120)) {
                proxy.requests(method: "POST", pathContaining: "_bulk").count >= 3
            }

            try await postgres.stopForNow()
            let cron = try await world.cli("run", "--once", environment: ["AUDIT_DB": database])
            #expect(cron.status != 0)
            let errorLines = cron.stderr.split(separator: "\n").filter { $0.contains("error") }
            #expect(errorLines.count == 1 && errorLines[0].contains("PostgreSQL"), "\(cron.stderr)")
            try await worker.eventually("serve reports the outage", timeout: .seconds(30)) {
                worker.process.recentOutput.contains { $0.contains("error") && $0.contains("PostgreSQL") }
            }
            #expect(worker.process.isRunning)
            try await postgres.startAgain()

            try await worker.eventually("every change is settled after the restart", timeout: .seconds(240)) {
                let open = try await postgres.psql(
                    "SELECT count(*) FROM changes WHERE status IN ('pending', 'failed')", database: "restart")
                let stored = try await postgres.psql("SELECT count(*) FROM changes", database: "restart")
                return open == "0" && stored == String(artists * Self.revisions)
            }
            let counts = try await postgres.psql(
                "SELECT count(*), count(DISTINCT event_id) FROM changes", database: "restart")
            #expect(counts == "\(artists * Self.revisions)|\(artists * Self.revisions)")
            #expect(try await world.queueDepth() == 0)
            let live = try await world.openSearch.multiGet(index: world.index, ids: (0..<artists).map(String.init))
            let mismatched = (0..<artists).map(String.init).filter { id in
                live[id].map { ReprocessorWorld.content($0.source) }
                    != world.expectedContent(Self.item(id, revision: Self.revisions))
            }
            #expect(mismatched.isEmpty, "\(mismatched.count) documents differ from the table")
            let verify = try await world.cli("verify", environment: ["AUDIT_DB": database])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }

        /// Artist `id` at `revision` (the table holds the last one).
        static func item(_ id: String, revision: Int) -> Item {
            ReprocessorWorld.artist(id, name: "Artist \(id) r\(revision)", rating: "4.\(revision)")
        }

        /// The table's final items, and the backlog: every artist's INSERT and MODIFYs, in
        /// messages of 20 records from many artists, sent in shuffled order (late older batches).
        static func seed(_ world: ReprocessorWorld, artists: Int = artists) async throws {
            try await world.putAll((0..<artists).map { item(String($0), revision: revisions) })
            var records: [StreamRecord] = []
            var sequence = 1_000_000
            for revision in 1...revisions {
                for artist in 0..<artists {
                    sequence += 1
                    let id = String(artist)
                    records.append(
                        StreamRecord(
                            eventID: "fleet-\(artist)-\(revision)", eventName: revision == 1 ? .insert : .modify,
                            eventVersion: "1.1", eventSource: "aws:dynamodb", eventSourceARN: world.streamARN,
                            awsRegion: world.configuration.region,
                            dynamodb: StreamRecordData(
                                keys: ReprocessorWorld.artistKeys(id), newImage: item(id, revision: revision),
                                oldImage: revision == 1 ? nil : item(id, revision: revision - 1),
                                sequenceNumber: SequenceNumber(String(format: "%021d", sequence))!,
                                approximateCreationDateTime: Date(timeIntervalSince1970: 1_795_000_000 + Double(sequence)),
                                streamViewType: "NEW_AND_OLD_IMAGES")))
                }
            }
            var generator = SeededGenerator(seed: 15)
            var messages = stride(from: 0, to: records.count, by: 20).map { Array(records[$0..<min($0 + 20, records.count)]) }
            messages.shuffle(using: &generator)
            try await world.send(messages.map { world.forwardedBody($0) })
        }

        /// The `(document id, sync.sequenceNumber)` of each index operation of a `_bulk` body.
        static func indexWrites(in body: String) -> [(String, String)] {
            var writes: [(String, String)] = []
            var id: String?
            for line in body.split(separator: "\n") {
                guard let json = try? JSONValue(parsing: String(line)) else { continue }
                if let action = json["index"] ?? json["create"] {
                    id = action["_id"]?.stringValue
                } else if let id, let sequence = json["sync"]?["sequenceNumber"]?.stringValue {
                    writes.append((id, sequence))
                } else {
                    id = nil
                }
            }
            return writes
        }

        /// Whether sequence number `a` comes before `b` (numerically).
        static func isBefore(_ a: String, _ b: String) -> Bool {
            a.count != b.count ? a.count < b.count : a < b
        }
    }
}
