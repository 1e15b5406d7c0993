import Foundation
import Testing

@testable import StreamModel

@Suite("JSONValue parsing")
struct JSONValueParsingTests {
    @Test("scalars parse to their cases")
    func scalars() throws {
        #expect(try JSONValue(parsing: "null") == .null)
        #expect(try JSONValue(parsing: "true") == .bool(true))
        #expect(try JSONValue(parsing: " false ") == .bool(false))
        #expect(try JSONValue(parsing: "\"x\"") == .string("x"))
        #expect(try JSONValue(parsing: "-0") == .number("-0"))
        #expect(try JSONValue(parsing: "[]") == .array([]))
        #expect(try JSONValue(parsing: "{}") == .object([:]))
        #expect(
            try JSONValue(parsing: "\t\r\n[ 1 , {\"a\" : [ ] } ]\n")
                == .array([.number("1"), .object(["a": .array([])])]))
    }

    @Test(
        "number text is kept exactly",
        arguments: [
            "12345678901234567890.123", "0", "-0", "0.0", "1e400", "-1.5E-10", "1E+3", "123456789012345678901234567890",
            "0.10000000000000000000000000000001", "2e-0001",
        ])
    func exactNumbers(text: String) throws {
        let value = try JSONValue(parsing: "[\(text)]")
        #expect(value == .array([.number(text)]))
        #expect(value.serialized == "[\(text)]")
    }

    @Test(
        "invalid numbers are errors with the offset of the number",
        arguments: [
            ("[01]", 1), ("[1.]", 1), ("[.5]", 1), ("[-]", 1), ("[+1]", 1), ("[1e]", 1), ("[1e+]", 1), ("[-a]", 1),
            ("[0x10]", 2),
        ])
    func invalidNumbers(text: String, offset: Int) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            (error as? JSONParseError)?.offset == offset
        }
    }

    @Test("string escapes decode, including surrogate pairs")
    func escapes() throws {
        let text = #""a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u20AC\ud83d\ude00""#
        #expect(try JSONValue(parsing: text) == .string("a\"b\\c/d\u{8}e\u{c}f\ng\rh\tiAé€😀"))
        #expect(try JSONValue(parsing: #""\u0000""#) == .string("\u{0}"))
        #expect(try JSONValue(parsing: "\"é😀 raw\"") == .string("é😀 raw"))
    }

    @Test(
        "lone surrogates are errors, not replacement characters",
        arguments: [#""\ud800""#, #""\ud800x""#, #""\ud800\u0041""#, #""\udc00""#, #""a\uDBFF\uDBFF""#])
    func loneSurrogates(text: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            String(describing: error).contains("lone surrogate")
        }
    }

    @Test(
        "malformed strings are errors with a byte offset",
        arguments: [
            ("\"abc", "unterminated string starting at byte 0"),
            ("[\"a\nb\"]", "unescaped control byte 0x0A in string at byte 3"),
            (#""\x""#, "invalid escape: backslash followed by character 'x' at byte 1"),
            (#""\u12""#, "invalid \\u escape at byte 1 (expected 4 hex digits)"),
            (#""\u12G4""#, "invalid \\u escape at byte 1 (expected 4 hex digits)"),
            ("\"\\", "unterminated escape at byte 1"),
        ])
    func malformedStrings(text: String, description: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            String(describing: error) == description
        }
    }

    @Test(
        "invalid UTF-8 is an error at the first bad byte",
        arguments: [
            ([0x22, 0xFF, 0x22], 1), ([0x22, 0x61, 0xC3, 0x22], 2), ([0x22, 0xC0, 0x80, 0x22], 1),
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1), ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1), ([0x22, 0xE2, 0x82], 1),
            ([0x5B, 0x80, 0x5D], 1),
        ] as [([UInt8], Int)])
    func invalidUTF8(bytes: [UInt8], offset: Int) {
        #expect {
            try JSONValue(parsing: bytes)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.offset == offset && (error.description.contains("UTF-8") || error.description.contains("0x80"))
        }
    }

    @Test(
        "structural errors name what was expected",
        arguments: [
            ("", "unexpected end of input at byte 0 (expected a value)"),
            ("x", "unexpected character 'x' at byte 0 (expected a value)"),
            ("[1 2]", "unexpected character '2' at byte 3 (expected ',' or ']' after an array element)"),
            ("[1,]", "unexpected character ']' at byte 3 (expected a value)"),
            ("{\"a\" 1}", "unexpected character '1' at byte 5 (expected ':' after an object key)"),
            ("{\"a\":1,}", "unexpected character '}' at byte 7 (expected a string key)"),
            ("{1:2}", "unexpected character '1' at byte 1 (expected a string key)"),
            ("{\"a\":1 \"b\":2}", "unexpected character '\"' at byte 7 (expected ',' or '}' after an object member)"),
            ("tru", "invalid literal at byte 0 (expected true)"),
            ("nul!", "invalid literal at byte 0 (expected null)"),
            ("{\"a\":1,\"a\":2}", "duplicate key \"a\" at byte 7"),
            ("{} x", "unexpected character 'x' after the JSON value at byte 3"),
            ("[1]]", "unexpected character ']' after the JSON value at byte 3"),
            ("\u{FEFF}{}", "unexpected byte 0xEF at byte 0 (expected a value)"),
            ("[1 /* c */]", "unexpected character '/' at byte 3 (expected ',' or ']' after an array element)"),
        ])
    func structuralErrors(text: String, description: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            String(describing: error) == description
        }
    }

    @Test("every truncation of a valid document is an error, never a crash")
    func truncations() throws {
        let document = #"{"a":[1,-2.5e+3,true,false,null,"x\u00e9\ud83d\ude00"],"b":{"c":"é"}}"#
        let bytes = Array(document.utf8)
        _ = try JSONValue(parsing: bytes)
        for length in 0..<bytes.count {
            #expect(throws: JSONParseError.self) { try JSONValue(parsing: bytes[0..<length]) }
        }
    }

    @Test("nesting up to maxDepth parses; one more level is an error")
    func depthLimit() throws {
        let atLimit = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        _ = try JSONValue(parsing: atLimit)
        let overLimit = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect {
            try JSONValue(parsing: overLimit)
        } throws: { error in
            String(describing: error) == "nesting deeper than 512 levels at byte 512"
        }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: "{\"a\":{\"b\":[1]}}", maxDepth: 2) }
        #expect(try JSONValue(parsing: "{\"a\":[1]}", maxDepth: 2) == .object(["a": .array([.number("1")])]))
    }

    @Test("100,000 levels of nesting are an error, not a crash, whatever maxDepth asks for")
    func deepNesting() {
        let arrays = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: arrays) }
        #expect {
            try JSONValue(parsing: arrays, maxDepth: 1_000_000)
        } throws: { error in
            (error as? JSONParseError)?.offset == JSONValue.depthCeiling
        }
        let objects = String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: objects) }
        let atCeiling =
            String(repeating: "[", count: JSONValue.depthCeiling)
            + String(repeating: "]", count: JSONValue.depthCeiling)
        let value = try? JSONValue(parsing: atCeiling, maxDepth: .max)
        #expect(value?.serialized == atCeiling)
        let unclosed = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: unclosed) }
    }

    @Test("a 10 MB string parses and serializes back")
    func hugeString() throws {
        let payload = String(repeating: "abcdefgé\\n", count: 1_000_000)
        let value = try JSONValue(parsing: "{\"big\":\"\(payload)\"}")
        let text = try #require(value["big"]?.stringValue)
        #expect(text.utf8.count == 10_000_000)
        #expect(text.hasPrefix("abcdefgé\nabcdefgé\n"))
        #expect(try JSONValue(parsing: value.serializedBytes) == value)
    }

    @Test("a large array of records parses")
    func largeArray() throws {
        let element = #"{"eventName":"MODIFY","dynamodb":{"Keys":{"PK":{"S":"ARTIST#1"}},"SequenceNumber":"1"}}"#
        let text = "[" + Array(repeating: element, count: 20_000).joined(separator: ",") + "]"
        let value = try JSONValue(parsing: text)
        #expect(value.arrayValue?.count == 20_000)
    }

    @Test("random binary garbage never crashes the parser")
    func binaryGarbage() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<3000 {
            let length = Int.random(in: 0..<64, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do throws(JSONParseError) {
                _ = try JSONValue(parsing: bytes)
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count)
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test("Data, arrays, slices and non-contiguous collections parse the same")
    func inputKinds() throws {
        let text = #"{"a":[1,"é"]}"#
        let expected: JSONValue = .object(["a": .array([.number("1"), .string("é")])])
        #expect(try JSONValue(parsing: Data(text.utf8)) == expected)
        #expect(try JSONValue(parsing: Array(text.utf8)) == expected)
        #expect(try JSONValue(parsing: Array(("xx" + text).utf8).dropFirst(2)) == expected)
        #expect(try JSONValue(parsing: text.utf8.lazy.map { $0 }) == expected)
        #expect(try JSONValue(parsing: text.utf8) == expected)
    }
}

@Suite("JSONValue serialization and accessors")
struct JSONValueSerializationTests {
    @Test("keys are sorted by code point and output is compact")
    func sortedKeys() {
        let value: JSONValue = .object([
            "b": .number("1"), "a": .array([.null, .bool(true)]), "é": .string("x"),
            "Z": .object(["y": .number("2"), "x": .number("1")]),
        ])
        #expect(value.serialized == #"{"Z":{"x":1,"y":2},"a":[null,true],"b":1,"é":"x"}"#)
    }

    @Test("strings are escaped as RFC 8785 does")
    func escaping() {
        let value: JSONValue = .string("q\"b\\s/\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é😀\u{2028}")
        #expect(value.serialized == "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}é😀\u{2028}\"")
        #expect(JSONValue.object(["a\nb": .null]).serialized == #"{"a\nb":null}"#)
    }

    @Test("every control character survives a round trip")
    func controlCharacters() throws {
        let text = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
        let value = JSONValue.string(text)
        #expect(!value.serialized.utf8.contains { $0 < 0x20 })
        #expect(try JSONValue(parsing: value.serialized) == value)
    }

    @Test("parse then serialize then parse is stable")
    func roundTrip() throws {
        let text = #"{"z":[1.50,-0,1E+3,{"k":"v\u0001"}],"a":{"n":null,"t":true,"f":false},"s":"\ud83d\ude00/"}"#
        let value = try JSONValue(parsing: text)
        let again = try JSONValue(parsing: value.serialized)
        #expect(again == value)
        #expect(again.serialized == value.serialized)
        #expect(value.serializedBytes == Array(value.serialized.utf8))
        #expect(value.serialized == #"{"a":{"f":false,"n":null,"t":true},"s":"😀/","z":[1.50,-0,1E+3,{"k":"v\u0001"}]}"#)
    }

    @Test("accessors return values only for their own case")
    func accessors() throws {
        let value = try JSONValue(parsing: #"{"s":"x","n":"1","o":{},"a":[],"b":true,"num":12}"#)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["missing"] == nil)
        #expect(JSONValue.array([])["s"] == nil)
        #expect(value["o"]?.objectValue == [:])
        #expect(value["a"]?.arrayValue == [])
        #expect(value["b"]?.boolValue == true)
        #expect(value["num"]?.numberText == "12")
        #expect(value["s"]?.numberText == nil)
        #expect(value["n"]?.intValue == nil)
        #expect(value["num"]?.stringValue == nil)
        #expect(value["s"]?.boolValue == nil)
        #expect(value["b"]?.arrayValue == nil)
        #expect(value["a"]?.objectValue == nil)
    }

    @Test(
        "intValue reads integral numbers that fit",
        arguments: [
            ("10", 10), ("-10", -10), ("0", 0), ("-0", 0), ("1e3", 1000), ("10.0", 10), ("1.5e1", 15), ("1200e-2", 12),
            ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
        ] as [(String, Int)])
    func intValue(text: String, expected: Int) {
        #expect(JSONValue.number(text).intValue == expected)
    }

    @Test(
        "intValue is nil for fractions and numbers that do not fit",
        arguments: ["1.5", "9223372036854775808", "-9223372036854775809", "1e19", "1e-3", "1e999999999999999999999"])
    func intValueNil(text: String) {
        #expect(JSONValue.number(text).intValue == nil)
    }
}

/// A small deterministic random generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
