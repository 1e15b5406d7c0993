// TEMPORARY: minimal stand-ins for the StreamModel contract types that AuditLog uses,
// so the audit-log branch compiles before the real module lands. The integrator drops
// this file when merging the real StreamModel (see /work/contracts.md).
import Foundation

/// A DynamoDB Streams sequence number (stub).
public struct SequenceNumber: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// Canonical digits, no leading zeros.
    public let digits: String

    /// Digits only, 1...80 characters.
    public init?(_ text: String) {
        guard (1...80).contains(text.utf8.count), text.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        let trimmed = text.drop(while: { $0 == "0" })
        digits = trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// Zero-padded to 80 characters.
    public var sortKey: String { String(repeating: "0", count: 80 - digits.utf8.count) + digits }

    /// From a sort key.
    public init?(sortKey: String) {
        guard sortKey.utf8.count == 80 else { return nil }
        self.init(sortKey)
    }

    public var description: String { digits }

    public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool { lhs.sortKey < rhs.sortKey }
}

/// Stream event names (stub).
public enum EventName: String, Sendable, Hashable, CaseIterable, Codable {
    case insert = "INSERT", modify = "MODIFY", remove = "REMOVE"
}

/// DLQ body formats (stub).
public enum EnvelopeFormat: String, Sendable, Hashable, CaseIterable {
    case failedBatch = "A", forwardedRecords = "B", unrecognized = "C"
}

/// JSON parse failure (stub).
public struct JSONParseError: Error, CustomStringConvertible {
    public var description: String
    public var offset: Int
}

/// JSON keeping number text (stub).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses UTF-8 JSON.
    public init(parsing data: some Collection<UInt8>, maxDepth: Int = 512) throws(JSONParseError) {
        var parser = StubJSONParser(bytes: Array(data), maxDepth: maxDepth)
        self = try parser.parseDocument()
    }

    /// Parses JSON text.
    public init(parsing text: String, maxDepth: Int = 512) throws(JSONParseError) {
        try self.init(parsing: Array(text.utf8), maxDepth: maxDepth)
    }

    /// Compact, keys sorted.
    public var serialized: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let text): return text
        case .string(let text): return Self.quote(text)
        case .array(let values): return "[" + values.map(\.serialized).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.keys.sorted().map { Self.quote($0) + ":" + members[$0]!.serialized }.joined(separator: ",") + "}"
        }
    }

    public var serializedBytes: [UInt8] { Array(serialized.utf8) }

    public subscript(key: String) -> JSONValue? { objectValue?[key] }
    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    public var numberText: String? { if case .number(let value) = self { value } else { nil } }
    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var intValue: Int? { numberText.flatMap { Int($0) } }

    private static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

private struct StubJSONParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var index = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw fail("trailing characters") }
        return value
    }

    private func fail(_ message: String) -> JSONParseError {
        JSONParseError(description: "\(message) at byte \(index)", offset: index)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ literal: String) throws(JSONParseError) {
        for byte in literal.utf8 {
            guard index < bytes.count, bytes[index] == byte else { throw fail("expected \(literal)") }
            index += 1
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        skipWhitespace()
        guard index < bytes.count else { throw fail("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "["):
            index += 1
            var values: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(values) }
            while true {
                values.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw fail("unexpected end") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(values) }
                throw fail("expected , or ]")
            }
        case UInt8(ascii: "{"):
            index += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected key") }
                let key = try parseString()
                skipWhitespace()
                try expect(":")
                members[key] = try parseValue(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw fail("unexpected end") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                throw fail("expected , or }")
            }
        default:
            let start = index
            while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
            guard index > start else { throw fail("unexpected character") }
            return .number(String(decoding: bytes[start..<index], as: UTF8.self))
        }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() { scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw.removeAll() }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush()
                guard index < bytes.count else { throw fail("unexpected end") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count,
                        let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                    else { throw fail("bad \\u escape") }
                    index += 4
                    if (0xD800..<0xDC00).contains(code), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        let low = UInt32(String(decoding: bytes[index + 2..<index + 6], as: UTF8.self), radix: 16)
                    {
                        index += 6
                        scalars.append(Unicode.Scalar(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}")
                    } else {
                        scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    }
                default: scalars.append(Unicode.Scalar(escape))
                }
            default:
                raw.append(byte)
            }
        }
        throw fail("unterminated string")
    }
}

/// StreamModel failure (stub).
public struct StreamModelError: Error, CustomStringConvertible {
    public var description: String
}

/// DynamoDB attribute values (stub).
public indirect enum AttributeValue: Sendable, Hashable {
    case string(String)
    case number(String)
    case binary(Data)
    case stringSet([String])
    case numberSet([String])
    case binarySet([Data])
    case map([String: AttributeValue])
    case list([AttributeValue])
    case null
    case bool(Bool)

    /// From DynamoDB JSON.
    public init(dynamoJSON: JSONValue) throws(StreamModelError) {
        guard let object = dynamoJSON.objectValue, object.count == 1, let (type, value) = object.first else {
            throw StreamModelError(description: "attribute value must be an object with one type key")
        }
        func strings(_ value: JSONValue) throws(StreamModelError) -> [String] {
            guard let array = value.arrayValue else { throw StreamModelError(description: "\(type) must be an array") }
            var result: [String] = []
            for element in array {
                guard let text = element.stringValue else { throw StreamModelError(description: "\(type) must hold strings") }
                result.append(text)
            }
            return result
        }
        func data(_ text: String) throws(StreamModelError) -> Data {
            guard let data = Data(base64Encoded: text) else { throw StreamModelError(description: "bad base64") }
            return data
        }
        switch (type, value) {
        case ("S", .string(let text)): self = .string(text)
        case ("N", .string(let text)): self = .number(text)
        case ("B", .string(let text)): self = .binary(try data(text))
        case ("SS", _): self = .stringSet(try strings(value))
        case ("NS", _): self = .numberSet(try strings(value))
        case ("BS", _):
            var sets: [Data] = []
            for text in try strings(value) { sets.append(try data(text)) }
            self = .binarySet(sets)
        case ("M", .object(let members)):
            var map: [String: AttributeValue] = [:]
            for (key, member) in members { map[key] = try AttributeValue(dynamoJSON: member) }
            self = .map(map)
        case ("L", .array(let elements)):
            var list: [AttributeValue] = []
            for element in elements { list.append(try AttributeValue(dynamoJSON: element)) }
            self = .list(list)
        case ("NULL", .bool(true)): self = .null
        case ("BOOL", .bool(let flag)): self = .bool(flag)
        default: throw StreamModelError(description: "unsupported attribute value type \(type)")
        }
    }

    /// To DynamoDB JSON.
    public var dynamoJSON: JSONValue {
        switch self {
        case .string(let text): return .object(["S": .string(text)])
        case .number(let text): return .object(["N": .string(text)])
        case .binary(let data): return .object(["B": .string(data.base64EncodedString())])
        case .stringSet(let texts): return .object(["SS": .array(texts.map(JSONValue.string))])
        case .numberSet(let texts): return .object(["NS": .array(texts.map(JSONValue.string))])
        case .binarySet(let datas): return .object(["BS": .array(datas.map { .string($0.base64EncodedString()) })])
        case .map(let members): return .object(["M": .object(members.mapValues(\.dynamoJSON))])
        case .list(let elements): return .object(["L": .array(elements.map(\.dynamoJSON))])
        case .null: return .object(["NULL": .bool(true)])
        case .bool(let flag): return .object(["BOOL": .bool(flag)])
        }
    }
}

/// A DynamoDB item (stub).
public typealias Item = [String: AttributeValue]

extension Dictionary where Key == String, Value == AttributeValue {
    /// From DynamoDB JSON.
    public init(dynamoJSON: JSONValue) throws(StreamModelError) {
        guard let object = dynamoJSON.objectValue else { throw StreamModelError(description: "item must be an object") }
        var item: [String: AttributeValue] = [:]
        for (key, value) in object { item[key] = try AttributeValue(dynamoJSON: value) }
        self = item
    }

    /// To DynamoDB JSON.
    public var dynamoJSON: JSONValue { .object(mapValues(\.dynamoJSON)) }
}
