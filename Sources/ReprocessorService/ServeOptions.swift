import Reprocessor

/// How `serve` runs: where it listens, how often it replays, how it drains, who may change things.
public struct ServeOptions: Sendable {
    /// Where the HTTP API listens.
    public var address: HTTPAddress
    /// Time between replay passes.
    public var replayInterval: Duration
    /// How each drain of the DLQ receives (long-poll wait, receives in flight); no message limit.
    public var ingest: IngestOptions
    /// How long the run lease lasts without renewal (renewed at a third of it).
    public var leaseTTL: Duration
    /// The operators allowed to use the mutating endpoints.
    public var tokens: OperatorTokens
    /// Time between scheduled dry-run reconciles (nil: none).
    public var reconcileInterval: Duration?
    /// Scheduled backups of a SQLite store (nil: none).
    public var backup: BackupSchedule?

    /// Creates options.
    /// - Parameters:
    ///   - address: Where the HTTP API listens.
    ///   - replayInterval: Time between replay passes.
    ///   - ingest: How each drain receives.
    ///   - leaseTTL: Lease lifetime without renewal.
    ///   - tokens: Operator tokens.
    ///   - reconcileInterval: Time between scheduled dry-run reconciles; nil for none.
    ///   - backup: Scheduled backups; nil for none.
    public init(
        address: HTTPAddress, replayInterval: Duration, ingest: IngestOptions, leaseTTL: Duration = .seconds(60),
        tokens: OperatorTokens, reconcileInterval: Duration? = nil, backup: BackupSchedule? = nil
    ) {
        self.backup = backup
        self.address = address
        self.replayInterval = replayInterval
        self.ingest = ingest
        self.leaseTTL = leaseTTL
        self.tokens = tokens
        self.reconcileInterval = reconcileInterval
    }
}

/// `HOST:PORT` (or `[IPv6]:PORT`) the HTTP API listens on; port 0 picks a free one.
public struct HTTPAddress: Sendable, Hashable, CustomStringConvertible {
    /// Host name or address.
    public var host: String
    /// Port, 0–65535.
    public var port: Int

    /// Parses `HOST:PORT`.
    /// - Parameter text: Such as `127.0.0.1:8080`, `0.0.0.0:9000` or `[::1]:8080`.
    /// - Throws: ``ServiceError`` (`.invalidSetting`) saying what to write instead.
    public init(parsing text: String) throws(ServiceError) {
        let invalid = ServiceError(.invalidSetting, "invalid --http \"\(text)\": write HOST:PORT, such as 127.0.0.1:8080")
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw invalid }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { throw invalid }
        self.host = host
        self.port = port
    }

    /// `HOST:PORT`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
