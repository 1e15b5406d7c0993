import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL server on a free loopback port: `initdb` and `pg_ctl` in a
/// temporary folder of its own, removed when it stops.
///
/// initdb refuses to run as root, so under root the folder is given to the `postgres` user
/// (which Debian's `postgresql` package creates) and the server runs as that user through
/// `runuser`. Connections over TCP need the password (``password``, SCRAM); the server's
/// owner is ``user``. A watcher process holds a pipe from this process: when it closes
/// (``stop()``, or the test runner dying) the watcher stops the server and removes the
/// folder, so a killed test run leaves nothing running.
public final class PostgresServer: Sendable {
    /// What went wrong starting or using the server.
    public struct Failure: Error, CustomStringConvertible {
        /// One line saying which step failed, with what the command printed.
        public let description: String
    }

    /// The server's loopback port.
    public let port: Int
    /// The superuser that owns the cluster.
    public let user = "dlq"
    /// The superuser's password.
    public let password: String
    /// The temporary folder holding the cluster (`data/`), its socket and its log.
    public let folder: URL
    /// The folder of the server's programs (`initdb`, `pg_ctl`, `psql`).
    public let binaries: URL
    /// The watcher and the pipe whose closing stops it; nil once stopped.
    private let watcher: Mutex<(process: Process, input: Pipe)?>

    /// The prefix that runs the server's programs as their owner (`runuser -u postgres --` under root).
    private let runAs: [String]

    private init(port: Int, password: String, folder: URL, binaries: URL, runAs: [String], watcher: Process, watcherInput: Pipe) {
        (self.port, self.password, self.folder, self.binaries, self.runAs) = (port, password, folder, binaries, runAs)
        self.watcher = Mutex((watcher, watcherInput))
    }

    /// Stops the server (`pg_ctl stop -m fast`: sessions are cut, as in a failover), keeping
    /// its data; ``startAgain()`` brings it back on the same port.
    /// - Throws: ``Failure`` when pg_ctl fails.
    public func stopForNow() async throws {
        try await Self.run(
            runAs, binaries.appendingPathComponent("pg_ctl").path,
            ["-D", folder.appendingPathComponent("data").path, "-m", "fast", "-w", "stop"], step: "pg_ctl stop")
    }

    /// Starts the server stopped by ``stopForNow()`` again, on the same port.
    /// - Throws: ``Failure`` when pg_ctl fails.
    public func startAgain() async throws {
        // Through a shell that sends pg_ctl's output to a file and then says how it went: the
        // server pg_ctl starts must not hold our pipe open, and Foundation's wait for a process
        // that spawned a daemon is not to be trusted (it can miss the exit), so the answer is
        // the shell's one line, read to its end, as the watcher does at the first start.
        let pgCtl = [
            binaries.appendingPathComponent("pg_ctl").path, "-D", folder.appendingPathComponent("data").path, "-l",
            folder.appendingPathComponent("log").path, "-w", "-t", "60", "-o",
            "-p \(port) -k \(folder.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300", "start",
        ]
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments =
            [
                "-c", #"if "$@" > "$0" 2>&1 < /dev/null; then echo started; else echo failed; fi"#,
                folder.appendingPathComponent("pg_ctl.out").path,
            ]
            + runAs + pgCtl
        shell.environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"]
        let output = Pipe()
        shell.standardOutput = output
        shell.standardError = FileHandle.nullDevice
        shell.standardInput = FileHandle.nullDevice
        try shell.run()
        let answer = await withCheckedContinuation { continuation in
            Thread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
        guard answer.hasPrefix("started") else {
            let printed = (try? String(contentsOf: folder.appendingPathComponent("pg_ctl.out"), encoding: .utf8)) ?? ""
            throw Failure(description: "pg_ctl start failed: \(printed.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// A URL for `database` (default `postgres`) with the password in it.
    /// - Parameter database: The database to name.
    /// - Returns: `postgres://dlq:<password>@127.0.0.1:<port>/<database>?sslmode=disable`.
    public func url(database: String = "postgres") -> String {
        "postgres://\(user):\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Creates and starts a new, empty cluster.
    /// - Throws: ``Failure`` naming the step (initdb, start) and what it printed.
    public static func start() async throws -> PostgresServer {
        let binaries = try installedBinaries()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        let password = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try Data(password.utf8).write(to: folder.appendingPathComponent("password"))
        var runAs: [String] = []
        if getuid() == 0 {
            guard let account = getpwnam("postgres") else {
                try? FileManager.default.removeItem(at: folder)
                throw Failure(description: "running as root and there is no postgres user to run initdb as; run scripts/setup.sh")
            }
            for path in [folder.path, folder.appendingPathComponent("password").path] {
                chown(path, account.pointee.pw_uid, account.pointee.pw_gid)
            }
            runAs = ["/usr/sbin/runuser", "-u", "postgres", "--"]
        }
        do {
            try await run(
                runAs, binaries.appendingPathComponent("initdb").path,
                [
                    "-D", folder.appendingPathComponent("data").path, "-U", "dlq", "--pwfile",
                    folder.appendingPathComponent("password").path, "--auth-local=trust", "--auth-host=scram-sha-256",
                    "-E", "UTF8", "--locale=C", "--no-sync",
                ], step: "initdb")
            var lastFailure = ""
            for _ in 0..<3 {
                let port = try LoopbackPort.unused()
                let (watcher, input, started) = try await startWatcher(
                    folder: folder, binaries: binaries, port: port, runAs: runAs)
                if started {
                    return PostgresServer(
                        port: port, password: password, folder: folder, binaries: binaries, runAs: runAs, watcher: watcher,
                        watcherInput: input)
                }
                // Another process may have taken the port between LoopbackPort.unused() and the bind: try another.
                watcher.waitUntilExit()
                lastFailure = (try? String(contentsOf: folder.appendingPathComponent("pg_ctl.out"), encoding: .utf8)) ?? ""
            }
            throw Failure(description: "pg_ctl start failed: \(lastFailure.trimmingCharacters(in: .whitespacesAndNewlines))")
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
    }

    /// Runs `sql` through `psql` over TCP with the password, as ``user``.
    /// - Parameters:
    ///   - sql: One or more statements.
    ///   - database: The database to connect to.
    /// - Returns: What psql printed, unaligned and without headers (`-At`).
    /// - Throws: ``Failure`` with psql's output when it fails (the server is down, the SQL is wrong).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let output = try await CommandRunner.run(
            binaries.appendingPathComponent("psql").path,
            ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: ["PGPASSWORD": password, "PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"])
        guard output.status == 0, !output.killedBySignal else {
            throw Failure(description: "psql failed: \(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server and removes its folder; waits until both are done.
    public func stop() {
        guard
            let (process, input) = watcher.withLock({ watcher in
                defer { watcher = nil }; return watcher
            })
        else { return }
        Self.stopWatcher(process, input: input)
    }

    deinit {
        stop()
    }

    /// The newest `/usr/lib/postgresql/<major>/bin` with an `initdb`.
    private static func installedBinaries() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let majors = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let newest = majors.compactMap(Int.init).sorted().last {
            FileManager.default.isExecutableFile(atPath: root.appendingPathComponent("\($0)/bin/initdb").path)
        }
        guard let newest else {
            throw Failure(description: "no PostgreSQL server under /usr/lib/postgresql (initdb, pg_ctl); run scripts/setup.sh")
        }
        return root.appendingPathComponent("\(newest)/bin")
    }

    /// Starts the server from a shell that then waits for its input to close, stops the server
    /// and removes `folder`.
    ///
    /// The server is started by this long-lived shell, not by a process this one waits for:
    /// Foundation notices a child's exit when a socket the child inherited closes, and the
    /// daemon `pg_ctl` leaves behind inherits it too. The shell outlives the server, so
    /// waiting for the shell is right.
    /// - Returns: The shell, the pipe whose closing stops it, and whether the server started
    ///   (when not, the shell exits and `pg_ctl.out` in `folder` says why).
    private static func startWatcher(folder: URL, binaries: URL, port: Int, runAs: [String]) async throws -> (
        Process, Pipe, Bool
    ) {
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/bin/sh")
        watcher.arguments =
            [
                "-c",
                """
                trap "" PIPE
                folder=$1; pg_ctl=$2; port=$3; shift 3
                if ! "$@" "$pg_ctl" -D "$folder/data" -l "$folder/log" -w -t 60 \\
                    -o "-p $port -k $folder -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \\
                    start > "$folder/pg_ctl.out" 2>&1; then
                    echo failed
                    exit 1
                fi
                echo started
                exec > /dev/null
                cat > /dev/null
                "$@" "$pg_ctl" -D "$folder/data" -m fast -w stop > /dev/null 2>&1
                rm -rf "$folder"
                """,
                "postgres-watcher", folder.path, binaries.appendingPathComponent("pg_ctl").path, String(port),
            ] + runAs
        let input = Pipe()
        let output = Pipe()
        watcher.standardInput = input
        watcher.standardOutput = output
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        let firstLine = await withCheckedContinuation { continuation in
            Thread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
        return (watcher, input, firstLine.hasPrefix("started"))
    }

    private static func stopWatcher(_ watcher: Process, input: Pipe) {
        try? input.fileHandleForWriting.close()
        watcher.waitUntilExit()
    }

    private static func run(_ runAs: [String], _ executable: String, _ arguments: [String], step: String) async throws {
        let command = runAs.isEmpty ? [executable] + arguments : runAs + [executable] + arguments
        let output = try await CommandRunner.run(
            command[0], Array(command.dropFirst()), environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"])
        guard output.status == 0, !output.killedBySignal else {
            throw Failure(
                description:
                    "\(step) failed (exit \(output.status)): \((output.stderr + output.stdout).trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
    }
}

/// One throwaway PostgreSQL server for a whole test process, started at first use; each
/// test gets a database of its own on it (``newDatabase()``), so tests stay independent
/// without paying for a cluster each.
public enum SharedPostgresServer {
    private static let server = Task { try await PostgresServer.start() }

    /// The shared server (started by the first caller).
    /// - Throws: ``PostgresServer/Failure`` when it cannot start.
    public static func shared() async throws -> PostgresServer {
        try await server.value
    }

    /// Creates an empty database on the shared server.
    /// - Returns: Its URL, with the password and `sslmode=disable`.
    public static func newDatabase() async throws -> String {
        let server = try await shared()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await server.psql("CREATE DATABASE \(name)")
        return server.url(database: name)
    }
}
