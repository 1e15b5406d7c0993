// StreamModel: the data the reprocessor reads — JSON with exact numbers,
// DynamoDB JSON (`AttributeValue`), stream records, sequence numbers and the
// DLQ envelopes A/B/C (docs/design.md, "What arrives on the DLQ"). Pure values and parsing: no I/O, no clocks,
// no dependency but Foundation. Nothing here may crash on hostile input; every
// failure is a typed error or, for a DLQ body, the `unrecognized` envelope.

/// JSON that keeps number text exactly (never goes through Double).
///
/// Parse with ``init(parsing:maxDepth:)-(some Collection<UInt8>,_)``; write with ``serialized``.
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as its exact text, e.g. `"12345678901234567890.123"`.
    ///
    /// Parsed numbers always match the RFC 8259 number grammar. Text put here by a caller is written by
    /// ``serialized`` as is, so it must be valid JSON number text too.
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object. Keys are unique; ``serialized`` writes them sorted.
    case object([String: JSONValue])

    /// The value for `key` when this is an object containing `key`; nil otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The string when this is a string; nil otherwise.
    public var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// The members when this is an object; nil otherwise.
    public var objectValue: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    /// The elements when this is an array; nil otherwise.
    public var arrayValue: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }

    /// The exact number text when this is a number; nil otherwise.
    public var numberText: String? {
        guard case .number(let text) = self else { return nil }
        return text
    }

    /// The boolean when this is `true` or `false`; nil otherwise.
    public var boolValue: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    /// The number as an `Int` when it is integral and fits (`"10"`, `"1e3"`, `"10.0"`); nil otherwise.
    public var intValue: Int? {
        guard case .number(let text) = self, let decimal = DecimalParts(text) else { return nil }
        return decimal.exactInt
    }

    /// A short name of this value's JSON type, for error messages ("string", "number", …).
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
