/// A DynamoDB number: its exact text, checked against DynamoDB's rules, with its exact decimal value for
/// comparison. Never converted through a binary floating point type.
///
/// Syntax is what DynamoDB reads: `[+-]? (D+ (. D*)? | . D+) ([eE] [+-]? D+)?`. Limits are DynamoDB's: at most
/// 38 significant digits (leading and trailing zeros do not count), magnitude zero or from 1E-130 to
/// 9.9999999999999999999999999999999999999E+125.
///
/// Equality and ordering are numeric (`"1"` equals `"1.0"`); ``text`` keeps what was given.
public struct DynamoDBNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The text exactly as given.
    public let text: String
    private let parts: DecimalParts

    /// Most significant digits DynamoDB stores.
    public static let maxSignificantDigits = 38

    /// Checks `text` against DynamoDB's number syntax and limits.
    /// - Parameter text: decimal text such as `"12345678901234567890.123"` or `"1E+3"`.
    /// - Throws: ``StreamModelError`` saying whether the syntax, the precision or the range is wrong.
    public init(_ text: String) throws(StreamModelError) {
        guard let parts = DecimalParts(text) else {
            throw StreamModelError("\(StreamModelError.quoted(text)) is not a number")
        }
        if parts.digits.count > Self.maxSignificantDigits {
            throw StreamModelError(
                "number \(StreamModelError.quoted(text)) has \(parts.digits.count) significant digits "
                    + "(DynamoDB allows \(Self.maxSignificantDigits))")
        }
        // value = 0.d × 10^e, so 1E-130 is e = -129 and 9.99…E+125 is e = 126.
        if !parts.isZero, parts.exponent < -129 || parts.exponent > 126 {
            throw StreamModelError(
                "number \(StreamModelError.quoted(text)) is outside DynamoDB's range (1E-130 to 9.99…E+125)")
        }
        self.text = text
        self.parts = parts
    }

    /// The text as a valid JSON number with the same value and every digit kept.
    ///
    /// Only what JSON forbids is rewritten: a leading `+` is dropped, leading zeros of the integer part are
    /// dropped (`"00012"` → `"12"`, `"-00.5"` → `"-0.5"`), an empty integer part becomes `0` (`".5"` →
    /// `"0.5"`), and a `.` without fraction digits is dropped (`"5."` → `"5"`). Fraction digits, trailing zeros,
    /// `-0` and the exponent (`"1E+3"`) are kept as written.
    public var jsonText: String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 1)
        var index = 0
        if bytes.first == UInt8(ascii: "+") {
            index = 1
        } else if bytes.first == UInt8(ascii: "-") {
            output.append(UInt8(ascii: "-"))
            index = 1
        }
        let integerStart = index
        while index < bytes.count, bytes[index].isASCIIDigit { index += 1 }
        let integerDigits = bytes[integerStart..<index].drop { $0 == UInt8(ascii: "0") }
        if integerDigits.isEmpty {
            output.append(UInt8(ascii: "0"))
        } else {
            output.append(contentsOf: integerDigits)
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, bytes[index].isASCIIDigit { index += 1 }
            if index > fractionStart {
                output.append(UInt8(ascii: "."))
                output.append(contentsOf: bytes[fractionStart..<index])
            }
        }
        output.append(contentsOf: bytes[index...])
        return String(decoding: output, as: UTF8.self)
    }

    /// The text as given.
    public var description: String { text }

    /// Numeric equality.
    public static func == (lhs: DynamoDBNumber, rhs: DynamoDBNumber) -> Bool {
        lhs.parts == rhs.parts
    }

    /// Hashes the numeric value, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(parts)
    }

    /// Numeric order.
    public static func < (lhs: DynamoDBNumber, rhs: DynamoDBNumber) -> Bool {
        DecimalParts.compare(lhs.parts, rhs.parts) < 0
    }
}
