import Foundation

/// What operators type to choose changes, read the same way by the command line and the HTTP API.
public enum OperatorInput {
    /// A time given as ISO-8601 (`2026-11-24T10:00:00Z`), a date (`2026-11-24`, UTC) or an age
    /// before `now` (`90s`, `30m`, `2h`, `7d`).
    /// - Parameters:
    ///   - text: What the operator typed.
    ///   - now: The time ages count back from.
    /// - Returns: The time, or `nil` when `text` is none of these.
    public static func time(_ text: String, now: Date) -> Date? {
        if let last = text.last, let unit = ["s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0][String(last)],
            let amount = Double(text.dropLast()), amount >= 0
        {
            return now.addingTimeInterval(-amount * unit)
        }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle().year().month().day()) { return date }
        return nil
    }

    /// The rates (changes per second) an operator may ask for.
    public static let rateRange: ClosedRange<Double> = 0.01...10_000

    /// Checks an operator's rate: a finite number of changes per second within ``rateRange``.
    /// - Parameter value: What the operator gave.
    /// - Returns: The rate.
    /// - Throws: ``ReprocessorError`` `.invalidRequest` saying the range.
    public static func rate(_ value: Double) throws(ReprocessorError) -> Double {
        guard value.isFinite, rateRange.contains(value) else {
            throw ReprocessorError(
                .invalidRequest, "rate \(value) is out of range: give changes per second from 0.01 to 10000")
        }
        return value
    }

    /// The search document id of an artist key: `ARTIST#42` or `42` → `42`.
    /// - Parameter key: What the operator typed.
    /// - Returns: The document id.
    public static func documentID(forKey key: String) -> String {
        key.hasPrefix("ARTIST#") ? String(key.dropFirst("ARTIST#".count)) : key
    }
}
