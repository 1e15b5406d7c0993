import AWSClients
import ArgumentParser
import AuditLog
import Foundation
import OpenSearchClient
import Reprocessor
import StreamModel
import SyncTransform

/// The reconcile step's data: a table of `documents` artists and an index in step with it but
/// for 1% drift, a quarter of each kind — artist `d` with `d % 100 == 0` drifts by `(d / 100) % 4`:
/// missing from search, stale (an older revision without a `sync` stamp), differs (an older
/// revision under the same stamp), or orphaned (its document stays, and `orphan-d` is added, which
/// the table has no item for).
enum ReconcileWorkload {
    /// How artist `document` drifts, if it does.
    static func drift(_ document: Int) -> DriftKind? {
        guard document % 100 == 0 else { return nil }
        return [DriftKind.missing, .stale, .differs, .orphaned][(document / 100) % 4]
    }

    /// Differences in a workload of `documents` artists.
    static func driftCount(documents: Int) -> Int {
        (0..<documents).filter { drift($0) != nil }.count
    }

    /// The writes that put artists `range` in search as the workload has them.
    static func operations(_ range: Range<Int>, transform: SyncTransform) -> [BulkOperation] {
        var operations: [BulkOperation] = []
        for document in range {
            let stamp = SyncStamp(
                sequenceNumber: BenchData.sequenceNumber(document), eventName: .insert, approximateCreationTime: nil,
                appliedAt: Date(timeIntervalSince1970: 1_790_000_000))
            var written = transform.document(for: BenchData.artist(document, revision: 3), stamp: stamp)
            switch drift(document) {
            case .missing?: continue
            case .stale?:
                written = Reconciler.content(transform.document(for: BenchData.artist(document, revision: 2), stamp: stamp))
            case .differs?: written = transform.document(for: BenchData.artist(document, revision: 2), stamp: stamp)
            case .orphaned?:
                operations.append(.index(id: "orphan-\(document)", document: written, condition: nil))
            case nil: break
            }
            operations.append(.index(id: String(document), document: written, condition: nil))
        }
        return operations
    }
}

/// Creates the reconcile step's table (every artist at revision 3) and fills indexes with its drifted copy.
struct SeedReconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-reconcile",
        abstract: "Create a table of artists (unless --index-only) and indexes holding them with 1% drift.")

    @Option(help: "The table (created and filled unless --index-only).") var table: String
    @Option(help: "Artists.") var documents: Int
    @Option(name: .customLong("index"), help: "An index to create and fill (repeat for more).") var indices: [String] = []
    @Flag(help: "Fill the indexes only: the table exists.") var indexOnly = false
    @Option(help: "BatchWriteItem calls in flight.") var concurrency = 4

    func run() async throws {
        if !indexOnly {
            let aws = try Peers.aws()
            let dynamoDB = DynamoDBClient(configuration: aws, httpClient: Peers.httpClient, logger: Peers.logger)
            _ = try await dynamoDB.createTableWithStream(tableName: table)
            let writer = TableWriter(configuration: aws, table: table)
            let (documents, concurrency) = (documents, concurrency)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        for first in stride(from: worker * 25, to: documents, by: concurrency * 25) {
                            try await writer.put((first..<min(first + 25, documents)).map { BenchData.artist($0, revision: 3) })
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let openSearch = try BestCaseWorkload.openSearch(maxBulkOperations: 1000)
        for index in indices {
            try await openSearch.createIndexIfMissing(index: index)
            let transform = SyncTransform(index: index)
            for first in stride(from: 0, to: documents, by: 1000) {
                let operations = ReconcileWorkload.operations(first..<min(first + 1000, documents), transform: transform)
                let items = try await openSearch.bulk(index: index, operations: operations)
                guard items.allSatisfy(\.isSuccess) else { throw BenchError("seeding \(index): a _bulk item failed") }
            }
            try await openSearch.refresh(index: index)
        }
        var report = StepReport(step: "seed-reconcile")
        report.set("documents", documents)
        report.set("drift", ReconcileWorkload.driftCount(documents: documents))
        try report.print()
    }
}

/// The product: a repairing `reconcile` (through `Reprocessor`) of the seeded table and index.
struct ReconcileBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Run a repairing reconcile of a seeded table and index, and check it repaired exactly the drift.")

    @Option(help: "The audit database to create (removed first if it exists).") var db: String
    @Option(help: "The seeded table.") var table: String
    @Option(help: "The seeded index.") var index: String
    @Option(help: "Artists it was seeded with.") var documents: Int
    @Option(help: "Parallel Scan segments.") var segments = 4

    func run() async throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        let settings = try ReprocessorSettings.resolve(
            .init(
                auditDatabasePath: db, openSearchEndpoint: try Peers.openSearchEndpoint().absoluteString, index: index,
                tableName: table))
        let reprocessor = try Reprocessor(settings: settings, logger: Peers.logger)
        let reconciliation = try await reprocessor.makeReconciliation()
        let start = ContinuousClock.now
        let report = try await reconciliation.run(
            ReconcileRequest(segments: segments, repair: true, actor: "bench", reason: "bench"))
        let seconds = Latencies.seconds(ContinuousClock.now - start)
        let drift = ReconcileWorkload.driftCount(documents: documents)
        let count = { (kind: DriftKind) in (0..<documents).filter { ReconcileWorkload.drift($0) == kind }.count }
        // The walk follows the scan: it sees the documents the scan's repairs created, not the orphans it deleted.
        guard report.run.scanned == documents, report.drift == drift, report.run.repaired == drift,
            report.run.indexed == documents + count(.orphaned)
        else {
            throw BenchError(
                "reconcile of \(documents) artists with \(drift) differences: scanned \(report.run.scanned), indexed "
                    + "\(report.run.indexed), found \(report.drift), repaired \(report.run.repaired)")
        }
        var step = StepReport(step: "reconcile")
        step.set("documents", documents)
        step.set("segments", segments)
        step.set("drift", drift)
        step.set("indexed", report.run.indexed)
        step.set("seconds", seconds)
        step.set("itemsPerSecond", Double(documents) / seconds)
        try step.print()
    }
}

/// The baseline: the same parallel `Scan` (segments, page size, filter) with one `_mget` of each
/// page's ids, and nothing else.
struct RawReconcileBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile-raw",
        abstract: "Scan a table in parallel segments and _mget each page's documents (the raw rate).")

    @Option(help: "The seeded table.") var table: String
    @Option(help: "The seeded index.") var index: String
    @Option(help: "Artists it was seeded with.") var documents: Int
    @Option(help: "Parallel Scan segments.") var segments = 4
    @Option(help: "Items per Scan page (the reconciler's page).") var page = 500

    func run() async throws {
        let dynamoDB = DynamoDBClient(configuration: try Peers.aws(), httpClient: Peers.httpClient, logger: Peers.logger)
        let openSearch = try BestCaseWorkload.openSearch(maxBulkOperations: page)
        let filter = ScanFilter(
            expression: "begins_with(PK, :artist) AND SK = :metadata",
            values: [":artist": .string("ARTIST#"), ":metadata": .string("METADATA")])
        let (table, index, segments, page) = (table, index, segments, page)
        let start = ContinuousClock.now
        let counts = try await withThrowingTaskGroup(of: (scanned: Int, found: Int).self) { group in
            for segment in 0..<segments {
                group.addTask {
                    var scanned = 0
                    var found = 0
                    var key: Item?
                    repeat {
                        let result = try await dynamoDB.scan(
                            tableName: table, segment: segment, totalSegments: segments, exclusiveStartKey: key,
                            limit: page, filter: filter)
                        let ids = result.items.compactMap(SyncTransform.documentID(forKeys:))
                        scanned += ids.count
                        if !ids.isEmpty { found += try await openSearch.multiGet(index: index, ids: ids).count }
                        key = result.lastEvaluatedKey
                    } while key != nil
                    return (scanned, found)
                }
            }
            return try await group.reduce(into: (scanned: 0, found: 0)) {
                $0.scanned += $1.scanned; $0.found += $1.found
            }
        }
        let seconds = Latencies.seconds(ContinuousClock.now - start)
        guard counts.scanned == documents else {
            throw BenchError("scanned \(counts.scanned) of \(documents) artists")
        }
        var step = StepReport(step: "reconcile-raw")
        step.set("documents", documents)
        step.set("segments", segments)
        step.set("found", counts.found)
        step.set("seconds", seconds)
        step.set("itemsPerSecond", Double(documents) / seconds)
        try step.print()
    }
}
