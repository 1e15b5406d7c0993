import Foundation

/// Where the built `dlq-reprocessor` executable is, for tests that run it as a process.
public enum ReprocessorExecutable {
    /// `DLQ_REPROCESSOR_BIN` when set, else `dlq-reprocessor` beside the test bundle
    /// (`swift build --build-tests` builds both into the same folder).
    public static var path: String {
        if let path = ProcessInfo.processInfo.environment["DLQ_REPROCESSOR_BIN"], !path.isEmpty { return path }
        var directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        // The runner may be inside the .xctest bundle rather than beside it.
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "MacOS"
            || directory.lastPathComponent == "Contents"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("dlq-reprocessor").path
    }
}
