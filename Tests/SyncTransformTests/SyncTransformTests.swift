import Foundation
import StreamModel
import Testing

@testable import SyncTransform

/// Builds a stream record for the artist `id` (or any keys).
private func record(
    _ eventName: EventName, keys: Item = ["PK": .string("ARTIST#42"), "SK": .string("METADATA")], newImage: Item? = nil,
    oldImage: Item? = nil, sequence: String = "800000000003126276365",
    created: Date? = Date(timeIntervalSince1970: 1_795_514_400.123),
    userIdentity: UserIdentity? = nil
) -> StreamRecord {
    StreamRecord(
        eventID: "e", eventName: eventName, userIdentity: userIdentity,
        dynamodb: StreamRecordData(
            keys: keys, newImage: newImage, oldImage: oldImage, sequenceNumber: SequenceNumber(sequence)!,
            approximateCreationDateTime: created, streamViewType: "NEW_AND_OLD_IMAGES"))
}

private let appliedAt = Date(timeIntervalSince1970: 1_795_514_405.5)

@Suite("SyncTransform keys and decisions")
struct SyncTransformDecisionTests {
    @Test("an artist METADATA record has the id after ARTIST#")
    func documentID() {
        #expect(SyncTransform.documentID(forKeys: ["PK": .string("ARTIST#42"), "SK": .string("METADATA")]) == "42")
        #expect(
            SyncTransform.documentID(forKeys: ["PK": .string("ARTIST#a#b é"), "SK": .string("METADATA")]) == "a#b é")
        #expect(SyncTransform.filterReason(forKeys: ["PK": .string("ARTIST#42"), "SK": .string("METADATA")]) == nil)
    }

    @Test(
        "other keys are filtered with a reason naming the key",
        arguments: [
            (["SK": .string("METADATA")], "keys have no PK"),
            (["PK": .number("42"), "SK": .string("METADATA")], "PK is of type N, not a string"),
            (
                ["PK": .string("USER#1"), "SK": .string("METADATA")],
                #"PK "USER#1" is not an artist record (ARTIST#<id>)"#
            ),
            (
                ["PK": .string("artist#1"), "SK": .string("METADATA")],
                #"PK "artist#1" is not an artist record (ARTIST#<id>)"#
            ),
            (["PK": .string("ARTIST#"), "SK": .string("METADATA")], #"PK "ARTIST#" has an empty artist id"#),
            (["PK": .string("ARTIST#1")], "keys have no SK"),
            (["PK": .string("ARTIST#1"), "SK": .bool(true)], "SK is of type BOOL, not a string"),
            (["PK": .string("ARTIST#1"), "SK": .string("REVIEW#9")], #"SK "REVIEW#9" is not METADATA"#),
            (["PK": .string("ARTIST#1"), "SK": .string("metadata")], #"SK "metadata" is not METADATA"#),
        ] as [(Item, String)])
    func filtered(keys: Item, reason: String) {
        #expect(SyncTransform.documentID(forKeys: keys) == nil)
        #expect(SyncTransform.filterReason(forKeys: keys) == reason)
        for eventName in EventName.allCases {
            #expect(
                SyncTransform().decide(record(eventName, keys: keys, newImage: keys), appliedAt: appliedAt)
                    == .filtered(reason: reason))
        }
    }

    @Test("a long or multi-line PK is quoted and capped in the reason")
    func longKeyReason() throws {
        let reason = try #require(
            SyncTransform.filterReason(forKeys: [
                "PK": .string(String(repeating: "x\n", count: 200)), "SK": .string("METADATA"),
            ]))
        #expect(!reason.contains { $0.isNewline })
        #expect(reason.count <= 130)
    }

    @Test("INSERT and MODIFY index the new image", arguments: [EventName.insert, .modify])
    func indexes(eventName: EventName) {
        let image: Item = ["PK": .string("ARTIST#42"), "SK": .string("METADATA"), "name": .string("Ink")]
        let transform = SyncTransform()
        let decision = transform.decide(record(eventName, newImage: image), appliedAt: appliedAt)
        let stamp = SyncStamp(
            sequenceNumber: SequenceNumber("800000000003126276365")!, eventName: eventName,
            approximateCreationTime: Date(timeIntervalSince1970: 1_795_514_400.123), appliedAt: appliedAt)
        #expect(decision == .index(documentID: "42", document: transform.document(for: image, stamp: stamp)))
    }

    @Test("INSERT and MODIFY without a NewImage are filtered", arguments: [EventName.insert, .modify])
    func noNewImage(eventName: EventName) {
        let decision = SyncTransform().decide(record(eventName, oldImage: ["name": .string("x")]), appliedAt: appliedAt)
        #expect(decision == .filtered(reason: "no NewImage (stream view type must be NEW_AND_OLD_IMAGES)"))
    }

    @Test("REMOVE deletes, with or without images")
    func remove() {
        #expect(SyncTransform().decide(record(.remove), appliedAt: appliedAt) == .delete(documentID: "42"))
        #expect(
            SyncTransform().decide(record(.remove, oldImage: ["name": .string("x")]), appliedAt: appliedAt)
                == .delete(documentID: "42"))
    }

    @Test("a TTL REMOVE (userIdentity from DynamoDB) deletes the document")
    func ttlRemove() throws {
        let text = #"""
            {"eventID":"e1","eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},
             "dynamodb":{"Keys":{"PK":{"S":"ARTIST#7"},"SK":{"S":"METADATA"}},"OldImage":{"PK":{"S":"ARTIST#7"},"SK":{"S":"METADATA"},"ttl":{"N":"1795514000"}},
                         "SequenceNumber":"800000000003126276366","ApproximateCreationDateTime":1795514400}}
            """#
        let ttlRecord = try StreamRecord(json: JSONValue(parsing: text))
        #expect(ttlRecord.userIdentity?.isTimeToLiveDeletion == true)
        #expect(SyncTransform().decide(ttlRecord, appliedAt: appliedAt) == .delete(documentID: "7"))
    }

    @Test("the index name defaults to artists")
    func indexName() {
        #expect(SyncTransform().index == "artists")
        #expect(SyncTransform(index: "artists-v2").index == "artists-v2")
    }
}

@Suite("SyncTransform documents")
struct SyncTransformDocumentTests {
    let stamp = SyncStamp(
        sequenceNumber: SequenceNumber("0800000000003126276365")!, eventName: .modify,
        approximateCreationTime: Date(timeIntervalSince1970: 1_795_514_400.123),
        appliedAt: Date(timeIntervalSince1970: 1_795_514_405.5))

    @Test("the document drops PK, SK and GSI/gsi attributes and adds sync")
    func dropsKeysAndIndexes() {
        let item: Item = [
            "PK": .string("ARTIST#42"), "SK": .string("METADATA"), "GSI1PK": .string("STYLE#x"), "GSI1SK": .string("y"),
            "gsi2pk": .string("z"), "Gsi3": .string("kept: only GSI and gsi prefixes are index attributes"),
            "name": .string("Ink"), "pk": .string("kept, keys are upper case"),
        ]
        let document = SyncTransform().document(for: item, stamp: stamp)
        let keys = Set(document.objectValue?.keys.map { $0 } ?? [])
        #expect(keys == ["Gsi3", "name", "pk", "sync"])
    }

    @Test("the sync object carries the sequence as a string, event name and ISO-8601 UTC times with milliseconds")
    func syncObject() {
        let document = SyncTransform().document(for: ["name": .string("Ink")], stamp: stamp)
        #expect(
            document["sync"]
                == .object([
                    "sequenceNumber": .string("800000000003126276365"), "eventName": .string("MODIFY"),
                    "approximateCreationTime": .string("2026-11-24T10:00:00.123Z"),
                    "appliedAt": .string("2026-11-24T10:00:05.500Z"),
                ]))
        var noCreation = stamp
        noCreation.approximateCreationTime = nil
        #expect(SyncTransform().document(for: [:], stamp: noCreation)["sync"]?["approximateCreationTime"] == .null)
    }

    @Test(
        "timestamps format as UTC with milliseconds, rounded to the nearest millisecond",
        arguments: [
            (0.0, "1970-01-01T00:00:00.000Z"), (-0.001, "1969-12-31T23:59:59.999Z"),
            (951_782_400, "2000-02-29T00:00:00.000Z"),
            (1_795_514_400.1234, "2026-11-24T10:00:00.123Z"), (1_795_514_400.9996, "2026-11-24T10:00:01.000Z"),
            (253_402_300_799.999, "9999-12-31T23:59:59.999Z"), (1e300, "9999-12-31T23:59:59.999Z"),
            (-86_400 * 365.25 * 3000, "0000-01-01T00:00:00.000Z"),
            (4_107_542_400, "2100-03-01T00:00:00.000Z"),
        ] as [(Double, String)])
    func timestamps(seconds: Double, expected: String) {
        var stampAt = stamp
        stampAt.appliedAt = Date(timeIntervalSince1970: seconds)
        #expect(SyncTransform().document(for: [:], stamp: stampAt)["sync"]?["appliedAt"] == .string(expected))
    }

    @Test("an item attribute named sync is replaced by the sync object")
    func syncAttributeReplaced() {
        let document = SyncTransform().document(for: ["sync": .string("mine")], stamp: stamp)
        #expect(document["sync"]?["eventName"] == .string("MODIFY"))
    }

    @Test("every attribute type converts to plain JSON")
    func plainJSONTypes() throws {
        let item: Item = [
            "s": .string("Ink \"&\" Iron"), "n": .number("12345678901234567890.123"),
            "b": .binary(Data([0, 1, 2, 255])),
            "ss": .stringSet(["realism", "blackwork", "Zebra", "émaux"]),
            "ns": .numberSet(["10", "9", "-1.5", "1E+3", "0.001", "00012"]),
            "bs": .binarySet([Data([2]), Data([1, 0]), Data([1])]),
            "m": .map(["inner": .map(["x": .number("1.50")]), "l": .list([.null, .bool(false)])]),
            "l": .list([.number("-0.5"), .string("x"), .list([.numberSet(["2", "1"])])]), "null": .null,
            "t": .bool(true),
        ]
        let json = SyncTransform.plainJSON(item)
        #expect(
            json.serialized
                == #"{"b":"AAEC/w==","bs":["AQ==","AQA=","Ag=="],"l":[-0.5,"x",[[1,2]]],"m":{"inner":{"x":1.50},"l":[null,false]},"#
                + #""n":12345678901234567890.123,"ns":[-1.5,0.001,9,10,12,1E+3],"null":null,"s":"Ink \"&\" Iron","#
                + #""ss":["Zebra","blackwork","realism","émaux"],"t":true}"#)
        #expect(try JSONValue(parsing: json.serialized) == json)
    }

    @Test(
        "DynamoDB number text becomes a valid JSON number with every digit kept",
        arguments: [
            ("1E+3", "1E+3"), ("-0.5", "-0.5"), ("00012", "12"), ("+7", "7"), (".25", "0.25"), ("5.", "5"),
            ("12345678901234567890.123", "12345678901234567890.123"),
            ("99999999999999999999999999999999999999", "99999999999999999999999999999999999999"),
        ])
    func numbers(text: String, expected: String) throws {
        let document = SyncTransform().document(for: ["n": .number(text)], stamp: stamp)
        #expect(document["n"] == .number(expected))
        let reparsed = try JSONValue(parsing: document.serialized)
        #expect(reparsed["n"] == .number(expected))
    }

    @Test("a hand-built number that is not a DynamoDB number becomes a string, never broken JSON")
    func invalidHandBuiltNumber() throws {
        let json = SyncTransform.plainJSON(["n": .number("12abc"), "ns": .numberSet(["x", "2", "1"])])
        #expect(json["n"] == .string("12abc"))
        #expect(json["ns"] == .array([.number("1"), .number("2"), .string("x")]))
        _ = try JSONValue(parsing: json.serialized)
    }

    @Test("documents from a parsed stream record keep exact numbers end to end")
    func endToEnd() throws {
        let text = #"""
            {"eventName":"MODIFY","dynamodb":{"Keys":{"PK":{"S":"ARTIST#42"},"SK":{"S":"METADATA"}},"SequenceNumber":"800000000003126276365",
             "NewImage":{"PK":{"S":"ARTIST#42"},"SK":{"S":"METADATA"},"GSI1PK":{"S":"x"},"followers":{"N":"12345678901234567890.123"},
                         "prices":{"NS":["150","80.5","1E+3"]},"styles":{"SS":["realism","blackwork"]}}}}
            """#
        let decision = SyncTransform().decide(
            try StreamRecord(json: JSONValue(parsing: text)), appliedAt: Date(timeIntervalSince1970: 0))
        guard case .index(let id, let document) = decision else {
            Issue.record("expected index, got \(decision)")
            return
        }
        #expect(id == "42")
        #expect(
            document.serialized
                == #"{"followers":12345678901234567890.123,"prices":[80.5,150,1E+3],"styles":["blackwork","realism"],"#
                + #""sync":{"appliedAt":"1970-01-01T00:00:00.000Z","approximateCreationTime":null,"eventName":"MODIFY","sequenceNumber":"800000000003126276365"}}"#
        )
    }
}

@Suite("SyncTransform changes and live documents")
struct SyncTransformChangeTests {
    @Test("changedFields lists top-level names whose values differ, sorted")
    func changedFields() {
        let old: Item = [
            "PK": .string("ARTIST#1"), "name": .string("a"), "gone": .bool(true), "tags": .stringSet(["x", "y"]),
            "n": .number("1"),
        ]
        let new: Item = [
            "PK": .string("ARTIST#1"), "name": .string("b"), "added": .null, "tags": .stringSet(["y", "x"]),
            "n": .number("1"),
        ]
        #expect(SyncTransform.changedFields(old: old, new: new) == ["added", "gone", "name"])
    }

    @Test("changedFields with a missing image lists every name of the other")
    func changedFieldsMissingImage() {
        let item: Item = ["b": .string("1"), "a": .null]
        #expect(SyncTransform.changedFields(old: nil, new: item) == ["a", "b"])
        #expect(SyncTransform.changedFields(old: item, new: nil) == ["a", "b"])
        #expect(SyncTransform.changedFields(old: nil, new: nil) == [])
        #expect(SyncTransform.changedFields(old: item, new: item) == [])
    }

    @Test("changedFields sees nested changes and type changes")
    func nestedChanges() {
        let old: Item = ["m": .map(["a": .list([.number("1")])]), "t": .string("1")]
        let new: Item = ["m": .map(["a": .list([.number("2")])]), "t": .number("1")]
        #expect(SyncTransform.changedFields(old: old, new: new) == ["m", "t"])
    }

    @Test("syncedSequenceNumber reads sync.sequenceNumber of a live document")
    func syncedSequenceNumber() throws {
        let source = try JSONValue(
            parsing: #"{"name":"x","sync":{"sequenceNumber":"800000000003126276365","eventName":"MODIFY"}}"#)
        #expect(SyncTransform.syncedSequenceNumber(in: source) == SequenceNumber("800000000003126276365"))
        #expect(
            SyncTransform.syncedSequenceNumber(in: try JSONValue(parsing: #"{"sync":{"sequenceNumber":42}}"#))
                == SequenceNumber("42"))
        #expect(
            SyncTransform.syncedSequenceNumber(in: try JSONValue(parsing: #"{"sync":{"sequenceNumber":"x1"}}"#)) == nil)
        #expect(
            SyncTransform.syncedSequenceNumber(in: try JSONValue(parsing: #"{"sync":{"sequenceNumber":1.5}}"#)) == nil)
        #expect(SyncTransform.syncedSequenceNumber(in: try JSONValue(parsing: #"{"sync":"x"}"#)) == nil)
        #expect(SyncTransform.syncedSequenceNumber(in: try JSONValue(parsing: #"{"name":"x"}"#)) == nil)
        #expect(SyncTransform.syncedSequenceNumber(in: .array([])) == nil)
    }

    @Test("a document's sync.sequenceNumber reads back as the stamp's")
    func documentSequenceReadsBack() throws {
        let stamp = SyncStamp(
            sequenceNumber: SequenceNumber("1000000000000000000000")!, eventName: .insert, approximateCreationTime: nil,
            appliedAt: Date())
        let document = SyncTransform().document(for: ["name": .string("x")], stamp: stamp)
        #expect(
            SyncTransform.syncedSequenceNumber(in: try JSONValue(parsing: document.serialized)) == stamp.sequenceNumber)
    }
}
