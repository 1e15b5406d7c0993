import Foundation

/// A moto server (SQS, DynamoDB, DynamoDB Streams, Secrets Manager, IAM) on a
/// free loopback port.
///
/// moto is started through a small Python launcher that exits when its
/// standard input closes, so it dies with the test process.
public final class MotoServer: Sendable {
    /// Base URL, such as `http://127.0.0.1:37067`; use it as `AWS_ENDPOINT_URL`.
    public let url: URL
    /// The running process.
    public let process: PeerProcess

    private init(url: URL, process: PeerProcess) {
        self.url = url
        self.process = process
    }

    /// Starts a new, empty moto.
    ///
    /// - Parameter initialNoAuthActionCount: When set, moto accepts that many
    ///   unsigned calls (to create an IAM user and key) and then verifies the
    ///   SigV4 signature of every request.
    /// - Throws: ``PeerProcess/StartError`` when moto is missing or fails.
    public static func start(initialNoAuthActionCount: Int? = nil) async throws -> MotoServer {
        var environment = [
            "AWS_DEFAULT_REGION": "eu-west-2",
            "MOTO_ALLOW_NONEXISTENT_REGION": "true",
        ]
        if let initialNoAuthActionCount {
            environment["INITIAL_NO_AUTH_ACTION_COUNT"] = String(initialNoAuthActionCount)
        }
        let launcher = """
            import os, sys, threading
            def watch():
                while sys.stdin.buffer.read(65536):
                    pass
                os._exit(0)
            threading.Thread(target=watch, daemon=True).start()
            from moto.server import main
            main(["-H", "127.0.0.1", "-p", "0"])
            """
        let (process, url) = try await PeerProcess.start(
            executable: "/usr/bin/env",
            arguments: ["python3", "-c", launcher],
            environment: environment,
            readyWhen: { line -> URL? in
                guard let range = line.range(of: "Running on http://") else { return nil }
                return URL(string: "http://" + line[range.upperBound...].trimmingCharacters(in: .whitespaces))
            }
        )
        return MotoServer(url: url, process: process)
    }

    /// Stops moto; calls to ``url`` are then refused.
    public func stop() { process.stop() }
}
