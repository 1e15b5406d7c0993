import Foundation
import Reprocessor

/// How the console shows a moment: in UTC, with its age ("3 h ago").
enum ConsoleTime {
    /// `{"iso", "utc", "age"}` for a template's `<time>` element.
    static func view(_ date: Date, now: Date) -> [String: Any] {
        ["iso": AuditJSON.time(date), "utc": utc(date), "age": age(of: date, now: now)]
    }

    /// `2026-11-24 10:00:05 UTC`.
    static func utc(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let components = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d UTC", components.year ?? 0, components.month ?? 0, components.day ?? 0,
            components.hour ?? 0, components.minute ?? 0, components.second ?? 0)
    }

    /// `just now`, `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago` (or `in 5 min` for a future moment).
    static func age(of date: Date, now: Date) -> String {
        let seconds = Int(now.timeIntervalSince(date).rounded())
        let span = duration(abs(seconds))
        if abs(seconds) < 2 { return "just now" }
        return seconds >= 0 ? "\(span) ago" : "in \(span)"
    }

    /// A length of time in its largest whole unit: `42 s`, `5 min`, `3 h`, `2 d`.
    static func duration(_ seconds: Int) -> String {
        switch seconds {
        case ..<60: "\(seconds) s"
        case ..<3600: "\(seconds / 60) min"
        case ..<86400: "\(seconds / 3600) h"
        default: "\(seconds / 86400) d"
        }
    }
}
