import Foundation

/// A DynamoDB attribute value of any type, nested to any depth. Numbers keep their exact decimal text.
public indirect enum AttributeValue: Sendable, Hashable {
    /// `S`: a string.
    case string(String)
    /// `N`: a number, as its exact decimal text.
    case number(String)
    /// `B`: binary (base64 in DynamoDB JSON).
    case binary(Data)
    /// `SS`: a string set, in the order received.
    case stringSet([String])
    /// `NS`: a number set, as exact decimal texts in the order received.
    case numberSet([String])
    /// `BS`: a binary set, in the order received.
    case binarySet([Data])
    /// `M`: a map.
    case map([String: AttributeValue])
    /// `L`: a list.
    case list([AttributeValue])
    /// `NULL`.
    case null
    /// `BOOL`.
    case bool(Bool)

    /// Reads DynamoDB JSON such as `{"S": "x"}` or `{"M": {"n": {"N": "1"}}}`.
    ///
    /// Strict on shape: exactly one type key; `S` a string; `N` a string that is a DynamoDB number
    /// (``DynamoDBNumber``); `B` padded base64; `SS`, `NS`, `BS` non-empty arrays of strings of the right kind
    /// without duplicates; `M` an object; `L` an array; `NULL` true; `BOOL` a boolean.
    /// - Parameter dynamoJSON: one attribute value in DynamoDB JSON.
    /// - Throws: ``StreamModelError`` whose description names the path to the bad value.
    public init(dynamoJSON: JSONValue) throws(StreamModelError) {
        guard case .object(let members) = dynamoJSON else {
            throw StreamModelError("expected an attribute value object such as {\"S\": …}, got \(dynamoJSON.typeName)")
        }
        guard members.count == 1, let (type, payload) = members.first else {
            let keys = members.keys.sorted().map { StreamModelError.quoted($0, limit: 20) }.joined(separator: ", ")
            throw StreamModelError(
                "an attribute value needs exactly one type key (S, N, B, SS, NS, BS, M, L, NULL, BOOL), "
                    + "got \(members.count)\(members.isEmpty ? "" : ": " + keys)")
        }
        switch type {
        case "S":
            self = .string(try Self.string(payload, type: type))
        case "N":
            self = .number(try Self.number(payload, type: type))
        case "B":
            self = .binary(try Self.binary(payload, type: type))
        case "SS":
            let elements = try Self.setElements(payload, type: type)
            var strings: [String] = []
            for (index, element) in elements.enumerated() {
                do throws(StreamModelError) {
                    strings.append(try Self.string(element, type: type))
                } catch {
                    throw error.located(at: index)
                }
            }
            try Self.rejectDuplicates(strings, type: type)
            self = .stringSet(strings)
        case "NS":
            let elements = try Self.setElements(payload, type: type)
            var numbers: [String] = []
            var values: [DynamoDBNumber] = []
            for (index, element) in elements.enumerated() {
                do throws(StreamModelError) {
                    let text = try Self.number(element, type: type)
                    numbers.append(text)
                    values.append(try DynamoDBNumber(text))
                } catch {
                    throw error.located(at: index)
                }
            }
            try Self.rejectDuplicates(values, type: type)
            self = .numberSet(numbers)
        case "BS":
            let elements = try Self.setElements(payload, type: type)
            var blobs: [Data] = []
            for (index, element) in elements.enumerated() {
                do throws(StreamModelError) {
                    blobs.append(try Self.binary(element, type: type))
                } catch {
                    throw error.located(at: index)
                }
            }
            try Self.rejectDuplicates(blobs, type: type)
            self = .binarySet(blobs)
        case "M":
            guard case .object = payload else {
                throw StreamModelError("\"M\" must be an object, got \(payload.typeName)")
            }
            self = .map(try Item(dynamoJSON: payload))
        case "L":
            guard case .array(let elements) = payload else {
                throw StreamModelError("\"L\" must be an array, got \(payload.typeName)")
            }
            var values: [AttributeValue] = []
            values.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                do throws(StreamModelError) {
                    values.append(try AttributeValue(dynamoJSON: element))
                } catch {
                    throw error.located(at: index)
                }
            }
            self = .list(values)
        case "NULL":
            guard payload == .bool(true) else {
                throw StreamModelError("\"NULL\" must be true, got \(Self.shortText(payload))")
            }
            self = .null
        case "BOOL":
            guard case .bool(let flag) = payload else {
                throw StreamModelError("\"BOOL\" must be a boolean, got \(payload.typeName)")
            }
            self = .bool(flag)
        default:
            throw StreamModelError("unknown attribute type \(StreamModelError.quoted(type, limit: 20))")
        }
    }

    /// This value in DynamoDB JSON, e.g. `{"N": "12345678901234567890.123"}`; binary as padded base64.
    public var dynamoJSON: JSONValue {
        switch self {
        case .string(let text): .object(["S": .string(text)])
        case .number(let text): .object(["N": .string(text)])
        case .binary(let data): .object(["B": .string(data.base64EncodedString())])
        case .stringSet(let texts): .object(["SS": .array(texts.map { .string($0) })])
        case .numberSet(let texts): .object(["NS": .array(texts.map { .string($0) })])
        case .binarySet(let blobs): .object(["BS": .array(blobs.map { .string($0.base64EncodedString()) })])
        case .map(let item): .object(["M": item.dynamoJSON])
        case .list(let values): .object(["L": .array(values.map(\.dynamoJSON))])
        case .null: .object(["NULL": .bool(true)])
        case .bool(let flag): .object(["BOOL": .bool(flag)])
        }
    }

    /// The DynamoDB type key of this value: `S`, `N`, `B`, `SS`, `NS`, `BS`, `M`, `L`, `NULL` or `BOOL`.
    public var typeKey: String {
        switch self {
        case .string: "S"
        case .number: "N"
        case .binary: "B"
        case .stringSet: "SS"
        case .numberSet: "NS"
        case .binarySet: "BS"
        case .map: "M"
        case .list: "L"
        case .null: "NULL"
        case .bool: "BOOL"
        }
    }

    // MARK: Reading payloads

    private static func string(_ payload: JSONValue, type: String) throws(StreamModelError) -> String {
        guard case .string(let text) = payload else {
            throw StreamModelError(
                "\"\(type)\" must be \(type == "S" ? "a string" : "strings"), got \(payload.typeName)")
        }
        return text
    }

    private static func number(_ payload: JSONValue, type: String) throws(StreamModelError) -> String {
        guard case .string(let text) = payload else {
            throw StreamModelError(
                "\"\(type)\" must be \(type == "N" ? "a string" : "strings") of decimal text, got \(Self.shortText(payload))"
            )
        }
        _ = try DynamoDBNumber(text)
        return text
    }

    private static func binary(_ payload: JSONValue, type: String) throws(StreamModelError) -> Data {
        guard case .string(let text) = payload else {
            throw StreamModelError(
                "\"\(type)\" must be \(type == "B" ? "a base64 string" : "base64 strings"), got \(payload.typeName)")
        }
        guard let data = Data(base64Encoded: text) else {
            throw StreamModelError("\"\(type)\" is not valid base64: \(StreamModelError.quoted(text, limit: 40))")
        }
        return data
    }

    private static func setElements(_ payload: JSONValue, type: String) throws(StreamModelError) -> [JSONValue] {
        guard case .array(let elements) = payload else {
            throw StreamModelError("\"\(type)\" must be an array, got \(payload.typeName)")
        }
        guard !elements.isEmpty else {
            throw StreamModelError("\"\(type)\" is empty (DynamoDB sets have at least one element)")
        }
        return elements
    }

    private static func rejectDuplicates<Element: Hashable>(_ elements: [Element], type: String)
        throws(StreamModelError)
    {
        var seen = Set<Element>()
        for (index, element) in elements.enumerated() where !seen.insert(element).inserted {
            throw StreamModelError("\"\(type)\" element \(index) duplicates an earlier element (sets are unique)")
        }
    }

    /// A value shown in a message: its JSON text, capped.
    private static func shortText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): StreamModelError.quoted(text, limit: 40)
        case .array, .object: value.typeName
        default: value.serialized
        }
    }
}

/// A DynamoDB item (or key, or image): attribute name → value.
public typealias Item = [String: AttributeValue]

extension Dictionary where Key == String, Value == AttributeValue {
    /// Reads an item in DynamoDB JSON, e.g. `{"PK": {"S": "ARTIST#1"}, "SK": {"S": "METADATA"}}`.
    /// - Parameter dynamoJSON: a JSON object of attribute name → DynamoDB JSON value.
    /// - Throws: ``StreamModelError`` naming the attribute path of the first bad value.
    public init(dynamoJSON: JSONValue) throws(StreamModelError) {
        guard case .object(let members) = dynamoJSON else {
            throw StreamModelError("expected an object of attributes, got \(dynamoJSON.typeName)")
        }
        var item: [String: AttributeValue] = [:]
        item.reserveCapacity(members.count)
        for (name, value) in members {
            guard let attribute = try? AttributeValue(dynamoJSON: value) else {
                // Report the first bad attribute in name order, so the message is the same on every run.
                for name in members.keys.sorted() {
                    do throws(StreamModelError) {
                        _ = try AttributeValue(dynamoJSON: members[name] ?? .null)
                    } catch {
                        throw error.located(in: name)
                    }
                }
                throw StreamModelError("invalid attribute value").located(in: name)
            }
            item[name] = attribute
        }
        self = item
    }

    /// The item in DynamoDB JSON.
    public var dynamoJSON: JSONValue {
        .object(mapValues(\.dynamoJSON))
    }
}
