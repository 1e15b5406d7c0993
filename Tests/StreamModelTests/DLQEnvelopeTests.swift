import Foundation
import Testing

@testable import StreamModel

@Suite("DLQEnvelope classification")
struct DLQEnvelopeTests {
    @Test("format A as docs/design.md shows it reads every field")
    func failedBatch() throws {
        let envelope = DLQEnvelope(body: Samples.failedBatchBody)
        #expect(envelope.format == .failedBatch)
        guard case .failedBatch(let batch) = envelope else {
            Issue.record("expected A, got \(envelope)")
            return
        }
        #expect(batch.requestID == "c9b8f5a2-1111-2222-3333-444455556666")
        #expect(batch.functionARN == "arn:aws:lambda:eu-west-2:123456789012:function:dynamodb-sync-handler")
        #expect(batch.condition == "RetryAttemptsExhausted")
        #expect(batch.approximateInvokeCount == 3)
        #expect(batch.statusCode == 200)
        #expect(batch.functionError == "Unhandled")
        #expect(batch.timestamp == "2026-11-24T10:00:05.000Z")
        #expect(batch.shardID == "shardId-00000001573689847184-864758bb")
        #expect(batch.startSequenceNumber == SequenceNumber("800000000003126276362"))
        #expect(batch.endSequenceNumber == SequenceNumber("800000000003126276371"))
        #expect(batch.batchSize == 10)
        #expect(batch.streamARN.hasSuffix("table/tattoo-directory-local/stream/2026-11-24T09:00:00.000"))
        #expect(batch.approximateArrivalOfFirstRecord == "2026-11-24T10:00:00Z")
        #expect(batch.approximateArrivalOfLastRecord == "2026-11-24T10:00:01Z")
        let original = try JSONValue(parsing: Samples.failedBatchBody)["DDBStreamBatchInfo"]
        #expect(batch.batchInfoJSON == original)
    }

    @Test("a hand-built failed batch describes itself in DDBStreamBatchInfo form, like a parsed one")
    func builtFailedBatch() throws {
        guard case .failedBatch(let parsed) = DLQEnvelope(body: Samples.failedBatchBody) else {
            Issue.record("expected A")
            return
        }
        let built = FailedBatch(
            requestID: parsed.requestID, functionARN: parsed.functionARN, condition: parsed.condition,
            approximateInvokeCount: parsed.approximateInvokeCount, statusCode: parsed.statusCode,
            functionError: parsed.functionError, timestamp: parsed.timestamp, shardID: parsed.shardID,
            startSequenceNumber: parsed.startSequenceNumber, endSequenceNumber: parsed.endSequenceNumber,
            batchSize: parsed.batchSize, streamARN: parsed.streamARN,
            approximateArrivalOfFirstRecord: parsed.approximateArrivalOfFirstRecord,
            approximateArrivalOfLastRecord: parsed.approximateArrivalOfLastRecord)
        #expect(built == parsed)
    }

    @Test("format A is read leniently: open condition, no responseContext, odd optional types")
    func lenientFailedBatch() throws {
        let body = #"""
            {"requestContext": {"condition": "SomethingNew", "approximateInvokeCount": "2"},
             "DDBStreamBatchInfo": {"shardId": "s", "startSequenceNumber": "5", "endSequenceNumber": 5,
                                    "streamArn": "arn", "batchSize": "ten", "approximateArrivalOfFirstRecord": 1795514400,
                                    "extra": {"kept": true}}}
            """#
        guard case .failedBatch(let batch) = DLQEnvelope(body: body) else {
            Issue.record("expected A, got \(DLQEnvelope(body: body))")
            return
        }
        #expect(batch.condition == "SomethingNew")
        #expect(batch.approximateInvokeCount == 2)
        #expect(batch.statusCode == nil)
        #expect(batch.functionError == nil)
        #expect(batch.requestID == nil)
        #expect(batch.batchSize == nil)
        #expect(batch.approximateArrivalOfFirstRecord == "1795514400")
        #expect(batch.startSequenceNumber == batch.endSequenceNumber)
        #expect(batch.batchInfoJSON["extra"] == .object(["kept": .bool(true)]))
    }

    @Test(
        "format A with a bad required field is C, naming the field",
        arguments: [
            (#"{"DDBStreamBatchInfo": []}"#, "DDBStreamBatchInfo: expected an object, got array"),
            (#"{"DDBStreamBatchInfo": null}"#, "DDBStreamBatchInfo: missing"),
            (
                #"{"DDBStreamBatchInfo": {"startSequenceNumber": "1", "endSequenceNumber": "2", "streamArn": "a"}}"#,
                "DDBStreamBatchInfo.shardId: missing"
            ),
            (
                #"{"DDBStreamBatchInfo": {"shardId": "s", "endSequenceNumber": "2", "streamArn": "a"}}"#,
                "DDBStreamBatchInfo.startSequenceNumber: missing"
            ),
            (
                #"{"DDBStreamBatchInfo": {"shardId": "s", "startSequenceNumber": "1", "streamArn": "a"}}"#,
                "DDBStreamBatchInfo.endSequenceNumber: missing"
            ),
            (
                #"{"DDBStreamBatchInfo": {"shardId": "s", "startSequenceNumber": "1", "endSequenceNumber": "2"}}"#,
                "DDBStreamBatchInfo.streamArn: missing"
            ),
            (
                #"{"DDBStreamBatchInfo": {"shardId": 7, "startSequenceNumber": "1", "endSequenceNumber": "2", "streamArn": "a"}}"#,
                "DDBStreamBatchInfo.shardId: expected a string, got number"
            ),
            (
                #"{"DDBStreamBatchInfo": {"shardId": "s", "startSequenceNumber": "x1", "endSequenceNumber": "2", "streamArn": "a"}}"#,
                #"DDBStreamBatchInfo.startSequenceNumber: "x1" is not a sequence number (1 to 80 digits)"#
            ),
            (
                #"{"DDBStreamBatchInfo": {"shardId": "s", "startSequenceNumber": true, "endSequenceNumber": "2", "streamArn": "a"}}"#,
                "DDBStreamBatchInfo.startSequenceNumber: expected a string of digits, got boolean"
            ),
            (
                #"{"DDBStreamBatchInfo": {"shardId": "s", "startSequenceNumber": "800000000003126276371", "endSequenceNumber": "800000000003126276362", "streamArn": "a"}}"#,
                "DDBStreamBatchInfo: startSequenceNumber 800000000003126276371 is after endSequenceNumber 800000000003126276362"
            ),
        ])
    func badFailedBatch(body: String, reason: String) {
        #expect(DLQEnvelope(body: body) == .unrecognized(reason: reason))
    }

    @Test("format B with Records reads every record and the producer metadata")
    func forwardedRecords() throws {
        guard case .forwardedRecords(let forwarded) = DLQEnvelope(body: Samples.forwardedBody) else {
            Issue.record("expected B")
            return
        }
        #expect(forwarded.records.count == 2)
        #expect(forwarded.records[0] == (try StreamRecord(json: JSONValue(parsing: Samples.modifyRecord))))
        #expect(forwarded.records[1].eventName == .remove)
        #expect(forwarded.errorMessage == "OpenSearch 503")
        #expect(forwarded.errorType == "ServiceUnavailable")
        #expect(forwarded.correlationID == "corr-1")
        #expect(DLQEnvelope(body: Samples.forwardedBody).format == .forwardedRecords)
    }

    @Test("format B as a single stream record, with metadata beside it")
    func singleRecord() throws {
        var fields = try #require(JSONValue(parsing: Samples.ttlRemoveRecord).objectValue)
        fields["errorMessage"] = .object(["code": .number("503")])
        fields["correlationId"] = .null
        guard case .forwardedRecords(let forwarded) = DLQEnvelope(body: JSONValue.object(fields).serialized) else {
            Issue.record("expected B")
            return
        }
        #expect(forwarded.records.count == 1)
        #expect(forwarded.records[0].userIdentity?.isTimeToLiveDeletion == true)
        #expect(forwarded.errorMessage == #"{"code":503}"#)
        #expect(forwarded.errorType == nil)
        #expect(forwarded.correlationID == nil)
    }

    @Test(
        "everything else is C with a one-line reason saying what and where",
        arguments: [
            ("", "empty body"),
            (" \n\t", "empty body"),
            ("x", "not JSON: unexpected character 'x' at byte 0 (expected a value)"),
            ("{\"a\":", "not JSON: unexpected end of input at byte 5 (expected a value)"),
            ("{\"Records\": []} trailing", "not JSON: unexpected character 't' after the JSON value at byte 16"),
            ("[1,2]", "JSON array, expected an object"),
            ("\"hello\"", "JSON string, expected an object"),
            ("42", "JSON number, expected an object"),
            ("null", "JSON null, expected an object"),
            ("{}", "JSON object without DDBStreamBatchInfo, Records or a stream record (keys: none)"),
            (
                #"{"KinesisBatchInfo": {}, "requestContext": {}}"#,
                #"JSON object without DDBStreamBatchInfo, Records or a stream record (keys: "KinesisBatchInfo", "requestContext")"#
            ),
            (#"{"Records": []}"#, "Records: empty array, no stream records"),
            (#"{"Records": {}}"#, "Records: expected an array of stream records, got object"),
            (#"{"Records": [5]}"#, "Records[0]: a stream record must be an object, got number"),
            (
                #"{"eventName": "UPSERT", "dynamodb": {}}"#,
                #"eventName: unknown event name "UPSERT" (expected INSERT, MODIFY or REMOVE)"#
            ),
            (#"{"dynamodb": {"Keys": {}, "SequenceNumber": "1"}}"#, "eventName: missing"),
        ])
    func unrecognized(body: String, reason: String) {
        #expect(DLQEnvelope(body: body) == .unrecognized(reason: reason))
        #expect(DLQEnvelope(body: body).format == .unrecognized)
    }

    @Test("a bad record in Records makes the body C, naming the record's index")
    func badRecordIndex() throws {
        var records = try #require(JSONValue(parsing: Samples.forwardedBody)["Records"]?.arrayValue)
        let upsert = try JSONValue(
            parsing: #"{"eventName": "UPSERT", "dynamodb": {"Keys": {}, "SequenceNumber": "9"}}"#)
        records.append(contentsOf: [records[0], upsert])
        let body = JSONValue.object(["Records": .array(records)]).serialized
        #expect(
            DLQEnvelope(body: body)
                == .unrecognized(
                    reason: #"Records[3].eventName: unknown event name "UPSERT" (expected INSERT, MODIFY or REMOVE)"#))

        let missingSequence = try JSONValue(parsing: #"{"eventName": "INSERT", "dynamodb": {"Keys": {}}}"#)
        let body2 = JSONValue.object(["Records": .array([records[0], missingSequence])]).serialized
        #expect(DLQEnvelope(body: body2) == .unrecognized(reason: "Records[1].dynamodb.SequenceNumber: missing"))

        let badImage = try JSONValue(
            parsing:
                #"{"eventName": "INSERT", "dynamodb": {"Keys": {}, "SequenceNumber": "1", "NewImage": {"n": {"N": 5}}}}"#
        )
        let body3 = JSONValue.object(["Records": .array([badImage])]).serialized
        #expect(
            DLQEnvelope(body: body3)
                == .unrecognized(
                    reason: #"Records[0].dynamodb.NewImage.n: "N" must be a string of decimal text, got 5"#))
    }

    @Test("reasons stay on one line and short, whatever the input holds")
    func reasonsAreOneLine() {
        let longName = String(repeating: "ü\n", count: 500)
        let bodies = [
            JSONValue.object(["eventName": .string(longName), "dynamodb": .object([:])]).serialized,
            JSONValue.object([longName: .null]).serialized,
            #"{"Records":[{"eventName":"INSERT","dynamodb":{"Keys":{"\#(String(repeating: "k\\u2028", count: 100))":{"X":1}},"SequenceNumber":"1"}}]}"#,
            String(repeating: "{\"a\":", count: 100_000),
            "{\"a\":\"\u{2028}\n\"" + String(repeating: "x", count: 1000),
        ]
        for body in bodies {
            guard case .unrecognized(let reason) = DLQEnvelope(body: body) else {
                Issue.record("expected C for \(body.prefix(60))")
                continue
            }
            #expect(!reason.isEmpty)
            #expect(!reason.contains { $0.isNewline })
            #expect(reason.count <= DLQEnvelope.maxReasonLength)
        }
    }

    @Test("mutated A and B bodies never crash; every C has a non-empty one-line reason")
    func mutationFuzz() {
        var generator = SeededGenerator(seed: 20_261_124)
        let seeds = [Samples.failedBatchBody, Samples.forwardedBody, Samples.ttlRemoveRecord, Samples.modifyRecord]
            .map { Array($0.utf8) }
        let interesting = Array(#"{}[]",:0123456789-+.eE\"ntfu \#n"#.utf8) + [0x00, 0x80, 0xFF, 0xC3, 0xED]
        var counts: [EnvelopeFormat: Int] = [:]
        for round in 0..<4000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<6, using: &generator) {
                case 0: bytes[position] = interesting.randomElement(using: &generator)!
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(interesting.randomElement(using: &generator)!, at: position)
                case 3: bytes.removeSubrange(position...)
                case 4:
                    let end = min(bytes.count, position + Int.random(in: 1...40, using: &generator))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                default: bytes[position] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            let envelope = DLQEnvelope(body: String(decoding: bytes, as: UTF8.self))
            counts[envelope.format, default: 0] += 1
            if case .unrecognized(let reason) = envelope {
                #expect(!reason.isEmpty)
                #expect(!reason.contains { $0.isNewline })
            }
        }
        // The mutations must exercise every outcome, or the test proves little.
        #expect(counts[.failedBatch, default: 0] > 100)
        #expect(counts[.forwardedRecords, default: 0] > 100)
        #expect(counts[.unrecognized, default: 0] > 1000)
    }
}
