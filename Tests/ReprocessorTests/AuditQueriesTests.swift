import AuditLog
import Foundation
import Reprocessor
import StreamModel
import Testing

/// The query façade's bounds, against a real audit log in a scratch folder.
@Suite("query façade bounds")
struct AuditQueriesTests {
    static func scratchLog() throws -> (AuditLog, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("queries-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return (try AuditLog(path: folder.appendingPathComponent("audit.sqlite3").path), folder)
    }

    static func change(_ n: Int) -> NewChange {
        let keys: Item = ["PK": .string("ARTIST#7"), "SK": .string("METADATA")]
        return NewChange(
            streamARN: "arn:stream", shardID: "shard", sequenceNumber: SequenceNumber(String(1000 + n))!, eventID: "e\(n)",
            eventName: .modify, keys: keys, documentID: "7", newImage: keys.merging(["name": .string("v\(n)")]) { $1 })
    }

    @Test("a page of quarantined bodies stops before 4 MiB; the cursor continues with the first left out; every message once")
    func quarantinedPagesAreByteBounded() async throws {
        let (log, folder) = try Self.scratchLog()
        defer { try? FileManager.default.removeItem(at: folder) }
        let body = String(repeating: "<b>not a DLQ record</b>", count: 200 * 1024 / 23)
        let messages = (0..<30).map { index in
            NewMessage(
                messageID: "big-\(index)", body: body + "\(index)", format: .unrecognized, receivedAt: Date(),
                disposition: .quarantined(reason: "not JSON"))
        }
        _ = try await log.ingest(messages, at: Date())
        let queries = AuditQueries(auditLog: log)
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await queries.quarantined(cursor: cursor, limit: 1000)
            let bytes = page.rows.reduce(0) { $0 + $1.body.utf8.count }
            #expect(bytes <= AuditQueries.quarantinedPageBytes, "page \(pages): \(bytes) bytes")
            #expect(!page.rows.isEmpty)
            seen += page.rows.map(\.messageID)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages >= 2, "30 bodies of 200 KiB do not fit one page")
        #expect(seen.sorted() == messages.map(\.messageID).sorted())
    }

    @Test("history lists at most 1,000 changes and says when it left some out")
    func historyIsRowBounded() async throws {
        let (log, folder) = try Self.scratchLog()
        defer { try? FileManager.default.removeItem(at: folder) }
        let changes = (0..<1005).map(Self.change)
        _ = try await log.ingest(
            [
                NewMessage(
                    messageID: "many", body: "{}", format: .forwardedRecords, receivedAt: Date(), disposition: .changes(changes))
            ],
            at: Date())
        let history = try await AuditQueries(auditLog: log).history(key: "ARTIST#7")
        #expect(history.changes.count == AuditQueries.historyRows)
        #expect(history.actions.count == AuditQueries.historyRows)
        #expect(history.truncated)
        #expect(history.json["truncated"] == .bool(true))
        #expect(history.changes.first?.sequenceNumber == SequenceNumber("1000"), "the oldest are kept")

        let one = try await AuditQueries(auditLog: log).history(key: "ARTIST#8")
        #expect(!one.truncated && one.changes.isEmpty)
    }

    @Test("page sizes outside their bounds are refused naming the field")
    func pageBounds() async throws {
        let (log, folder) = try Self.scratchLog()
        defer { try? FileManager.default.removeItem(at: folder) }
        let queries = AuditQueries(auditLog: log)
        for limit in [0, 1001, -5] {
            await #expect {
                _ = try await queries.changes(ChangeFilter(), cursor: nil, limit: limit)
            } throws: { error in
                (error as? ReprocessorError)?.code == .invalidRequest && "\(error)".contains("limit \(limit)")
            }
        }
        #expect(try await queries.changes(ChangeFilter(), cursor: nil, limit: nil).rows.isEmpty)
    }
}
