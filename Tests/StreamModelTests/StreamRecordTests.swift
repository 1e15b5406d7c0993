import Foundation
import Testing

@testable import StreamModel

@Suite("StreamRecord")
struct StreamRecordTests {
    @Test("a MODIFY record reads every field")
    func readsEveryField() throws {
        let record = try StreamRecord(json: JSONValue(parsing: Samples.modifyRecord))
        #expect(record.eventID == "4b7ab2b3d0c4f1e2a3b4c5d6e7f80912")
        #expect(record.eventName == .modify)
        #expect(record.eventVersion == "1.1")
        #expect(record.eventSource == "aws:dynamodb")
        #expect(record.awsRegion == "eu-west-2")
        #expect(record.eventSourceARN?.hasSuffix("stream/2026-11-24T09:00:00.000") == true)
        #expect(record.userIdentity == nil)
        let data = record.dynamodb
        #expect(data.keys == ["PK": .string("ARTIST#42"), "SK": .string("METADATA")])
        #expect(data.newImage?["followers"] == .number("12345678901234567890.123"))
        #expect(data.newImage?["avatar"] == .binary(Data(base64Encoded: "iVBORw0KGgo=")!))
        #expect(data.oldImage?["name"] == .string("Ink and Iron"))
        #expect(data.sequenceNumber == SequenceNumber("800000000003126276365"))
        #expect(data.sizeBytes == 412)
        #expect(data.approximateCreationDateTime == Date(timeIntervalSince1970: 1_795_514_400))
        #expect(data.streamViewType == "NEW_AND_OLD_IMAGES")
    }

    @Test("a TTL REMOVE keeps userIdentity and fractional creation time")
    func ttlRemove() throws {
        let record = try StreamRecord(json: JSONValue(parsing: Samples.ttlRemoveRecord))
        #expect(record.eventName == .remove)
        #expect(record.userIdentity == UserIdentity(type: "Service", principalId: "dynamodb.amazonaws.com"))
        #expect(record.userIdentity?.isTimeToLiveDeletion == true)
        #expect(UserIdentity(type: "User", principalId: "x").isTimeToLiveDeletion == false)
        #expect(record.dynamodb.newImage == nil)
        #expect(record.dynamodb.approximateCreationDateTime == Date(timeIntervalSince1970: 1_795_514_400.5))
        #expect(record.dynamodb.sequenceNumber.digits == "800000000003126276366")
    }

    @Test("records round-trip through their JSON", arguments: [Samples.modifyRecord, Samples.ttlRemoveRecord])
    func roundTrip(text: String) throws {
        let record = try StreamRecord(json: JSONValue(parsing: text))
        let again = try StreamRecord(json: JSONValue(parsing: record.json.serialized))
        #expect(again == record)
        #expect(again.json == record.json)
    }

    @Test("the JSON shape matches the stream record's field names")
    func jsonShape() throws {
        let record = try StreamRecord(json: JSONValue(parsing: Samples.ttlRemoveRecord))
        let json = record.json
        #expect(json["eventName"] == .string("REMOVE"))
        #expect(
            json["userIdentity"]
                == .object(["type": .string("Service"), "principalId": .string("dynamodb.amazonaws.com")]))
        #expect(json["eventVersion"] == nil)
        #expect(json["dynamodb"]?["SequenceNumber"] == .string("800000000003126276366"))
        #expect(json["dynamodb"]?["ApproximateCreationDateTime"] == .number("1795514400.5"))
        #expect(json["dynamodb"]?["SizeBytes"] == .number("90"))
        #expect(json["dynamodb"]?["NewImage"] == nil)
        #expect(json["dynamodb"]?["Keys"]?["PK"] == .object(["S": .string("ARTIST#7")]))
    }

    @Test(
        "a minimal record needs only eventName, Keys and SequenceNumber; nulls count as absent; extra fields are ignored"
    )
    func minimal() throws {
        let text =
            #"{"eventName":"INSERT","extra":[1],"eventID":null,"dynamodb":{"Keys":{"PK":{"S":"A"}},"SequenceNumber":"1","NewImage":null,"Other":5}}"#
        let record = try StreamRecord(json: JSONValue(parsing: text))
        #expect(
            record
                == StreamRecord(
                    eventName: .insert,
                    dynamodb: StreamRecordData(keys: ["PK": .string("A")], sequenceNumber: SequenceNumber("1")!)))
    }

    @Test(
        "bad records are rejected with the field path",
        arguments: [
            (#"[]"#, "a stream record must be an object, got array"),
            (#"{"dynamodb":{}}"#, "eventName: missing"),
            (
                #"{"eventName":"UPSERT","dynamodb":{}}"#,
                #"eventName: unknown event name "UPSERT" (expected INSERT, MODIFY or REMOVE)"#
            ),
            (#"{"eventName":5,"dynamodb":{}}"#, "eventName: expected a string, got number"),
            (#"{"eventName":"INSERT"}"#, "dynamodb: missing"),
            (#"{"eventName":"INSERT","dynamodb":[]}"#, "dynamodb: expected an object, got array"),
            (#"{"eventName":"INSERT","dynamodb":{"SequenceNumber":"1"}}"#, "dynamodb.Keys: missing"),
            (#"{"eventName":"INSERT","dynamodb":{"Keys":{}}}"#, "dynamodb.SequenceNumber: missing"),
            (
                #"{"eventName":"INSERT","dynamodb":{"Keys":{},"SequenceNumber":12}}"#,
                "dynamodb.SequenceNumber: expected a string, got number"
            ),
            (
                #"{"eventName":"INSERT","dynamodb":{"Keys":{},"SequenceNumber":"12a"}}"#,
                #"dynamodb.SequenceNumber: "12a" is not a sequence number (1 to 80 digits)"#
            ),
            (
                #"{"eventName":"INSERT","dynamodb":{"Keys":{"PK":{"S":1}},"SequenceNumber":"1"}}"#,
                #"dynamodb.Keys.PK: "S" must be a string, got number"#
            ),
            (
                #"{"eventName":"INSERT","dynamodb":{"Keys":{},"NewImage":{"tags":{"L":[{"N":"x"}]}},"SequenceNumber":"1"}}"#,
                #"dynamodb.NewImage.tags[0]: "x" is not a number"#
            ),
            (
                #"{"eventName":"INSERT","dynamodb":{"Keys":{},"OldImage":"x","SequenceNumber":"1"}}"#,
                "dynamodb.OldImage: expected an object of attributes, got string"
            ),
            (
                #"{"eventName":"INSERT","dynamodb":{"Keys":{},"SequenceNumber":"1","SizeBytes":1.5}}"#,
                "dynamodb.SizeBytes: expected an integer, got number"
            ),
            (
                #"{"eventName":"INSERT","dynamodb":{"Keys":{},"SequenceNumber":"1","ApproximateCreationDateTime":"2026-01-01"}}"#,
                "dynamodb.ApproximateCreationDateTime: expected epoch seconds as a number, got string"
            ),
            (
                #"{"eventName":"INSERT","dynamodb":{"Keys":{},"SequenceNumber":"1","ApproximateCreationDateTime":1e300}}"#,
                #"dynamodb.ApproximateCreationDateTime: "1e300" is not a time between years 1 and 9999"#
            ),
            (
                #"{"eventName":"INSERT","dynamodb":{"Keys":{},"SequenceNumber":"1","StreamViewType":true}}"#,
                "dynamodb.StreamViewType: expected a string, got boolean"
            ),
            (
                #"{"eventName":"REMOVE","userIdentity":"svc","dynamodb":{"Keys":{},"SequenceNumber":"1"}}"#,
                "userIdentity: expected an object, got string"
            ),
            (
                #"{"eventName":"REMOVE","userIdentity":{"type":1},"dynamodb":{"Keys":{},"SequenceNumber":"1"}}"#,
                "userIdentity.type: expected a string, got number"
            ),
            (
                #"{"eventName":"REMOVE","awsRegion":["x"],"dynamodb":{"Keys":{},"SequenceNumber":"1"}}"#,
                "awsRegion: expected a string, got array"
            ),
        ])
    func badRecords(json: String, description: String) throws {
        let value = try JSONValue(parsing: json)
        #expect {
            try StreamRecord(json: value)
        } throws: { error in
            String(describing: error) == description
        }
    }
}
