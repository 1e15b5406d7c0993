import Foundation
import Reprocessor
import StreamModel

/// How the console words numbers, values and commands.
enum ConsoleText {
    /// `1284` → `1,284`.
    static func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// A span of time in its largest units: `23 h 12 min`, `4 min 10 s`, `12 s`; `past` when negative.
    static func duration(seconds: Double) -> String {
        guard seconds >= 0 else { return "past (\(duration(seconds: -seconds)) ago)" }
        let whole = Int(seconds)
        let (hours, minutes, rest) = (whole / 3600, whole % 3600 / 60, whole % 60)
        if hours > 0 { return "\(hours) h \(minutes) min" }
        if minutes > 0 { return "\(minutes) min \(rest) s" }
        return "\(rest) s"
    }

    /// `1 change`, `1,284 changes`.
    static func changes(_ count: Int) -> String {
        counted(count, "change")
    }

    /// How a form names a request's field in a refusal: `The reason is required for skip: …`.
    static func fieldLabel(_ field: RequestError.Field) -> String {
        switch field {
        case .ids: "Change ids"
        case .filter: "The filter"
        case .reason: "The reason"
        case .force: "Force"
        case .rate: "The rate"
        case .segments: "The number of segments"
        case .dryRun: "Dry run"
        }
    }

    /// `1 message`, `1,284 actions`: `count` and `noun`, plural with an `s` unless it is one.
    static func counted(_ count: Int, _ noun: String) -> String {
        "\(number(count)) \(noun)\(count == 1 ? "" : "s")"
    }

    /// A status, outcome or action kind as people say it: `would_retry` → `Would retry`,
    /// `rolled_back` → `Rolled back`.
    static func label(_ name: String) -> String {
        if let special = specialLabels[name] { return special }
        let words = name.replacingOccurrences(of: "_", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    /// Labels that are not the name in words.
    static let specialLabels = [
        "unavailable": "Search unavailable", "reingested": "Re-ingested",
        "would_reingest": "Would re-ingest",
    ]

    /// A per-change result's message without what its outcome's badge already says:
    /// `would be conflict: conflict: search shows …` → `search shows …`.
    static func resultMessage(_ message: String, outcome: String) -> String {
        var text = Substring(message)
        for prefix in ["would be \(outcome): ", "\(outcome): "] where text.hasPrefix(prefix) {
            text = text.dropFirst(prefix.count)
        }
        return String(text)
    }

    /// What a button says the command does: `retry`, `skip`, `roll back`, `resync`.
    static func verb(_ command: OperatorActions.Command) -> String {
        switch command {
        case .retry: "retry"
        case .skip: "skip"
        case .rollback: "roll back"
        case .resync: "resync"
        }
    }

    /// At most `limit` characters of `text`, with an ellipsis when cut.
    static func clip(_ text: String?, _ limit: Int) -> String {
        guard let text else { return "" }
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    /// A document field's value as text: a string as itself, anything else as JSON; empty when absent.
    static func value(_ value: JSONValue?) -> String {
        guard let value else { return "" }
        if case .string(let text) = value { return text }
        return value.serialized
    }

    /// A JSON answer as values a template walks: objects as dictionaries, arrays as arrays,
    /// numbers and strings as text, booleans as booleans, null as absent.
    static func plain(_ value: JSONValue) -> Any? {
        switch value {
        case .null: nil
        case .bool(let flag): flag
        case .number(let text): text
        case .string(let text): text
        case .array(let elements): elements.map { plain($0) as Any }
        case .object(let members): members.compactMapValues { plain($0) }
        }
    }

    /// A page's values with every absent optional left out and present ones unwrapped, at any
    /// depth, so that a template's `{{#name}}` section is skipped for a value that is not there.
    static func withoutAbsentValues(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return withoutAbsentValues(wrapped)
        }
        if let members = value as? [String: Any] { return members.compactMapValues { withoutAbsentValues($0) } }
        if let elements = value as? [Any] { return elements.compactMap { withoutAbsentValues($0) } }
        return value
    }

    /// `name=value&…`, each part percent-encoded.
    static func query(_ parameters: [(String, String)]) -> String {
        parameters.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but unreserved characters.
    static func encode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.append(Character(Unicode.Scalar(byte)))
            default:
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }
}

extension String {
    /// The string with `0`s before it up to `length` characters.
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
