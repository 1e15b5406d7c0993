// TEMPORARY: minimal versions of the StreamModel contract types that
// AWSClients uses, so the aws-clients branch builds before the stream-model
// branch lands. The integrator drops this file when merging stream-model.
import Foundation

/// JSON that keeps number text exactly (never goes through Double).
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

    /// Compact serialization, object keys sorted.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// ``serialized`` as UTF-8.
    public var serializedBytes: [UInt8] { Array(serialized.utf8) }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let text): out += text
        case .string(let text): Self.writeString(text, to: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                Self.writeString(key, to: &out)
                out += ":"
                members[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ text: String, to out: inout String) {
        out += "\""
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
        out += "\""
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }
    /// The text of a string.
    public var stringValue: String? { if case .string(let text) = self { text } else { nil } }
    /// The members of an object.
    public var objectValue: [String: JSONValue]? { if case .object(let members) = self { members } else { nil } }
    /// The elements of an array.
    public var arrayValue: [JSONValue]? { if case .array(let values) = self { values } else { nil } }
    /// The exact text of a number.
    public var numberText: String? { if case .number(let text) = self { text } else { nil } }
    /// A boolean's value.
    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
    /// An integral number as Int.
    public var intValue: Int? { numberText.flatMap { Int($0) } }
}

/// Why JSON text could not be parsed.
public struct JSONParseError: Error, CustomStringConvertible {
    /// One line: what and where.
    public var description: String
    /// Byte offset of the problem.
    public var offset: Int
}

private struct StubJSONParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var position = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw failure("trailing characters") }
        return value
    }

    func failure(_ what: String) -> JSONParseError {
        JSONParseError(description: "\(what) at byte \(position)", offset: position)
    }

    mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func expect(_ literal: String) throws(JSONParseError) {
        let expected = Array(literal.utf8)
        guard bytes.count - position >= expected.count, Array(bytes[position..<position + expected.count]) == expected
        else { throw failure("expected \(literal)") }
        position += expected.count
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < maxDepth else { throw failure("nesting deeper than \(maxDepth)") }
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "["):
            position += 1
            var values: [JSONValue] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(values)
            }
            while true {
                values.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard position < bytes.count else { throw failure("unterminated array") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                } else if bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return .array(values)
                } else {
                    throw failure("expected , or ]")
                }
            }
        case UInt8(ascii: "{"):
            position += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected key") }
                let key = try parseString()
                skipWhitespace()
                try expect(":")
                members[key] = try parseValue(depth: depth + 1)
                skipWhitespace()
                guard position < bytes.count else { throw failure("unterminated object") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                } else if bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    return .object(members)
                } else {
                    throw failure("expected , or }")
                }
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = position
            while position < bytes.count,
                "+-.eE0123456789".utf8.contains(bytes[position])
            {
                position += 1
            }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            guard Double(text) != nil else { throw failure("bad number") }
            return .number(text)
        default:
            throw failure("unexpected character")
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        position += 1
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll()
        }
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush()
                guard position < bytes.count else { throw failure("unterminated escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code), bytes.count - position >= 6,
                        bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                    {
                        position += 2
                        let low = try parseHex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw failure("bad \\u escape") }
                    scalars.append(scalar)
                default: throw failure("bad escape")
                }
            default:
                raw.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - position >= 4,
            let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
        else { throw failure("bad \\u escape") }
        position += 4
        return value
    }
}

/// A DynamoDB attribute value.
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

    /// From DynamoDB JSON such as `{"S": "x"}`.
    public init(dynamoJSON: JSONValue) throws(StreamModelError) {
        guard let members = dynamoJSON.objectValue, members.count == 1, let (type, value) = members.first else {
            throw StreamModelError(description: "attribute value must be an object with one type key")
        }
        func strings() throws(StreamModelError) -> [String] {
            guard let array = value.arrayValue else { throw StreamModelError(description: "\(type) must be an array") }
            var result: [String] = []
            for element in array {
                guard let text = element.stringValue else { throw StreamModelError(description: "\(type) element must be a string") }
                result.append(text)
            }
            return result
        }
        func binary(_ text: String) throws(StreamModelError) -> Data {
            guard let data = Data(base64Encoded: text) else { throw StreamModelError(description: "bad base64") }
            return data
        }
        switch type {
        case "S":
            guard let text = value.stringValue else { throw StreamModelError(description: "S must be a string") }
            self = .string(text)
        case "N":
            guard let text = value.stringValue, Double(text) != nil else { throw StreamModelError(description: "N must be a number string") }
            self = .number(text)
        case "B":
            guard let text = value.stringValue else { throw StreamModelError(description: "B must be a string") }
            self = .binary(try binary(text))
        case "SS": self = .stringSet(try strings())
        case "NS": self = .numberSet(try strings())
        case "BS":
            var result: [Data] = []
            for text in try strings() { result.append(try binary(text)) }
            self = .binarySet(result)
        case "M":
            guard let object = value.objectValue else { throw StreamModelError(description: "M must be an object") }
            var result: [String: AttributeValue] = [:]
            for (key, element) in object { result[key] = try AttributeValue(dynamoJSON: element) }
            self = .map(result)
        case "L":
            guard let array = value.arrayValue else { throw StreamModelError(description: "L must be an array") }
            var result: [AttributeValue] = []
            for element in array { result.append(try AttributeValue(dynamoJSON: element)) }
            self = .list(result)
        case "NULL": self = .null
        case "BOOL":
            guard let flag = value.boolValue else { throw StreamModelError(description: "BOOL must be a boolean") }
            self = .bool(flag)
        default:
            throw StreamModelError(description: "unknown attribute type \(type)")
        }
    }

    /// Back to DynamoDB JSON.
    public var dynamoJSON: JSONValue {
        switch self {
        case .string(let text): .object(["S": .string(text)])
        case .number(let text): .object(["N": .string(text)])
        case .binary(let data): .object(["B": .string(data.base64EncodedString())])
        case .stringSet(let values): .object(["SS": .array(values.map(JSONValue.string))])
        case .numberSet(let values): .object(["NS": .array(values.map(JSONValue.string))])
        case .binarySet(let values): .object(["BS": .array(values.map { .string($0.base64EncodedString()) })])
        case .map(let members): .object(["M": .object(members.mapValues(\.dynamoJSON))])
        case .list(let values): .object(["L": .array(values.map(\.dynamoJSON))])
        case .null: .object(["NULL": .bool(true)])
        case .bool(let flag): .object(["BOOL": .bool(flag)])
        }
    }
}

/// A DynamoDB item: attribute name to value.
public typealias Item = [String: AttributeValue]

extension Dictionary where Key == String, Value == AttributeValue {
    /// From DynamoDB JSON such as `{"PK": {"S": "ARTIST#1"}}`.
    public init(dynamoJSON: JSONValue) throws(StreamModelError) {
        guard let object = dynamoJSON.objectValue else { throw StreamModelError(description: "item must be an object") }
        var item: [String: AttributeValue] = [:]
        for (name, value) in object { item[name] = try AttributeValue(dynamoJSON: value) }
        self = item
    }

    /// Back to DynamoDB JSON.
    public var dynamoJSON: JSONValue { .object(mapValues(\.dynamoJSON)) }
}

/// A DynamoDB Streams sequence number.
public struct SequenceNumber: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// Canonical digits, no leading zeros.
    public let digits: String

    /// Digits only, 1...80 characters.
    public init?(_ text: String) {
        guard (1...80).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let trimmed = text.drop { $0 == "0" }
        digits = trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// Left-padded with zeros to 80 characters.
    public var sortKey: String { String(repeating: "0", count: 80 - digits.count) + digits }

    /// From a ``sortKey``.
    public init?(sortKey: String) {
        guard sortKey.utf8.count == 80 else { return nil }
        self.init(sortKey)
    }

    /// The digits.
    public var description: String { digits }

    public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        lhs.digits.count == rhs.digits.count ? lhs.digits < rhs.digits : lhs.digits.count < rhs.digits.count
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = SequenceNumber(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a sequence number"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}

/// A stream record's event name.
public enum EventName: String, Sendable, Hashable, CaseIterable, Codable {
    case insert = "INSERT", modify = "MODIFY", remove = "REMOVE"
}

/// Who made a change (present on TTL deletes).
public struct UserIdentity: Sendable, Hashable {
    /// Such as `Service`.
    public var type: String?
    /// Such as `dynamodb.amazonaws.com`.
    public var principalId: String?
}

/// The `dynamodb` part of a stream record.
public struct StreamRecordData: Sendable, Hashable {
    /// The item's key attributes.
    public var keys: Item
    /// The item after the change.
    public var newImage: Item?
    /// The item before the change.
    public var oldImage: Item?
    /// The record's sequence number.
    public var sequenceNumber: SequenceNumber
    /// Size of the record.
    public var sizeBytes: Int?
    /// When the change happened (epoch seconds in JSON).
    public var approximateCreationDateTime: Date?
    /// Such as `NEW_AND_OLD_IMAGES`.
    public var streamViewType: String?
}

/// A DynamoDB Streams record.
public struct StreamRecord: Sendable, Hashable {
    /// The event id.
    public var eventID: String?
    /// INSERT, MODIFY or REMOVE.
    public var eventName: EventName
    /// The event version.
    public var eventVersion: String?
    /// `aws:dynamodb`.
    public var eventSource: String?
    /// The stream ARN.
    public var eventSourceARN: String?
    /// The region.
    public var awsRegion: String?
    /// Present on TTL deletes.
    public var userIdentity: UserIdentity?
    /// Keys, images and sequence number.
    public var dynamodb: StreamRecordData

    /// From the stream-record JSON shape.
    public init(json: JSONValue) throws(StreamModelError) {
        guard let name = json["eventName"]?.stringValue, let eventName = EventName(rawValue: name) else {
            throw StreamModelError(description: "missing or unknown eventName")
        }
        guard let data = json["dynamodb"], data.objectValue != nil else { throw StreamModelError(description: "missing dynamodb") }
        guard let sequenceText = data["SequenceNumber"]?.stringValue, let sequence = SequenceNumber(sequenceText) else {
            throw StreamModelError(description: "missing or bad SequenceNumber")
        }
        func image(_ key: String) throws(StreamModelError) -> Item? {
            guard let value = data[key] else { return nil }
            return try Item(dynamoJSON: value)
        }
        self.eventID = json["eventID"]?.stringValue
        self.eventName = eventName
        self.eventVersion = json["eventVersion"]?.stringValue
        self.eventSource = json["eventSource"]?.stringValue
        self.eventSourceARN = json["eventSourceARN"]?.stringValue
        self.awsRegion = json["awsRegion"]?.stringValue
        self.userIdentity = json["userIdentity"].map {
            UserIdentity(type: $0["type"]?.stringValue, principalId: $0["principalId"]?.stringValue)
        }
        self.dynamodb = StreamRecordData(
            keys: try image("Keys") ?? [:], newImage: try image("NewImage"), oldImage: try image("OldImage"),
            sequenceNumber: sequence, sizeBytes: data["SizeBytes"]?.intValue,
            approximateCreationDateTime: data["ApproximateCreationDateTime"]?.numberText.flatMap(Double.init)
                .map { Date(timeIntervalSince1970: $0) },
            streamViewType: data["StreamViewType"]?.stringValue)
    }
}

/// A StreamModel failure.
public struct StreamModelError: Error, CustomStringConvertible {
    /// One line.
    public var description: String
}
