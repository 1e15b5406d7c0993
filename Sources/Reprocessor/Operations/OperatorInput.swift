import AuditLog
import Foundation

/// What operators type, read the same way by the command line, the HTTP API and the console:
/// one parse function or bounded type per kind of value (times and ages, rates, counts and page
/// sizes, ids, cursors), each with an explicit range. Malformed or out-of-range input is an
/// ``InputError`` naming the field as the front end calls it (`--since`, `since`, `"rate"`) and
/// what it accepts; nothing that passes can overflow further down (a time's milliseconds fit
/// the database's 64-bit integers, a rate's interval fits a `Duration`).
public enum OperatorInput {
    // MARK: times

    /// The times accepted: 1970-01-01T00:00:00Z through 9999-12-31T23:59:59.999Z.
    public static let timeRange: ClosedRange<Date> =
        Date(timeIntervalSince1970: 0)...Date(timeIntervalSince1970: 253_402_300_799.999)

    /// The age units: seconds, minutes, hours and days.
    static let ageUnits: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]

    /// Longest time text read (longer is malformed without being parsed).
    static let longestTime = 64

    /// What a time field accepts, in words.
    static let timeAccepted =
        "an ISO-8601 time (2026-11-24T10:00:00Z), a date (2026-11-24, UTC) or an age such as 90s, 30m, 2h, 7d, "
        + "from 1970-01-01 to 9999-12-31"

    /// A time given as ISO-8601 (`2026-11-24T10:00:00Z`, fractional seconds allowed), a date
    /// (`2026-11-24`, UTC) or an age before `now`: digits with an optional fraction and a unit
    /// (`90s`, `30m`, `1.5h`, `7d`; no sign, exponent or spaces).
    /// - Parameters:
    ///   - text: What the operator typed.
    ///   - field: The field's name as the front end shows it.
    ///   - now: The time ages count back from.
    /// - Returns: A time within ``timeRange``.
    /// - Throws: ``InputError``: malformed, or outside ``timeRange`` (an age reaching before 1970).
    public static func time(_ text: String, field: String, now: Date) throws(InputError) -> Date {
        let malformed = InputError(field: field, value: text, problem: .malformed, accepted: timeAccepted)
        guard !text.isEmpty, text.utf8.count <= longestTime else { throw malformed }
        let date: Date
        if let seconds = ageSeconds(text) {
            date = now.addingTimeInterval(-seconds)
        } else if let parsed = isoTime(text) {
            date = parsed
        } else {
            throw malformed
        }
        guard timeRange.contains(date) else {
            throw InputError(field: field, value: text, problem: .outOfRange, accepted: timeAccepted)
        }
        return date
    }

    /// The seconds of an age (`90s`, `1.5h`), or nil when `text` is not one.
    static func ageSeconds(_ text: String) -> Double? {
        guard let unit = text.last.flatMap({ ageUnits[$0] }) else { return nil }
        let number = text.utf8.dropLast()
        let parts = number.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        let isDigits = { (part: Substring.UTF8View.SubSequence) in
            !part.isEmpty && part.count <= 15 && part.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
        guard let whole = parts.first, isDigits(whole), parts.count == 1 || isDigits(parts[1]),
            let amount = Double(String(decoding: number, as: UTF8.self))
        else { return nil }
        return amount * unit
    }

    /// An ISO-8601 time or date, or nil.
    static func isoTime(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle().year().month().day())
    }

    // MARK: rates

    /// The rates (changes, or repairs, per second) an operator may ask for.
    public static let rateRange: ClosedRange<Double> = 0.01...10_000

    /// What a rate field accepts, in words.
    static let rateAccepted = "a number of changes per second from 0.01 to 10000"

    /// The rates as help texts show them: `0.01-10000`.
    public static var rateHelp: String { "\(shown(rateRange.lowerBound))-\(Int(rateRange.upperBound))" }

    /// Checks a rate: a finite number within ``rateRange``.
    /// - Parameters:
    ///   - value: What the operator gave.
    ///   - field: The field's name as the front end shows it.
    /// - Returns: The rate.
    /// - Throws: ``InputError`` saying the range.
    public static func rate(_ value: Double, field: String) throws(InputError) -> Double {
        guard value.isFinite, rateRange.contains(value) else {
            throw InputError(field: field, value: Self.shown(value), problem: .outOfRange, accepted: rateAccepted)
        }
        return value
    }

    /// Reads a rate from text (`5`, `0.5`, `2.5e2`): a finite number within ``rateRange``.
    /// - Parameters:
    ///   - text: What the operator typed.
    ///   - field: The field's name as the front end shows it.
    /// - Returns: The rate.
    /// - Throws: ``InputError``: not a number, or out of range.
    public static func rate(_ text: String, field: String) throws(InputError) -> Double {
        guard text.utf8.count <= 64, let value = Double(text), !value.isNaN else {
            throw InputError(field: field, value: text, problem: .malformed, accepted: rateAccepted)
        }
        guard value.isFinite, rateRange.contains(value) else {
            throw InputError(field: field, value: text, problem: .outOfRange, accepted: rateAccepted)
        }
        return value
    }

    /// A number as an operator would write it back (`1e-12`, `inf`, `nan`, `0.5`).
    static func shown(_ value: Double) -> String {
        value.isNaN ? "nan" : value.isInfinite ? (value < 0 ? "-inf" : "inf") : "\(value)"
    }

    // MARK: counts

    /// An integer field with its range and the value used when it is not given: page sizes,
    /// scan segments, seconds of an interval.
    public struct Count: Sendable, Hashable {
        /// The values accepted.
        public let allowed: ClosedRange<Int>
        /// The value when none is given.
        public let standard: Int

        /// Makes a bounded count.
        /// - Parameters:
        ///   - allowed: The values accepted.
        ///   - standard: The value when none is given (within `allowed`).
        public init(allowed: ClosedRange<Int>, standard: Int) {
            self.allowed = allowed
            self.standard = standard
        }

        /// What the field accepts, in words.
        public var accepted: String { "an integer from \(allowed.lowerBound) to \(allowed.upperBound)" }

        /// The range and the value when none is given, as help texts show them: `1-1000, default 50`.
        public var help: String { "\(allowed.lowerBound)-\(allowed.upperBound), default \(standard)" }

        /// Checks a given value.
        /// - Throws: ``InputError`` naming `field` and ``allowed``.
        public func check(_ value: Int, field: String) throws(InputError) -> Int {
            guard allowed.contains(value) else {
                throw InputError(field: field, value: String(value), problem: .outOfRange, accepted: accepted)
            }
            return value
        }

        /// The value given, checked, or ``standard`` when none is.
        /// - Throws: ``InputError`` naming `field` and ``allowed``.
        public func resolve(_ value: Int?, field: String) throws(InputError) -> Int {
            guard let value else { return standard }
            return try check(value, field: field)
        }

        /// Reads the value from text (decimal digits, an optional sign), or ``standard`` when `text` is nil.
        /// - Throws: ``InputError``: not an integer, or out of range.
        public func parse(_ text: String?, field: String) throws(InputError) -> Int {
            guard let text else { return standard }
            guard let value = Int(text) else {
                throw InputError(field: field, value: text, problem: .malformed, accepted: accepted)
            }
            return try check(value, field: field)
        }
    }

    /// Parallel `Scan` segments of a reconcile.
    public static let segments = Count(allowed: 1...1000, standard: 4)
    /// Seconds each receive of a drain long-polls (`run`, `ingest`): short, so a drain ends soon
    /// after the queue is empty.
    public static let drainWait = Count(allowed: 0...20, standard: 2)
    /// Seconds each receive of `serve` long-polls; also the longest a stop waits for a receive.
    public static let serveWait = Count(allowed: 1...20, standard: 20)
    /// Receives in flight at once (and batches read at once).
    public static let receiveConcurrency = Count(allowed: 1...64, standard: 4)
    /// Seconds between `serve`'s replay passes.
    public static let replayInterval = Count(allowed: 1...86_400, standard: 30)
    /// Seconds between `serve`'s scheduled dry-run reconciles, when asked for (a week at most).
    public static let reconcileIntervalRange: ClosedRange<Int> = 1...604_800

    /// Checks the seconds between scheduled reconciles: within ``reconcileIntervalRange``.
    /// - Throws: ``InputError`` naming `field`.
    public static func reconcileInterval(_ seconds: Int, field: String) throws(InputError) -> Int {
        guard reconcileIntervalRange.contains(seconds) else {
            throw InputError(
                field: field, value: String(seconds), problem: .outOfRange,
                accepted: "seconds from \(reconcileIntervalRange.lowerBound) to \(reconcileIntervalRange.upperBound)")
        }
        return seconds
    }
    /// Seconds between the console overview's refreshes (`?refresh=`).
    public static let overviewRefresh = Count(allowed: 2...3600, standard: 30)
    /// Rows a `migrate-store` copies per page.
    public static let migrationPage = Count(allowed: 1...10_000, standard: 1000)
    /// Most actions `audit` prints or exports (default: all of them).
    public static let actionsLimit = Count(allowed: 1...Int.max, standard: Int.max)
    /// How many changes a dry run counted, carried to the action it previews (the console's
    /// progress page counts towards it; none given: 0).
    public static let previewedChanges = Count(allowed: 0...Int.max, standard: 0)

    // MARK: ids

    /// The ids of changes, batches and actions: positive 64-bit integers.
    public static let idRange: ClosedRange<Int64> = 1...Int64.max

    /// What an id field accepts, in words.
    static let idAccepted = "an id from 1 to \(Int64.max)"

    /// Checks an id: within ``idRange``.
    /// - Throws: ``InputError`` naming `field`.
    public static func id(_ value: Int64, field: String) throws(InputError) -> Int64 {
        guard idRange.contains(value) else {
            throw InputError(field: field, value: String(value), problem: .outOfRange, accepted: idAccepted)
        }
        return value
    }

    /// Reads an id (a change's, a batch's) from text: decimal digits within ``idRange``.
    /// - Throws: ``InputError``: not an integer, or out of range.
    public static func id(_ text: String, field: String) throws(InputError) -> Int64 {
        guard let value = Int64(text) else {
            let numeric = !text.isEmpty && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            throw InputError(field: field, value: text, problem: numeric ? .outOfRange : .malformed, accepted: idAccepted)
        }
        return try id(value, field: field)
    }

    // MARK: failure groups

    /// What a failure group field accepts, in words.
    static let groupAccepted = "a group id from `errors`: \(FailureFingerprint.groupIDLength) hexadecimal digits"

    /// Reads a failure group id (``ErrorGroup/id``): ``FailureFingerprint/groupIDLength``
    /// hexadecimal digits, upper case read as lower.
    /// - Throws: ``InputError`` naming `field`.
    public static func group(_ text: String, field: String) throws(InputError) -> String {
        let lowered = text.lowercased()
        guard FailureFingerprint.isGroupID(lowered) else {
            throw InputError(field: field, value: text, problem: .malformed, accepted: groupAccepted)
        }
        return lowered
    }

    // MARK: actors

    /// The environment variable naming the actor when no actor is given.
    public static let actorVariable = "DLQ_ACTOR"

    /// Longest actor name accepted.
    public static let longestActor = 200

    /// Who an operator's command records as its actor: `given`, else ``actorVariable`` in
    /// `environment`, else `accountName` (the login name of the process's user id); blank ones
    /// count as absent, except a blank `given`, which is refused.
    /// - Parameters:
    ///   - given: The actor the operator named, if any.
    ///   - field: The name of that field as the front end shows it.
    ///   - environment: Where ``actorVariable`` is read.
    ///   - accountName: The login name of the user id, if it has one.
    /// - Returns: The actor, or nil when there is none to record.
    /// - Throws: ``InputError`` for a given actor that is blank, longer than ``longestActor``
    ///   characters or holds a control character.
    public static func actor(given: String?, field: String, environment: [String: String], accountName: String?)
        throws(InputError) -> String?
    {
        let accepted = "a name of 1 to \(longestActor) characters without control characters"
        func valid(_ text: String) -> Bool {
            text.count <= longestActor && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
        }
        if let given {
            let trimmed = given.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, valid(trimmed) else {
                throw InputError(field: field, value: given, problem: .malformed, accepted: accepted)
            }
            return trimmed
        }
        if let variable = environment[actorVariable]?.trimmingCharacters(in: .whitespaces), !variable.isEmpty {
            guard valid(variable) else {
                throw InputError(field: actorVariable, value: variable, problem: .malformed, accepted: accepted)
            }
            return variable
        }
        guard let accountName = accountName?.trimmingCharacters(in: .whitespaces), !accountName.isEmpty,
            valid(accountName)
        else { return nil }
        return accountName
    }

    // MARK: cursors

    /// Longest cursor read: a listing's cursors are a few dozen characters.
    public static let longestCursor = 512

    /// Checks the form every listing's cursor has (at most ``longestCursor`` printable ASCII
    /// characters); whether it is a `next` of the listing asked is the audit log's to say.
    /// - Throws: ``InputError`` naming `field`.
    public static func cursor(_ text: String, field: String) throws(InputError) -> String {
        guard !text.isEmpty, text.utf8.count <= longestCursor,
            text.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            throw InputError(
                field: field, value: text, problem: .malformed, accepted: "the \"next\" of the previous page, unchanged")
        }
        return text
    }

    // MARK: artist keys

    /// The search document id of an artist key: `ARTIST#42` or `42` → `42`.
    /// - Parameter key: What the operator typed.
    /// - Returns: The document id.
    public static func documentID(forKey key: String) -> String {
        key.hasPrefix("ARTIST#") ? String(key.dropFirst("ARTIST#".count)) : key
    }
}
