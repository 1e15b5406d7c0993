import Foundation

/// ISO-8601 UTC timestamps with milliseconds, e.g. `2026-11-24T10:00:05.123Z`.
///
/// Computed arithmetically (proleptic Gregorian calendar), so it needs no formatter and is safe to share.
/// The time is rounded to the nearest millisecond (epoch seconds such as `1479499740.123` read as a Double
/// land a hair below `.123`). Times outside years 0000–9999 are clamped to those years' ends.
public enum ISO8601Milliseconds {
    /// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in epoch milliseconds.
    private static let firstRepresentable: Double = -62_167_219_200_000
    private static let lastRepresentable: Double = 253_402_300_799_999

    /// `date` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (the form of `sync.appliedAt`).
    public static func format(_ date: Date) -> String {
        let exact = (date.timeIntervalSince1970 * 1000).rounded()
        let milliseconds = exact.isNaN ? 0 : Int64(min(max(exact, firstRepresentable), lastRepresentable))
        let (days, millisecondOfDay) = floorDivide(milliseconds, 86_400_000)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let hour = millisecondOfDay / 3_600_000
        let minute = millisecondOfDay / 60_000 % 60
        let second = millisecondOfDay / 1000 % 60
        let millisecond = millisecondOfDay % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
            + ".\(pad(millisecond, 3))Z"
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
        return (quotient, value - quotient * divisor)
    }

    /// Year, month, day for days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    private static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let shifted = daysSinceEpoch + 719_468
        let era = floorDivide(shifted, 146_097).quotient
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return value < 0 ? "-" + padded : padded
    }
}
