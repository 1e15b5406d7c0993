import AuditLog
import Foundation
import StreamModel

/// A benchmark step that could not run or whose result is wrong (so its figures would mean nothing).
struct BenchError: Error, CustomStringConvertible {
    /// One line.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// What a step measured, printed on stdout as one JSON object for `scripts/bench.sh`.
struct StepReport {
    private var fields: [String: JSONValue] = [:]

    init(step: String) {
        fields["step"] = .string(step)
    }

    /// Adds a number (written with up to three decimals).
    mutating func set(_ name: String, _ value: Double) {
        fields[name] = .number(String(format: "%.3f", value))
    }

    /// Adds a whole number.
    mutating func set(_ name: String, _ value: Int) {
        fields[name] = .number(String(value))
    }

    /// Adds a text.
    mutating func set(_ name: String, _ value: String) {
        fields[name] = .string(value)
    }

    /// Adds where an audit log's time went (``StoreCounters``, the difference over the step): in
    /// all (`<prefix>StoreSeconds`, `…StatementSeconds`, `…EncodingSeconds`, `…DecodingSeconds`,
    /// `…Statements`), and by method (`<prefix>Calls`: an object of `count`, `seconds`,
    /// `statementSeconds`, `encodingSeconds`, `decodingSeconds`, `statements` per method name).
    mutating func setStoreTimes(_ prefix: String, _ counters: StoreCounters) {
        let all = counters.allCalls
        set("\(prefix)StoreSeconds", Latencies.seconds(all.total))
        set("\(prefix)StatementSeconds", Latencies.seconds(all.statements))
        set("\(prefix)EncodingSeconds", Latencies.seconds(all.encoding))
        set("\(prefix)DecodingSeconds", Latencies.seconds(all.decoding))
        set("\(prefix)Statements", all.statementCount)
        let number = { (duration: Duration) in JSONValue.number(String(format: "%.4f", Latencies.seconds(duration))) }
        fields["\(prefix)Calls"] = .object(
            counters.calls.mapValues { call in
                .object([
                    "count": .number(String(call.count)), "seconds": number(call.total),
                    "statementSeconds": number(call.statements), "encodingSeconds": number(call.encoding),
                    "decodingSeconds": number(call.decoding), "statements": .number(String(call.statementCount)),
                ])
            })
    }

    /// Adds what a replay step (or one of its baselines) did in `seconds`: the workload, its
    /// documents and, when given, its changes, each with its rate.
    mutating func setReplayRates(workload: ReplayShape, documents: Int, changes: Int?, seconds: Double) {
        set("workload", workload.rawValue)
        set("documents", documents)
        set("seconds", seconds)
        set("documentsPerSecond", Double(documents) / seconds)
        if let changes {
            set("changes", changes)
            set("changesPerSecond", Double(changes) / seconds)
        }
    }

    /// Adds the process's peak resident set size and the CPU time it used (user and system),
    /// and prints the report. Call it last, so both cover the whole step.
    func print() throws {
        var fields = fields
        fields["peakRSSBytes"] = .number(String(try PeakMemory.residentSetBytes()))
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = [usage.ru_utime, usage.ru_stime].reduce(0.0) { $0 + Double($1.tv_sec) + Double($1.tv_usec) / 1e6 }
        fields["cpuSeconds"] = .number(String(cpu))
        Swift.print(JSONValue.object(fields).serialized)
    }
}

/// A process's peak resident set size, as the kernel counts it.
enum PeakMemory {
    /// `VmHWM` of /proc/<pid>/status (this process's when `pid` is nil), in bytes.
    static func residentSetBytes(pid: Int32? = nil) throws -> Int {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        let status = try String(contentsOfFile: path, encoding: .utf8)
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 3, let kibibytes = Int(fields[1]), fields[2] == "kB" { return kibibytes * 1024 }
        }
        throw BenchError("no VmHWM line in \(path) (peak RSS needs Linux)")
    }
}

/// Latency samples of one operation.
struct Latencies {
    private(set) var milliseconds: [Double] = []

    /// Times `body` and keeps the sample.
    mutating func time<T>(_ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        let value = try await body()
        milliseconds.append(Self.milliseconds(ContinuousClock.now - start))
        return value
    }

    /// The `fraction` percentile (nearest rank), e.g. 0.99.
    func percentile(_ fraction: Double) -> Double {
        Self.percentile(fraction, of: milliseconds) ?? .nan
    }

    /// The `fraction` percentile (nearest rank) of `values`; nil when there are none.
    static func percentile(_ fraction: Double, of values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    static func milliseconds(_ duration: Duration) -> Double {
        seconds(duration) * 1000
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// A small deterministic generator, so every run samples the same documents.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
