import AuditLog
import Foundation
import StreamModel
import TestSupport
import Testing

/// A fresh directory under the system temp folder, removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("audit-log-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// A path inside the directory.
    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }
}

/// Which store a test runs against: the tests that hold for both run once on each.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// An audit log on a store of its own: a temporary SQLite file, or a new database on the
/// test process's PostgreSQL server.
struct TestLog {
    let directory: TemporaryDirectory
    let log: AuditLog
    /// Where the store is: the file's path or the database's URL (with its password).
    let location: String
    /// The SQLite file's path (SQLite-only tests).
    var path: String { log.path }

    init(_ backend: StoreBackend = .sqlite) async throws {
        directory = try TemporaryDirectory()
        switch backend {
        case .sqlite: location = directory.path("audit.sqlite3")
        case .postgres: location = try await SharedPostgresServer.newDatabase()
        }
        log = try await AuditLog(location: location)
    }

    /// Another instance on the same store.
    func reopen(chainKey: AuditChainKey? = nil) async throws -> AuditLog {
        try await AuditLog(location: location, chainKey: chainKey)
    }
}

enum Fixture {
    static let streamARN = "arn:aws:dynamodb:eu-west-2:123456789012:table/tattoo-directory-local/stream/2026-11-24T09:00:00.000"
    /// A fixed time with whole milliseconds, so stored times compare equal.
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    /// A 21-digit sequence number ending in `n`.
    static func sequence(_ n: Int) -> SequenceNumber {
        let digits = String(n)
        return SequenceNumber("8" + String(repeating: "0", count: 20 - digits.count) + digits)!
    }

    static func artist(_ id: String, name: String) -> Item {
        [
            "PK": .string("ARTIST#\(id)"), "SK": .string("METADATA"), "name": .string(name),
            "rating": .number("4.50"), "styles": .stringSet(["blackwork", "fine line"]),
            "portfolio": .list([.map(["url": .string("https://example.com/1.jpg"), "likes": .number("12345678901234567890")])]),
            "avatar": .binary(Data([0, 1, 2, 254])), "verified": .bool(true), "closed": .null,
        ]
    }

    static func change(
        _ n: Int, document: String? = "42", event: EventName = .modify, status: ChangeStatus = .pending,
        eventID: String? = nil, streamARN: String? = Fixture.streamARN, reason: String? = nil
    ) -> NewChange {
        NewChange(
            streamARN: streamARN, shardID: "shardId-00000001573689847184-864758bb", sequenceNumber: sequence(n),
            eventID: eventID ?? "event-\(n)", eventName: event,
            keys: document.map { ["PK": .string("ARTIST#\($0)"), "SK": .string("METADATA")] },
            documentID: document, oldImage: document.map { artist($0, name: "Old \(n)") },
            newImage: event == .remove ? nil : document.map { artist($0, name: "New \(n)") },
            approximateCreationTime: t0.addingTimeInterval(-60), status: status, reason: reason)
    }

    static func message(_ id: String, _ changes: [NewChange], correlationID: String? = nil) -> NewMessage {
        NewMessage(
            messageID: id, body: #"{"Records":[]}"#, format: .forwardedRecords, correlationID: correlationID,
            errorText: "OpenSearch timed out", receivedAt: t0, receiveCount: 2, sentAt: t0.addingTimeInterval(-5),
            disposition: .changes(changes))
    }

    static let shardID = "shardId-00000001573689847184-864758bb"

    /// A format-A message naming the range `start`…`end` of ``shardID``.
    static func batchMessage(_ id: String, start: Int, end: Int, lastRecordAt: Date = t0) -> NewMessage {
        let info = JSONValue.object([
            "shardId": .string(shardID), "startSequenceNumber": .string(sequence(start).digits),
            "endSequenceNumber": .string(sequence(end).digits), "batchSize": .number(String(end - start + 1)),
            "streamArn": .string(streamARN),
        ])
        return NewMessage(
            messageID: id, body: JSONValue.object(["DDBStreamBatchInfo": info]).serialized, format: .failedBatch,
            receivedAt: t0,
            disposition: .batch(
                NewBatch(
                    streamARN: streamARN, shardID: shardID, startSequenceNumber: sequence(start),
                    endSequenceNumber: sequence(end), batchInfo: info, lastRecordAt: lastRecordAt)))
    }

    /// Ingests one message with one change and returns the change's id.
    static func ingestOne(_ log: AuditLog, _ n: Int, document: String? = "42", status: ChangeStatus = .pending, at: Date = t0)
        async throws -> Int64
    {
        let outcome = try await log.ingest([message("message-\(n)", [change(n, document: document, status: status)])], at: at)
        return outcome[0].storedChangeIDs[0]
    }
}
