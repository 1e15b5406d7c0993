import Foundation
import Synchronization

/// A server process a test starts on loopback: moto, osmem or the built
/// `dlq-reprocessor` itself.
///
/// The child's standard input is a pipe held by this process, and the peers
/// are started so that they exit when it closes: a test runner that crashes
/// or is killed leaves nothing running. Output is drained on a background
/// thread so a chatty peer never blocks on a full pipe; the last lines are
/// kept for failure messages.
public final class PeerProcess: Sendable {
    /// What went wrong starting a peer.
    public struct StartError: Error, CustomStringConvertible {
        /// One line saying which peer failed and why, with its last output.
        public let description: String
    }

    private let process: Mutex<Process>
    private let stdinPipe: Pipe
    private let output: Mutex<[String]>

    /// The process id of the peer.
    public var pid: Int32 { process.withLock { $0.processIdentifier } }

    /// Starts `executable` and waits until a line of its output matches.
    ///
    /// - Parameters:
    ///   - executable: Absolute path of the program.
    ///   - arguments: Its arguments.
    ///   - environment: Extra environment variables over this process's own.
    ///   - readyWhen: Returns a value once a line of output (stdout or stderr)
    ///     shows the peer is ready, `nil` otherwise.
    ///   - timeout: How long to wait for that line before killing the peer.
    /// - Returns: The started peer and the value `readyWhen` returned.
    /// - Throws: ``StartError`` when the peer exits or stays silent too long.
    public static func start<Ready: Sendable>(
        executable: String,
        arguments: [String],
        environment: [String: String] = [:],
        readyWhen: @escaping @Sendable (String) -> Ready?,
        timeout: Duration = .seconds(60)
    ) async throws -> (PeerProcess, Ready) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdinPipe = Pipe()
        let outputPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        try process.run()
        let peer = PeerProcess(process: process, stdinPipe: stdinPipe)
        let name = URL(fileURLWithPath: executable).lastPathComponent

        let ready: Ready? = await withCheckedContinuation { continuation in
            let resumed = Mutex(false)
            let resume: @Sendable (Ready?) -> Void = { value in
                let first = resumed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            // A plain thread: blocking reads must not occupy the cooperative pool.
            let reader = Thread {
                var buffer = Data()
                let handle = outputPipe.fileHandleForReading
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                    while let newline = buffer.firstIndex(of: 0x0A) {
                        let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                        buffer.removeSubrange(buffer.startIndex...newline)
                        peer.remember(line)
                        if let value = readyWhen(line) { resume(value) }
                    }
                }
                resume(nil)
            }
            reader.start()
            Task.detached {
                try? await Task.sleep(for: timeout)
                resume(nil)
            }
        }
        guard let ready else {
            peer.stop()
            throw StartError(description: "\(name) did not become ready: \(peer.recentOutput.suffix(5).joined(separator: " | "))")
        }
        return (peer, ready)
    }

    private init(process: Process, stdinPipe: Pipe) {
        self.process = Mutex(process)
        self.stdinPipe = stdinPipe
        self.output = Mutex([])
    }

    deinit { stop() }

    private func remember(_ line: String) {
        output.withLock { lines in
            lines.append(line)
            if lines.count > 200 { lines.removeFirst(lines.count - 200) }
        }
    }

    /// The last lines the peer printed, oldest first.
    public var recentOutput: [String] { output.withLock { $0 } }

    /// Whether the peer is still running.
    public var isRunning: Bool { process.withLock { $0.isRunning } }

    /// Sends `signal` to the peer without waiting.
    public func send(signal: Int32) {
        process.withLock { process in
            if process.isRunning { kill(process.processIdentifier, signal) }
        }
    }

    /// Waits for the peer to exit by itself (after ``send(signal:)``, say).
    /// - Parameter timeout: How long to wait; the peer is left running after it.
    /// - Returns: The exit status and whether a signal ended it, or `nil` when it is still running.
    public func waitForExit(timeout: Duration) async -> (status: Int32, killedBySignal: Bool)? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let exit = process.withLock { process -> (Int32, Bool)? in
                process.isRunning ? nil : (process.terminationStatus, process.terminationReason == .uncaughtSignal)
            }
            if let exit { return exit }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Terminates the peer (SIGTERM, then SIGKILL after two seconds) and waits for it.
    public func stop() {
        process.withLock { process in
            guard process.isRunning else { return }
            process.terminate()
            let deadline = Date().addingTimeInterval(2)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            // Bounded, not waitUntilExit(): that call was seen to wait forever on a killed peer
            // whose exit Foundation had not yet noticed, holding a thread of the task pool.
            let killDeadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < killDeadline { usleep(20_000) }
        }
        try? stdinPipe.fileHandleForWriting.close()
    }
}
