import Foundation
import Synchronization

/// An osmem-server (in-memory OpenSearch) on a free loopback port.
///
/// The binary comes from `OSMEM_SERVER_BIN`, or from the `osmem-server` PyPI
/// package that `scripts/setup.sh` installs.
public final class OSMemServer: Sendable {
    /// Base URL, such as `http://127.0.0.1:40015`.
    public let url: URL
    /// The running process.
    public let process: PeerProcess

    private init(url: URL, process: PeerProcess) {
        self.url = url
        self.process = process
    }

    /// Starts a new, empty server. It exits with the test process.
    ///
    /// - Parameters:
    ///   - address: Listen address; the default picks a free port.
    ///     Pass a fixed `host:port` to restart a stopped server where it was.
    ///   - seedFiles: `.ndjson` files in `_bulk` form (action line, document line) loaded at
    ///     start, so a restarted server can hold what the stopped one held.
    /// - Throws: ``PeerProcess/StartError`` when the binary is missing or fails.
    public static func start(address: String = "127.0.0.1:0", seedFiles: [String] = []) async throws -> OSMemServer {
        let binary = try await Task.detached { try locateBinary() }.value
        let (process, url) = try await PeerProcess.start(
            executable: binary,
            arguments: ["--addr", address, "--no-ja"] + seedFiles.flatMap { ["--seed", $0] },
            readyWhen: { line -> URL? in
                guard line.hasPrefix("{"),
                    let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let text = object["url"] as? String
                else { return nil }
                return URL(string: text)
            }
        )
        return OSMemServer(url: url, process: process)
    }

    /// Stops the server; connections to ``url`` are then refused.
    public func stop() { process.stop() }

    /// `host:port` of ``url``, for restarting on the same address.
    public var address: String { "\(url.host ?? "127.0.0.1"):\(url.port ?? 0)" }

    /// The resolved binary, found once per test process.
    private static let resolvedBinary = Mutex<String?>(nil)

    static func locateBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["OSMEM_SERVER_BIN"], !path.isEmpty {
            return path
        }
        if let path = resolvedBinary.withLock({ $0 }) { return path }
        let resolver = Process()
        resolver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        resolver.arguments = ["python3", "-c", "import osmem_server; print(osmem_server.resolve_binary())"]
        let pipe = Pipe()
        resolver.standardOutput = pipe
        resolver.standardError = FileHandle.nullDevice
        try resolver.run()
        // Wait for the exit, then take what the pipe holds (one short line, well inside its buffer):
        // reading to end of file could wait forever when a process spawned meanwhile by a parallel
        // test inherited the pipe's write end.
        resolver.waitUntilExit()
        let data = pipe.fileHandleForReading.availableData
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard resolver.terminationStatus == 0, !path.isEmpty else {
            throw PeerProcess.StartError(
                description: "osmem-server not found: run scripts/setup.sh or set OSMEM_SERVER_BIN")
        }
        resolvedBinary.withLock { $0 = path }
        return path
    }
}
