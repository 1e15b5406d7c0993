import ArgumentParser
import AuditLog
import Foundation
import Reprocessor
import StreamModel

/// The `errors` step: failure groups on a big store. An audit log of `--changes` changes (the
/// audit step's rows), of which `--failed-percent` percent failed with real OpenSearch reasons
/// that name their document and value — `--groups` mapping mistakes, one field each — is asked
/// `errors` (``AuditQueries/errorGroups(statuses:)``, the default statuses) and one group's
/// first page of `list --group`, each timed `--samples` times.
struct ErrorGroupsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "errors",
        abstract: "Time `errors` (failure groups by fingerprint) and `list --group` on an audit log of many changes.")

    @Option(help: "The audit database to create (removed first if it exists, and at the end).") var db: String
    @Option(help: "Changes to insert.") var changes = 1_000_000
    @Option(help: "Changes per document, on average.") var changesPerDocument = 10
    @Option(help: "Percent of the changes that failed.") var failedPercent = 5
    @Option(help: "Distinct causes of failure (one field each).") var groups = 20
    @Option(help: "errors and list --group calls to time.") var samples = 50

    func validate() throws {
        guard changes >= 10, changesPerDocument >= 1, (1...100).contains(failedPercent), groups >= 1, samples >= 1 else {
            throw ValidationError("--changes must be at least 10, --failed-percent 1-100, the others at least 1")
        }
    }

    func run() async throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) } }
        let documents = max(1, changes / changesPerDocument)
        var report = StepReport(step: "errors")
        report.set("changes", changes)
        let auditLog = try AuditLog(path: db)
        var failed = 0
        var inserted = 0
        while inserted < changes {
            let count = min(1000, changes - inserted)
            var messages = BenchData.auditMessages(first: inserted, count: count, documents: documents, at: Date())
            for (index, message) in messages.enumerated() {
                guard case .changes(var batch) = message.disposition else { continue }
                for position in batch.indices where batch[position].documentID != nil {
                    let ordinal = inserted + index * 10 + position
                    guard ordinal % 100 < failedPercent, let document = batch[position].documentID else { continue }
                    batch[position].status = .expired
                    batch[position].reason = Self.reason(field: (ordinal / 100) % groups, document: document, ordinal: ordinal)
                    failed += 1
                }
                messages[index].disposition = .changes(batch)
            }
            _ = try await auditLog.ingest(messages, at: Date())
            inserted += count
        }
        report.set("failedChanges", failed)

        let queries = AuditQueries(auditLog: auditLog)
        var errors = Latencies()
        var found: [ErrorGroup] = []
        for _ in 0..<samples {
            found = try await errors.time { try await queries.errorGroups(statuses: []) }
        }
        guard found.count == groups, found.reduce(0, { $0 + $1.count }) == failed else {
            throw BenchError("errors found \(found.count) groups of \(found.reduce(0) { $0 + $1.count }) changes")
        }
        report.set("groups", found.count)
        report.set("errorsP50Ms", errors.percentile(0.5))
        report.set("errorsP99Ms", errors.percentile(0.99))

        var list = Latencies()
        for sample in 0..<samples {
            let group = found[sample % found.count]
            let page = try await list.time {
                try await queries.changes(AuditQueries.filter(for: group), cursor: nil, limit: 50)
            }
            guard !page.rows.isEmpty else { throw BenchError("list --group \(group.id) returned an empty page") }
        }
        report.set("listGroupPageP99Ms", list.percentile(0.99))
        try report.print()
    }

    /// OpenSearch's reason for a value its mapping refuses, naming the document and the value.
    static func reason(field: Int, document: String, ordinal: Int) -> String {
        "OpenSearch 400 mapper_parsing_exception: failed to parse field [field_\(field)] of type [integer] in document "
            + "with id '\(document)'. Preview of field's value: 'Artist \(document) take \(ordinal)'"
    }
}
