import AuditLog
import Foundation
import OpenSearchClient
import Reprocessor
import StreamModel
import SyncTransform
import Testing

/// Reconcile's comparison is pure: every kind of drift, decided without servers.
@Suite("reconcile comparison")
struct ReconcilerTests {
    let reconciler = Reconciler(transform: SyncTransform(index: "artists"))
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let item: Item = [
        "PK": .string("ARTIST#7"), "SK": .string("METADATA"), "GSI1PK": .string("CITY#Leeds"),
        "name": .string("Ink"), "rating": .number("4.50"), "styles": .stringSet(["b", "a"]),
    ]

    /// A live document as the handler writes it for `item`, stamped with `sequence`.
    func live(_ item: Item, sequence: String?, seqNo: Int64 = 9) -> OpenSearchDocument {
        var source = reconciler.content(of: item)
        if let sequence, case .object(var fields) = source {
            fields["sync"] = .object(["sequenceNumber": .string(sequence), "eventName": .string("MODIFY")])
            source = .object(fields)
        }
        return OpenSearchDocument(id: "7", seqNo: seqNo, primaryTerm: 2, source: source)
    }

    func sequence(_ text: String) -> SequenceNumber { SequenceNumber(text)! }

    @Test("same content agrees, whatever the stamp, when nothing newer is known")
    func agrees() {
        for stamp in ["100", nil] {
            let finding = reconciler.compare(
                documentID: "7", table: .present(Self.item), live: live(Self.item, sequence: stamp), knownSequence: nil,
                now: now)
            #expect(finding.kind == nil)
            #expect(finding.write == nil)
        }
        let known = reconciler.compare(
            documentID: "7", table: .present(Self.item), live: live(Self.item, sequence: "100"),
            knownSequence: sequence("100"), now: now)
        #expect(known.kind == nil)
    }

    @Test("missing: the table's item is created as a table copy, create-only")
    func missing() throws {
        let finding = reconciler.compare(
            documentID: "7", table: .present(Self.item), live: nil, knownSequence: nil, now: now)
        #expect(finding.kind == .missing)
        let write = try #require(finding.write)
        guard case .index(let id, let document, let condition) = write.operation else {
            Issue.record("expected an index write, got \(write.operation)")
            return
        }
        #expect(id == "7")
        #expect(condition == .createOnly)
        #expect(Reconciler.content(document) == reconciler.content(of: Self.item))
        #expect(document["sync"]?["eventName"]?.stringValue == WritePlanner.resyncMark)
        #expect(document["sync"]?["sequenceNumber"]?.stringValue == "0")
    }

    @Test("stale: older content under an older stamp than a known change; written stamped with the known one")
    func staleContent() throws {
        let old = Self.item.merging(["name": .string("Old")]) { $1 }
        let finding = reconciler.compare(
            documentID: "7", table: .present(Self.item), live: live(old, sequence: "100"),
            knownSequence: sequence("250"), now: now)
        #expect(finding.kind == .stale)
        let write = try #require(finding.write)
        #expect(write.stampSequence == sequence("250"))
        guard case .index(_, _, let condition) = write.operation else {
            Issue.record("expected an index write")
            return
        }
        #expect(condition == .ifSeqNo(9, primaryTerm: 2))
    }

    @Test("stale: right content under an older stamp than a known change; and content without any stamp")
    func staleStamp() {
        let olderStamp = reconciler.compare(
            documentID: "7", table: .present(Self.item), live: live(Self.item, sequence: "100"),
            knownSequence: sequence("250"), now: now)
        #expect(olderStamp.kind == .stale)
        let noStamp = reconciler.compare(
            documentID: "7", table: .present(Self.item), live: live(["PK": .string("x"), "name": .string("x")], sequence: nil),
            knownSequence: nil, now: now)
        #expect(noStamp.kind == .stale)
    }

    @Test("differs: same stamp, other content; the repair keeps the stamp and is conditional")
    func differs() throws {
        let edited = Self.item.merging(["name": .string("Edited by hand")]) { $1 }
        for known in [nil, sequence("300"), sequence("120")] {
            let finding = reconciler.compare(
                documentID: "7", table: .present(Self.item), live: live(edited, sequence: "300"), knownSequence: known,
                now: now)
            #expect(finding.kind == .differs)
            #expect(finding.write?.stampSequence == sequence("300"))
        }
    }

    @Test("orphaned: deleted conditionally; nothing when neither side has it")
    func orphaned() throws {
        let finding = reconciler.compare(
            documentID: "7", table: .absent, live: live(Self.item, sequence: "5"), knownSequence: nil, now: now)
        #expect(finding.kind == .orphaned)
        #expect(finding.write?.operation == .delete(id: "7", condition: .ifSeqNo(9, primaryTerm: 2)))
        let nothing = reconciler.compare(documentID: "7", table: .absent, live: nil, knownSequence: nil, now: now)
        #expect(nothing.kind == nil && nothing.write == nil)
    }

    @Test("content is compared through the transform: set order, GSI and key attributes do not count")
    func transformComparison() {
        var reordered = Self.item
        reordered["styles"] = .stringSet(["a", "b"])
        reordered["GSI1PK"] = .string("CITY#York")
        let finding = reconciler.compare(
            documentID: "7", table: .present(reordered), live: live(Self.item, sequence: "1"), knownSequence: nil,
            now: now)
        #expect(finding.kind == nil)
    }
}
