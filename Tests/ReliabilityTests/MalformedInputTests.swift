import AWSClients
import AuditLog
import Foundation
import Logging
import StreamModel
import TestSupport
import Testing

@testable import Reprocessor

/// Garbage on the DLQ: random and mutated bodies never crash ingest and are never lost.
@Suite("malformed input")
struct MalformedInputTests {
    /// Proves, through the real path (SQS → the `dlq-reprocessor ingest` executable), that
    /// malformed bodies never crash the process (exit 0 or 3, never a signal) and that each one is
    /// stored exactly once with its raw body byte for byte: quarantined with a non-empty one-line
    /// reason, or, for a mutation that happens to be a valid envelope, as a message with its
    /// changes or its batch (whose stream the same ingest then reads, or puts off, or expires).
    @Test("malformed bodies through SQS and the executable: no crash, each stored with its raw body")
    func throughTheExecutable() async throws {
        let seed = ReliabilityScale.seed()
        let count = ReliabilityScale.scaled(300)
        var generator = MalformedBodies(seed: seed)
        // SQS refuses an empty body; a blank one is the same case for the classifier.
        let generated = (0..<count).map { index in
            var body = generator.next(index)
            if body.body.isEmpty { body.body = " " }
            return body
        }
        let world = try await ReprocessorWorld.start()
        // moto slows down with deep queues: send and drain in rounds.
        for start in stride(from: 0, to: generated.count, by: 150) {
            try await world.send(generated[start..<min(start + 150, generated.count)].map(\.body))
            let ingest = try await world.cli("ingest", "--wait", "0")
            #expect(!ingest.killedBySignal && [0, 3].contains(ingest.status), "seed \(seed): \(ingest)")
        }

        let stored = try await AuditDatabase.messages(world.auditDatabasePath)
        var byBody = Dictionary(grouping: stored, by: \.body)
        var checks: [(GeneratedBody, AuditDatabase.MessageRow)] = []
        var notStored: [GeneratedBody] = []
        for body in generated {
            if let row = byBody[Array(body.body.utf8)]?.popLast() {
                checks.append((body, row))
            } else {
                notStored.append(body)
            }
        }
        let unsent = byBody.values.reduce(0) { $0 + $1.count }
        #expect(unsent == 0, "seed \(seed): \(unsent) stored bodies were never sent")
        // A format-A body no longer waits on the queue for its stream: every body is stored.
        #expect(
            notStored.isEmpty,
            "seed \(seed): not stored: \(notStored.prefix(5).map { "\($0.kind) \(Array($0.body.utf8).preview)" })")
        let failures = Self.check(checks, carried: try await AuditDatabase.carried(world.auditDatabasePath))
        #expect(failures.isEmpty, "seed \(seed): \(failures.count) bodies: \(failures.prefix(10).joined(separator: "\n"))")
        #expect(checks.contains { $0.1.format == "C" } && checks.contains { $0.1.format != "C" }, "seed \(seed)")
    }

    /// Proves the same for at least 10,000 bodies (`RELIABILITY_SCALE` for more) through the
    /// ingest's own classification and storage (`DLQIngestor.prepare` then `AuditLog.ingest`, in
    /// groups of ten as received), without SQS, which would take minutes at this size. Every body
    /// is stored with its raw bytes: a valid format-A body as one batch (its stream is read later,
    /// by the executable test above).
    @Test("10,000+ malformed bodies through the ingest's classification and storage")
    func tenThousandInProcess() async throws {
        let seed = ReliabilityScale.seed()
        let count = ReliabilityScale.scaled(10_000)
        var generator = MalformedBodies(seed: seed)
        let world = try await ReprocessorWorld.start()
        var environment = world.environment()
        environment["AUDIT_DB"] = world.directory.appendingPathComponent("fuzz.sqlite3").path
        let settings = try ReprocessorSettings.resolve(.init(), environment: environment)
        let reprocessor = try Reprocessor(
            settings: settings, environment: environment,
            logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
        let ingestor = try await reprocessor.makeIngestor(options: IngestOptions())

        var generated: [String: GeneratedBody] = [:]
        for start in stride(from: 0, to: count, by: 10) {
            let messages = (start..<min(start + 10, count)).map { index in
                let body = generator.next(index)
                generated["fuzz-\(index)"] = body
                return SQSMessage(messageID: "fuzz-\(index)", receiptHandle: "r\(index)", body: body.body)
            }
            let prepared = messages.map { ingestor.prepare($0, receivedAt: Date()) }
            let outcomes = try await reprocessor.auditLog.ingest(prepared, at: Date())
            #expect(outcomes.allSatisfy { !$0.duplicateMessage }, "seed \(seed)")
        }

        let stored = try await AuditDatabase.messages(settings.auditDatabasePath)
        #expect(stored.count == count, "seed \(seed): \(stored.count) stored of \(count)")
        let checks = stored.compactMap { row in generated[row.messageID].map { ($0, row) } }
        #expect(checks.count == stored.count, "seed \(seed): stored messages that were never generated")
        let failures = Self.check(checks, carried: try await AuditDatabase.carried(settings.auditDatabasePath))
        #expect(failures.isEmpty, "seed \(seed): \(failures.count) bodies: \(failures.prefix(10).joined(separator: "\n"))")
        let quarantined = checks.filter { $0.1.format == "C" }.count
        #expect(quarantined >= count / 2, "seed \(seed): only \(quarantined) of \(count) quarantined: the generator is too tame")
    }

    /// What is wrong with each stored message, given the body it came from.
    static func check(
        _ pairs: [(GeneratedBody, AuditDatabase.MessageRow)],
        carried: [String: (changes: Int, batches: Int, duplicates: Int)]
    ) -> [String] {
        var failures: [String] = []
        for (generated, row) in pairs {
            let label = "\(generated.kind) \(Array(generated.body.utf8).preview) as \(row.messageID)"
            if row.body != Array(generated.body.utf8) { failures.append("\(label): body changed to \(row.body.preview)") }
            if generated.mustQuarantine && row.format != "C" { failures.append("\(label): stored as format \(row.format)") }
            if row.format == "C" {
                guard let reason = row.quarantineReason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    failures.append("\(label): quarantined without a reason")
                    continue
                }
                if reason.unicodeScalars.contains(where: { ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) }) {
                    failures.append("\(label): reason is not one line: \(reason.debugDescription)")
                }
                if let expected = generated.reasonMentions, !reason.contains(expected) {
                    failures.append("\(label): reason \(reason.debugDescription) does not mention \(expected)")
                }
            } else {
                if row.quarantineReason != nil { failures.append("\(label): format \(row.format) with a quarantine reason") }
                let stored = carried[row.messageID] ?? (0, 0, 0)
                if row.format == "A", stored.batches + stored.duplicates != 1 {
                    failures.append("\(label): format A stored \(stored.batches) batches, \(stored.duplicates) duplicates")
                }
                if row.format == "B", stored.changes + stored.duplicates == 0 {
                    failures.append("\(label): format B stored no change")
                }
            }
        }
        return failures
    }
}
