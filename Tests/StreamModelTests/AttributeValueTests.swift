import Foundation
import Testing

@testable import StreamModel

@Suite("AttributeValue")
struct AttributeValueTests {
    static let everyType: [(json: String, value: AttributeValue)] = [
        (#"{"S":"héllo \"x\""}"#, .string("héllo \"x\"")),
        (#"{"S":""}"#, .string("")),
        (#"{"N":"12345678901234567890.123"}"#, .number("12345678901234567890.123")),
        (#"{"N":"-0.000001"}"#, .number("-0.000001")),
        (#"{"B":"AAEC/w=="}"#, .binary(Data([0, 1, 2, 255]))),
        (#"{"B":""}"#, .binary(Data())),
        (#"{"SS":["b","a","é"]}"#, .stringSet(["b", "a", "é"])),
        (#"{"NS":["10","9","1.5e3"]}"#, .numberSet(["10", "9", "1.5e3"])),
        (#"{"BS":["AQ==","AA=="]}"#, .binarySet([Data([1]), Data([0])])),
        (#"{"M":{}}"#, .map([:])),
        (#"{"L":[]}"#, .list([])),
        (#"{"NULL":true}"#, .null),
        (#"{"BOOL":false}"#, .bool(false)),
        (#"{"BOOL":true}"#, .bool(true)),
    ]

    @Test("every type reads from and writes back to the same DynamoDB JSON", arguments: 0..<14)
    func everyTypeRoundTrips(index: Int) throws {
        let (json, expected) = Self.everyType[index]
        let parsed = try JSONValue(parsing: json)
        let value = try AttributeValue(dynamoJSON: parsed)
        #expect(value == expected)
        #expect(value.dynamoJSON == parsed)
        #expect(value.dynamoJSON.serialized == parsed.serialized)
        #expect(try AttributeValue(dynamoJSON: JSONValue(parsing: value.dynamoJSON.serialized)) == value)
    }

    @Test("nested maps and lists of every type round-trip, numbers exactly")
    func nested() throws {
        let text = #"""
            {"PK":{"S":"ARTIST#1"},"profile":{"M":{"scores":{"L":[{"N":"1.10"},{"N":"99999999999999999999999999999999999999"},
            {"M":{"deep":{"L":[{"L":[{"NULL":true},{"BOOL":true},{"B":"/w=="},{"SS":["x"]},{"NS":["-1E-130"]},{"BS":["AA=="]}]}]}}}]},
            "name":{"S":"Ink"}}}}
            """#
        let json = try JSONValue(parsing: text)
        let item = try Item(dynamoJSON: json)
        #expect(item.dynamoJSON == json)
        guard case .map(let profile)? = item["profile"], case .list(let scores)? = profile["scores"] else {
            Issue.record("profile.scores is not a list: \(String(describing: item["profile"]))")
            return
        }
        #expect(scores[0] == .number("1.10"))
        #expect(scores[1] == .number("99999999999999999999999999999999999999"))
        #expect(try Item(dynamoJSON: JSONValue(parsing: item.dynamoJSON.serialized)) == item)
    }

    @Test("nesting 100 levels deep round-trips")
    func deep() throws {
        var value = AttributeValue.string("leaf")
        for level in 0..<100 {
            value = level.isMultiple(of: 2) ? .list([value]) : .map(["k": value])
        }
        let text = value.dynamoJSON.serialized
        #expect(try AttributeValue(dynamoJSON: JSONValue(parsing: text)) == value)
    }

    @Test(
        "wrong shapes are rejected with a message naming the problem",
        arguments: [
            (#"{}"#, "an attribute value needs exactly one type key (S, N, B, SS, NS, BS, M, L, NULL, BOOL), got 0"),
            (
                #"{"S":"a","N":"1"}"#,
                #"an attribute value needs exactly one type key (S, N, B, SS, NS, BS, M, L, NULL, BOOL), got 2: "N", "S""#
            ),
            (#"{"X":"a"}"#, #"unknown attribute type "X""#),
            (#""S""#, "expected an attribute value object such as {\"S\": …}, got string"),
            (#"{"S":1}"#, #""S" must be a string, got number"#),
            (#"{"N":5}"#, #""N" must be a string of decimal text, got 5"#),
            (#"{"N":"12a"}"#, #""12a" is not a number"#),
            (#"{"N":""}"#, #""" is not a number"#),
            (#"{"N":"1E+200"}"#, #"number "1E+200" is outside DynamoDB's range (1E-130 to 9.99…E+125)"#),
            (#"{"B":"not base64!"}"#, #""B" is not valid base64: "not base64!""#),
            (#"{"B":5}"#, #""B" must be a base64 string, got number"#),
            (#"{"NULL":false}"#, #""NULL" must be true, got false"#),
            (#"{"NULL":"true"}"#, #""NULL" must be true, got "true""#),
            (#"{"BOOL":"true"}"#, #""BOOL" must be a boolean, got string"#),
            (#"{"BOOL":1}"#, #""BOOL" must be a boolean, got number"#),
            (#"{"SS":"a"}"#, #""SS" must be an array, got string"#),
            (#"{"SS":[]}"#, #""SS" is empty (DynamoDB sets have at least one element)"#),
            (#"{"SS":["a",1]}"#, #"[1]: "SS" must be strings, got number"#),
            (#"{"SS":["a","a"]}"#, #""SS" element 1 duplicates an earlier element (sets are unique)"#),
            (#"{"NS":["1",2]}"#, #"[1]: "NS" must be strings of decimal text, got 2"#),
            (#"{"NS":["1","x"]}"#, #"[1]: "x" is not a number"#),
            (#"{"NS":["1","1.0"]}"#, #""NS" element 1 duplicates an earlier element (sets are unique)"#),
            (#"{"BS":["AA==","%%"]}"#, #"[1]: "BS" is not valid base64: "%%""#),
            (#"{"BS":[true]}"#, #"[0]: "BS" must be base64 strings, got boolean"#),
            (#"{"M":[]}"#, #""M" must be an object, got array"#),
            (#"{"M":{"a":{"S":1}}}"#, #"a: "S" must be a string, got number"#),
            (#"{"L":{}}"#, #""L" must be an array, got object"#),
            (#"{"L":[{"S":"x"},{"N":5}]}"#, #"[1]: "N" must be a string of decimal text, got 5"#),
            (#"{"L":[{"M":{"b":{"L":[{"BOOL":null}]}}}]}"#, #"[0].b[0]: "BOOL" must be a boolean, got null"#),
        ])
    func wrongShapes(json: String, description: String) throws {
        let value = try JSONValue(parsing: json)
        #expect {
            try AttributeValue(dynamoJSON: value)
        } throws: { error in
            String(describing: error) == description
        }
    }

    @Test("item errors name the attribute path, choosing the first bad attribute by name")
    func itemErrors() throws {
        let json = try JSONValue(
            parsing: #"{"z":{"N":"x"},"b":{"M":{"c d":{"L":[{"S":"ok"},{"N":1}]}}},"a":{"S":"fine"}}"#)
        for _ in 0..<5 {
            #expect {
                try Item(dynamoJSON: json)
            } throws: { error in
                String(describing: error) == #"b."c d"[1]: "N" must be a string of decimal text, got 1"#
            }
        }
        #expect(throws: StreamModelError.self) { try Item(dynamoJSON: .array([])) }
    }

    @Test("attribute names with newlines are quoted, keeping the message on one line")
    func quotedNames() throws {
        let json = JSONValue.object(["bad\nname": .object(["S": .number("1")])])
        #expect {
            try Item(dynamoJSON: json)
        } throws: { error in
            let text = String(describing: error)
            return text == #""bad\nname": "S" must be a string, got number"# && !text.contains("\n")
        }
    }

    @Test("typeKey names the DynamoDB type of each case", arguments: 0..<14)
    func typeKeys(index: Int) throws {
        let (json, value) = Self.everyType[index]
        let typeKey = try #require(JSONValue(parsing: json).objectValue?.keys.first)
        #expect(value.typeKey == typeKey)
    }
}
