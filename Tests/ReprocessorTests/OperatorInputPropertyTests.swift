import Foundation
import PropertyBased
import Reprocessor
import Testing

@testable import AuditLog

/// The bounded input layer (``OperatorInput``) fed arbitrary strings and numbers: every parser
/// answers an in-range value or an ``InputError`` naming the field, never a trap; values that
/// pass survive what is done with them further down (milliseconds for the database, a pacing
/// interval), and round-trip where that makes sense.
@Suite("bounded operator input: properties")
struct OperatorInputPropertyTests {
    /// Any Unicode scalar (surrogates are not scalars), so strings of them are any string.
    static let anyScalar = Gen<UInt32>.value(in: 0...0x10FFFF).compactMap { Unicode.Scalar($0).map(Character.init) }

    /// Pieces operators (and attackers) put into numbers, times and ids: signs, exponents,
    /// NaN and infinity spellings, hex floats, huge and tiny magnitudes, units, dates, separators,
    /// non-ASCII digits and other Unicode.
    static let pieces = [
        "-", "+", "0", "1", "5", "9", "00", ".", ".5", "e", "E", "e300", "e-12", "E+308", "1e300", "1e-12", "inf", "-inf",
        "Infinity", "nan", "NaN", "snan", "0x", "1p3", "0x1p-1074", "_", " ", "\t", "\n", "s", "m", "h", "d", "w", "y",
        "T", "Z", ":", "/", ",", "%", "2026-11-24", "T10:00:00Z", "T10:00:00.123Z", "+01:00", "9999-12-31", "10000-01-01",
        "0000-01-01", "1969-12-31T23:59:59Z", "1970-01-01", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "18446744073709551616", "999999999999999999999999", "4.9e-324", "1.7976931348623157e308",
        "\u{0663}", "\u{FF11}", "\u{0301}", "\u{1F3B8}", "\u{0}", "\u{202E}", "ARTIST#", "q:1:2",
    ]

    /// Strings of 0 to 8 pieces: the spellings numbers and times take, and their near misses.
    static let spelled = Gen<String?>.element(of: pieces).map { $0 ?? "" }.array(of: 0...8).map { $0.joined() }

    /// Strings of 0 to 40 arbitrary characters.
    static let arbitrary = anyScalar.string(of: 0...40)

    /// Either kind of string.
    static let anyText = Gen.oneOf(spelled, arbitrary)

    /// Every double: NaN (all payloads), ±infinity, subnormals, ±0, huge and tiny.
    static let anyDouble = Gen<UInt64>.value(in: 0...UInt64.max).map { Double(bitPattern: $0) }

    /// The time text parsers are asked about, as when an age counts back from now.
    static let now = Date()

    /// The largest millisecond count of an accepted time (9999-12-31T23:59:59.999Z).
    static let latestMilliseconds: Int64 = 253_402_300_799_999

    /// What a parser answered: a value or its typed refusal.
    static func outcome<Value>(_ parse: () throws(InputError) -> Value) -> Result<Value, InputError> {
        do {
            return .success(try parse())
        } catch {
            return .failure(error)
        }
    }

    static func expectNamed(_ error: InputError, _ field: String, _ input: String) {
        #expect(error.field == field, "\(input.debugDescription): \(error)")
        #expect(error.description.hasPrefix(field + " "), "\(input.debugDescription): \(error)")
        #expect(!error.description.contains("\n"), "one line: \(error.description.debugDescription)")
        #expect(error.description.contains("give "), "says what is accepted: \(error)")
    }

    @Test("time: any text is a time from 1970 to 9999 whose milliseconds fit, or an error naming the field")
    func timeNeverTraps() async throws {
        await propertyCheck(count: 3000, input: Self.anyText) { text in
            switch Self.outcome({ () throws(InputError) in try OperatorInput.time(text, field: "since", now: Self.now) }) {
            case .success(let date):
                #expect(OperatorInput.timeRange.contains(date), "\(text.debugDescription) → \(date)")
                #expect((0...Self.latestMilliseconds).contains(date.databaseMilliseconds), "\(text.debugDescription)")
            case .failure(let error):
                Self.expectNamed(error, "since", text)
            }
        }
    }

    @Test("time: an age of any number in any unit is in range or refused, never a trap (1e300d, inf, nan, -5m)")
    func agesOfAnyNumber() async throws {
        let units = Gen<String?>.element(of: ["s", "m", "h", "d"]).map { $0 ?? "s" }
        await propertyCheck(count: 3000, input: Self.anyDouble, units) { number, unit in
            let text = "\(number)\(unit)"
            switch Self.outcome({ () throws(InputError) in try OperatorInput.time(text, field: "until", now: Self.now) }) {
            case .success(let date):
                #expect(number >= 0 && number.isFinite, "\(text) passed")
                #expect(date <= Self.now && OperatorInput.timeRange.contains(date), "\(text) → \(date)")
            case .failure(let error):
                Self.expectNamed(error, "until", text)
            }
        }
        for text in ["1e300d", "1e300s", "inf" + "d", "nan" + "h", "-5m", "99999999999999999999d", "1.5e3h", "5 m", "5"] {
            #expect(throws: InputError.self, "\(text)") { try OperatorInput.time(text, field: "since", now: Self.now) }
        }
    }

    @Test("time: an ISO-8601 time with milliseconds round-trips; an age counts back exactly")
    func timeRoundTrips() async throws {
        let milliseconds = Gen<Int64>.value(in: 0...Self.latestMilliseconds)
        await propertyCheck(count: 2000, input: milliseconds) { value in
            Self.recording {
                let seconds = Date(timeIntervalSince1970: Double(value / 1000)).formatted(Date.ISO8601FormatStyle())
                let fraction = String(1000 + value % 1000).dropFirst()
                let text = seconds.dropLast() + "." + fraction + "Z"
                let parsed = try OperatorInput.time(String(text), field: "at", now: Self.now)
                #expect(abs(parsed.timeIntervalSince1970 * 1000 - Double(value)) < 0.5, "\(text)")
                let date = try OperatorInput.time(String(seconds.prefix(10)), field: "at", now: Self.now)
                #expect(date.databaseMilliseconds == value - value % 86_400_000, "\(seconds.prefix(10))")
            }
        }
        let ages = Gen<Int>.value(in: 0...10_000)
        await propertyCheck(count: 500, input: ages) { amount in
            Self.recording {
                for (unit, seconds) in [("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86_400.0)] {
                    let parsed = try OperatorInput.time("\(amount)\(unit)", field: "since", now: Self.now)
                    #expect(parsed == Self.now.addingTimeInterval(-Double(amount) * seconds))
                }
            }
        }
    }

    @Test("rate: any double or text is a finite rate from 0.01 to 10000, or an error naming the field")
    func rateNeverTraps() async throws {
        await propertyCheck(count: 3000, input: Self.anyDouble) { value in
            switch Self.outcome({ () throws(InputError) in try OperatorInput.rate(value, field: "--rate") }) {
            case .success(let rate): #expect(OperatorInput.rateRange.contains(rate) && rate == value)
            case .failure(let error): Self.expectNamed(error, "--rate", "\(value)")
            }
        }
        await propertyCheck(count: 3000, input: Self.anyText) { text in
            switch Self.outcome({ () throws(InputError) in try OperatorInput.rate(text, field: "\"rate\"") }) {
            case .success(let rate): #expect(rate.isFinite && OperatorInput.rateRange.contains(rate), "\(text.debugDescription)")
            case .failure(let error): Self.expectNamed(error, "\"rate\"", text)
            }
        }
        for text in ["1e-12", "inf", "-inf", "nan", "0", "-1", "10000.001", "1e400"] {
            #expect(throws: InputError.self, "\(text)") { try OperatorInput.rate(text, field: "--rate") }
        }
    }

    /// Runs a property's body and records what it throws as an issue: `propertyCheck` drops
    /// what its body throws, so a parse that failed where it must succeed would pass unseen.
    static func recording(_ body: () throws -> Void) {
        do { try body() } catch { Issue.record(error) }
    }

    @Test("rate: every accepted rate round-trips through its text, and requests carrying it validate")
    func rateRoundTrips() async throws {
        await propertyCheck(count: 2000, input: Gen.double(in: OperatorInput.rateRange)) { value in
            Self.recording {
                #expect(try OperatorInput.rate("\(value)", field: "--rate") == value)
                try ReconcileRequest(repair: true, actor: "t", reason: "r", ratePerSecond: value).validate()
                try OperatorRequest(ids: [1], actor: "t", ratePerSecond: value).validate(for: .retry)
            }
        }
        await propertyCheck(count: 2000, input: Self.anyDouble.filter { !OperatorInput.rateRange.contains($0) }) { value in
            #expect(throws: RequestError.self) {
                try ReconcileRequest(repair: true, actor: "t", reason: "r", ratePerSecond: value).validate()
            }
            #expect(throws: RequestError.self) {
                try OperatorRequest(ids: [1], actor: "t", ratePerSecond: value).validate(for: .retry)
            }
        }
    }

    @Test("counts: any text or integer is within the bounds, or an error naming the field; in-range values round-trip")
    func countsNeverTrap() async throws {
        let bounds = [
            OperatorInput.segments, AuditQueries.changesPage, AuditQueries.reconcileRunsPage, OperatorInput.actionsLimit,
        ]
        await propertyCheck(count: 2000, input: Self.anyText) { text in
            for bound in bounds {
                switch Self.outcome({ () throws(InputError) in try bound.parse(text, field: "limit") }) {
                case .success(let value): #expect(bound.allowed.contains(value) && Int(text) == value, "\(text.debugDescription)")
                case .failure(let error): Self.expectNamed(error, "limit", text)
                }
            }
        }
        await propertyCheck(count: 2000, input: Gen<Int>.value(in: Int.min...Int.max)) { value in
            for bound in bounds {
                switch Self.outcome({ () throws(InputError) in try bound.parse(String(value), field: "--segments") }) {
                case .success(let parsed): #expect(parsed == value && bound.allowed.contains(value))
                case .failure(let error):
                    Self.expectNamed(error, "--segments", String(value))
                    #expect(!bound.allowed.contains(value))
                }
            }
            let accepted = (try? ReconcileRequest(segments: value, actor: "t").validate()) != nil
            #expect(accepted == OperatorInput.segments.allowed.contains(value), "segments \(value)")
        }
        #expect(try OperatorInput.segments.parse(nil, field: "segments") == 4)
    }

    @Test("ids: any text or 64-bit integer is an id from 1 to Int64.max, or an error naming the field")
    func idsNeverTrap() async throws {
        await propertyCheck(count: 3000, input: Self.anyText) { text in
            switch Self.outcome({ () throws(InputError) in try OperatorInput.id(text, field: "change id") }) {
            case .success(let id): #expect(id >= 1 && Int64(text) == id, "\(text.debugDescription)")
            case .failure(let error): Self.expectNamed(error, "change id", text)
            }
        }
        await propertyCheck(count: 3000, input: Gen<Int64>.value(in: Int64.min...Int64.max)) { value in
            switch Self.outcome({ () throws(InputError) in try OperatorInput.id(String(value), field: "batch id") }) {
            case .success(let id): #expect(id == value && value >= 1)
            case .failure(let error):
                Self.expectNamed(error, "batch id", String(value))
                #expect(value < 1)
            }
        }
        #expect(throws: InputError.self) { try OperatorInput.id("9223372036854775808", field: "id") }
        #expect(try OperatorInput.id("9223372036854775807", field: "id") == Int64.max)
    }

    @Test("cursors: any text is a printable-ASCII cursor of at most 512 characters, or an error naming the field")
    func cursorsNeverTrap() async throws {
        let long = Gen<String?>.element(of: ["a", "Zm9v", "-", "_", "q:1:2"]).map { $0 ?? "" }.array(of: 0...300)
            .map { $0.joined() }
        await propertyCheck(count: 2000, input: Gen.oneOf(Self.anyText, long)) { text in
            switch Self.outcome({ () throws(InputError) in try OperatorInput.cursor(text, field: "cursor") }) {
            case .success(let cursor): #expect(cursor == text && text.utf8.count <= OperatorInput.longestCursor)
            case .failure(let error): Self.expectNamed(error, "cursor", text)
            }
            // Whatever passes the form, the audit log's own check answers with a typed error, never a trap.
            for listing in AuditLog.PagedListing.allCases {
                _ = try? AuditLog.checkCursor(text, for: listing)
            }
        }
    }

    @Test("database milliseconds saturate for any time: no Double-to-Int64 trap below the input layer")
    func databaseMillisecondsSaturate() async throws {
        await propertyCheck(count: 5000, input: Self.anyDouble) { seconds in
            let date = Date(timeIntervalSince1970: seconds)
            let milliseconds = date.databaseMilliseconds
            let exact = (date.timeIntervalSince1970 * 1000).rounded(.down)
            if exact.isNaN {
                #expect(milliseconds == 0)
            } else if exact >= 0x1p63 {
                #expect(milliseconds == .max)
            } else if exact < -0x1p63 {
                #expect(milliseconds == .min)
            } else {
                #expect(Double(milliseconds) == exact)
            }
        }
        #expect(Date(timeIntervalSince1970: 1e300).databaseMilliseconds == .max)
        #expect(Date(timeIntervalSince1970: -1e300).databaseMilliseconds == .min)
        #expect(Date.distantPast.databaseMilliseconds < 0 && Date.distantFuture.databaseMilliseconds > 0)
    }

    @Test("error messages: the value is clipped to 40 characters and escaped, the line names field and range")
    func errorMessages() throws {
        let rate = #expect(throws: InputError.self) { try OperatorInput.rate(1e-12, field: "--rate") }
        #expect(rate?.description == "--rate 1e-12 is out of range: give a number of changes per second from 0.01 to 10000")
        let time = #expect(throws: InputError.self) { try OperatorInput.time("1e300d", field: "since", now: Self.now) }
        #expect(time?.description.hasPrefix("since 1e300d is not valid: give an ISO-8601 time") == true)
        let quoted = #expect(throws: InputError.self) { try OperatorInput.time("in 2 days", field: "until", now: Self.now) }
        #expect(quoted?.description.hasPrefix("until \"in 2 days\" is not valid") == true)
        let long = #expect(throws: InputError.self) {
            try OperatorInput.time(String(repeating: "x\n", count: 100), field: "at", now: Self.now)
        }
        #expect(long?.description.contains("\\n") == true && long?.description.contains("\n") == false)
        #expect((long?.description.count ?? 1000) < 300)
        let age = #expect(throws: InputError.self) { try OperatorInput.time("99999999999d", field: "since", now: Self.now) }
        #expect(age?.problem == .outOfRange)
    }
}
