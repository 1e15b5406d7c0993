/// A decimal number split into sign, significant digits and exponent, so that
/// value = 0.d₁d₂…dₙ × 10^exponent. Zero is `digits == []`, `exponent == 0`, not negative.
///
/// Accepts the decimal syntax DynamoDB reads (Java `BigDecimal`): `[+-]? (D+ (. D*)? | . D+) ([eE] [+-]? D+)?`,
/// which includes every JSON number. Used to compare numbers exactly and to check DynamoDB's limits; the
/// original text is never rewritten through this type except where JSON forbids it (``jsonNumberText(_:)``).
struct DecimalParts: Hashable, Sendable {
    /// True for values below zero (never for zero).
    var isNegative: Bool
    /// Significant digits as ASCII bytes, without leading or trailing zeros; empty for zero.
    var digits: [UInt8]
    /// Power of ten so that value = 0.digits × 10^exponent; 0 for zero.
    var exponent: Int

    /// Exponent texts longer than this many significant digits are clamped: such values are far outside
    /// any range this project handles, and clamping keeps the arithmetic free of overflow.
    private static let maxExponentDigits = 15
    private static let clampedExponent = 1_000_000_000_000_000

    /// Parses `text`; nil if it is not decimal number syntax.
    init?(_ text: String) {
        var utf8 = Array(text.utf8)[...]
        var negative = false
        if let sign = utf8.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        let integerPart = utf8.prefix { $0.isASCIIDigit }
        utf8 = utf8.dropFirst(integerPart.count)
        var fractionPart: ArraySlice<UInt8> = []
        if utf8.first == UInt8(ascii: ".") {
            utf8 = utf8.dropFirst()
            fractionPart = utf8.prefix { $0.isASCIIDigit }
            utf8 = utf8.dropFirst(fractionPart.count)
        }
        guard !integerPart.isEmpty || !fractionPart.isEmpty else { return nil }
        var exponent = 0
        if let marker = utf8.first, marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") {
            utf8 = utf8.dropFirst()
            var exponentNegative = false
            if let sign = utf8.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                exponentNegative = sign == UInt8(ascii: "-")
                utf8 = utf8.dropFirst()
            }
            let exponentDigits = utf8.prefix { $0.isASCIIDigit }
            guard !exponentDigits.isEmpty else { return nil }
            utf8 = utf8.dropFirst(exponentDigits.count)
            let significant = exponentDigits.drop { $0 == UInt8(ascii: "0") }
            if significant.count > Self.maxExponentDigits {
                exponent = Self.clampedExponent
            } else {
                exponent = significant.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            }
            if exponentNegative { exponent = -exponent }
        }
        guard utf8.isEmpty else { return nil }

        let all = integerPart + fractionPart
        guard let firstNonZero = all.firstIndex(where: { $0 != UInt8(ascii: "0") }) else {
            (isNegative, digits, self.exponent) = (false, [], 0)
            return
        }
        let leadingZeros = firstNonZero - all.startIndex
        let lastNonZero = all.lastIndex(where: { $0 != UInt8(ascii: "0") }) ?? firstNonZero
        isNegative = negative
        digits = Array(all[firstNonZero...lastNonZero])
        self.exponent = integerPart.count - leadingZeros + exponent
    }

    /// True for zero.
    var isZero: Bool { digits.isEmpty }

    /// The value as an `Int` when it is integral and fits; nil otherwise.
    var exactInt: Int? {
        if isZero { return 0 }
        guard exponent >= digits.count, exponent <= 19 else { return nil }
        var value = 0
        for position in 0..<exponent {
            let digit = position < digits.count ? Int(digits[position] - UInt8(ascii: "0")) : 0
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) =
                isNegative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
        }
        return value
    }

    /// Numeric ordering: -1, 0 or 1.
    static func compare(_ lhs: DecimalParts, _ rhs: DecimalParts) -> Int {
        func signum(_ value: DecimalParts) -> Int { value.isZero ? 0 : (value.isNegative ? -1 : 1) }
        let (lhsSign, rhsSign) = (signum(lhs), signum(rhs))
        if lhsSign != rhsSign { return lhsSign < rhsSign ? -1 : 1 }
        if lhsSign == 0 { return 0 }
        let magnitude: Int
        if lhs.exponent != rhs.exponent {
            magnitude = lhs.exponent < rhs.exponent ? -1 : 1
        } else if lhs.digits == rhs.digits {
            magnitude = 0
        } else {
            // No trailing zeros, so a shorter prefix is the smaller fraction: plain lexicographic order.
            magnitude = lhs.digits.lexicographicallyPrecedes(rhs.digits) ? -1 : 1
        }
        return lhsSign * magnitude
    }
}

extension UInt8 {
    /// True for the ASCII bytes `0`…`9`.
    var isASCIIDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}
