/// A DynamoDB Streams sequence number: decimal digits, any length (21 to 40 in practice, up to 80 accepted).
///
/// Ordering is numeric, so a 22-digit number sorts after every 21-digit one. ``sortKey`` carries that order
/// into text (for SQL). Codable as its canonical digit string.
public struct SequenceNumber: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// The most characters a sequence number (and ``sortKey``) may have.
    public static let maxLength = 80

    /// Canonical text: the digits without leading zeros (`"0"` stays `"0"`).
    public let digits: String

    /// Reads a sequence number.
    /// - Parameter text: 1 to 80 ASCII digits; leading zeros are allowed and dropped from ``digits``.
    /// - Returns: nil for empty text, longer text, or any character that is not `0`–`9`.
    public init?(_ text: String) {
        let utf8 = text.utf8
        guard (1...Self.maxLength).contains(utf8.count), utf8.allSatisfy(\.isASCIIDigit) else { return nil }
        let significant = utf8.drop { $0 == UInt8(ascii: "0") }
        digits = significant.isEmpty ? "0" : String(decoding: significant, as: UTF8.self)
    }

    /// Reads a ``sortKey``.
    /// - Parameter sortKey: exactly 80 ASCII digits.
    /// - Returns: nil for anything else.
    public init?(sortKey: String) {
        guard sortKey.utf8.count == Self.maxLength else { return nil }
        self.init(sortKey)
    }

    /// ``digits`` left-padded with zeros to 80 characters: text order of sort keys is numeric order.
    public var sortKey: String {
        String(unsafeUninitializedCapacity: Self.maxLength) { key in
            let padding = Self.maxLength - digits.utf8.count
            key[0..<padding].initialize(repeating: UInt8(ascii: "0"))
            _ = key[padding...].initialize(from: digits.utf8)
            return Self.maxLength
        }
    }

    /// The canonical digits.
    public var description: String { digits }

    /// Numeric order: shorter canonical text is smaller, equal lengths compare digit by digit.
    public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        let (lhsCount, rhsCount) = (lhs.digits.utf8.count, rhs.digits.utf8.count)
        if lhsCount != rhsCount { return lhsCount < rhsCount }
        return lhs.digits.utf8.lexicographicallyPrecedes(rhs.digits.utf8)
    }

    /// Decodes from a string of digits.
    /// - Throws: `DecodingError.dataCorrupted` when the string is not a sequence number.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = SequenceNumber(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a sequence number: \(StreamModelError.quoted(text))")
        }
        self = value
    }

    /// Encodes as the canonical digit string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}
