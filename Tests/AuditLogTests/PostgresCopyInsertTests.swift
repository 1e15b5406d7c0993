import Foundation
import StreamModel
import Testing

@testable import AuditLog

/// Plain inserts of many rows on PostgreSQL go by `COPY … FROM STDIN` (``AuditDatabase``'s
/// `copyThreshold`); what they store is what SQLite stores from the same calls.
@Suite("PostgreSQL inserts by COPY")
struct PostgresCopyInsertTests {
    /// A name holding what COPY's text format escapes, and more.
    static let awkward = "Tab\there, new\nline, CR\r, back\\slash, \\N, \\., quote \" ' and 🎸"

    /// One message of `count` changes of document 42, with awkward names in their images.
    static func message(_ id: String, changes count: Int, from first: Int) -> NewMessage {
        Fixture.message(
            id,
            (first..<(first + count)).map { n in
                var change = Fixture.change(n)
                change.oldImage = Fixture.artist("42", name: "Old \(n) \(awkward)")
                change.newImage = Fixture.artist("42", name: "New \(n) \(awkward)")
                return change
            })
    }

    @Test("a large ingest copies its images and actions; changes, images, actions and hashes equal SQLite's")
    func largeIngestMatchesSQLite() async throws {
        let sqlite = try await TestLog(.sqlite)
        let postgres = try await TestLog(.postgres)
        // 100 changes (COPY: 100 images, 101 actions), then 2 and 50 (one statement of JSON each).
        let calls = [
            Self.message("m-1", changes: 100, from: 1), Self.message("m-2", changes: 2, from: 101),
            Self.message("m-3", changes: 50, from: 103),
        ]
        var copies: [[String]] = []
        for message in calls {
            let statements = QueryPlanTests.Statements()
            await postgres.log.observeStatements { statements.insert($0) }
            let stored = try await sqlite.log.ingest([message], at: Fixture.t0)
            #expect(try await postgres.log.ingest([message], at: Fixture.t0) == stored)
            copies.append(statements.all.filter { $0.hasPrefix("COPY ") }.sorted())
        }
        #expect(
            copies == [
                [
                    "COPY actions (id, change_id, message_id, action, actor, reason, outcome, response, at, hash) FROM STDIN",
                    "COPY change_images (change_id, old_image_json, new_image_json) FROM STDIN",
                ],
                [], [],
            ])
        let expected = try await sqlite.log.history(documentID: "42")
        let history = try await postgres.log.history(documentID: "42")
        #expect(history.changes.count == 152)
        #expect(history.changes == expected.changes)
        #expect(history.actions == expected.actions)
        #expect(history.changes.first?.content.newImage == Fixture.artist("42", name: "New 1 \(Self.awkward)"))
        #expect(try await postgres.log.verify().isIntact)
        #expect(try await postgres.log.head() == (try await sqlite.log.head()))
    }
}
