import Foundation
import Logging

/// Writes log lines to stderr prefixed with the milliseconds since the process started logging,
/// so that a step run with `DLQ_BENCH_LOG_LEVEL=debug` shows where its time goes: every AWS call
/// (logged as it starts) and every OpenSearch request (with its elapsed time), and the gaps
/// between them, which are the product's own work.
struct ElapsedLogHandler: LogHandler {
    /// When the first handler was made: the zero of every line.
    private static let origin = ContinuousClock.now

    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(logLevel: Logger.Level) {
        _ = Self.origin
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let milliseconds = Latencies.milliseconds(ContinuousClock.now - Self.origin)
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }
            .sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }
            .joined(separator: " ")
        let line = String(format: "%10.1f ms ", milliseconds) + "\(event.level) \(event.message) \(fields)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
