import Dispatch
import Foundation
import Synchronization

/// Runs a command to completion and captures what it printed.
public enum CommandRunner {
    /// The outcome of a command.
    public struct Output: Sendable, CustomStringConvertible {
        /// Exit status, or the signal number when it was killed by one (see ``killedBySignal``).
        public var status: Int32
        /// Whether a signal ended it.
        public var killedBySignal: Bool
        /// Standard output.
        public var stdout: String
        /// Standard error.
        public var stderr: String

        /// Status and output, for test failure messages.
        public var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
    }

    /// Runs `executable` with `arguments` and waits for it to exit.
    ///
    /// Pipes are drained on plain threads, never on the cooperative pool.
    /// - Parameters:
    ///   - executable: Absolute path.
    ///   - arguments: Arguments.
    ///   - environment: The whole environment of the child (not merged with this process's).
    ///   - onStart: Called with the child's process id once it runs (to signal it, say).
    /// - Throws: When the executable cannot be started.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String],
        onStart: (@Sendable (Int32) -> Void)? = nil
    ) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        onStart?(process.processIdentifier)
        let finished = Mutex<Process?>(process)
        return await withCheckedContinuation { continuation in
            Thread {
                let stderrData = Mutex(Data())
                let stderrDone = DispatchSemaphore(value: 0)
                Thread {
                    let data = stderr.fileHandleForReading.readDataToEndOfFile()
                    stderrData.withLock { $0 = data }
                    stderrDone.signal()
                }.start()
                let stdoutData = stdout.fileHandleForReading.readDataToEndOfFile()
                stderrDone.wait()
                let (status, reason) = finished.withLock { process -> (Int32, Process.TerminationReason) in
                    guard let process else { return (-1, .exit) }
                    process.waitUntilExit()
                    return (process.terminationStatus, process.terminationReason)
                }
                continuation.resume(
                    returning: Output(
                        status: status, killedBySignal: reason == .uncaughtSignal,
                        stdout: String(decoding: stdoutData, as: UTF8.self),
                        stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self)))
            }.start()
        }
    }
}
