// PostgresStore: the PostgreSQL connection layer of the shared audit store (issue 15), the
// counterpart of the `SQLite` module: where the server is (a `postgres://` URL), a pool of
// connections, and the migration runner. It must not know the audit log's rows or rules:
// `AuditLog` owns those, and hands this module its SQL and its migrations.
//
// # Design note (groundwork on branch postgres-store; AuditLog is not swapped yet)
//
// ## The store interface
// `AuditLog` keeps its name, its `actor` and its whole public API: the engine, ingest,
// reconcile, the CLI, `/v1` and the console keep calling it and never learn the backend.
// Inside, each `AuditLog+X.swift` file stops talking to `Connection` and calls one internal
// protocol, `AuditStore`, cut along the lines the write-engine and ingest issues settled. Each
// requirement is one transaction, async, and takes values (never SQL):
//   - ingest: `ingest` (message + its changes + their actions), `storeBatchPage`,
//     `delayBatch`, `expireBatch`, `skipBatch`;
//   - transitions: `transition(s)`, `appendAction`, the write engine's `commit`,
//     `recordReplayPause`, write intents (open, record, resolve);
//   - queries and the façade's answers: `dueChanges`, `documentFacts`, `listChanges`,
//     `listActions`, `history`, `errorGroups`, `stats`, `message`, `quarantinedMessages`,
//     `batch`/`dueBatches`/`listBatches`, keyset cursors as today;
//   - lease and claims: `takeLease`/`renewLease`/`releaseLease`/`checkFence`, and new
//     `claimDocuments`/`renewClaims`/`releaseClaims` (below);
//   - the keyed chain: appends happen inside the transactions above; `verify`, `head`, the
//     chain anchors;
//   - reconcile progress: runs, pages, seen ids, repair intents, `resolveExpiredBatches`.
// Two implementations: `SQLiteAuditStore` (today's code moved behind the protocol, run on the
// `DedicatedThreadExecutor` as now, behaviour unchanged) and `PostgresAuditStore` (this
// module's ``PostgresStore``, SQL in `$n` form). `AuditLog.init(location:)` picks one from
// `--db`/`AUDIT_DB`: a path opens SQLite, a `postgres://` URL opens PostgreSQL
// (``PostgresURL`` parses it: sslmode, password from the URL or `PGPASSWORD`; a Secrets
// Manager secret, `AUDIT_DB_SECRET_ARN`, is resolved by `Reprocessor` before it opens).
//
// ## Claims (PostgreSQL; SQLite keeps its single-writer lease)
// A table `document_claims (document_id PK, holder, epoch, expires_at, due_at)`, one row per
// document with work (ingest upserts it). A worker claims in one short transaction:
// `SELECT document_id FROM document_claims WHERE due_at <= now AND (holder IS NULL OR
// expires_at <= now) ORDER BY due_at LIMIT n FOR UPDATE SKIP LOCKED`, then sets holder,
// `epoch = epoch + 1` and `expires_at`, and commits. No row lock outlives that transaction, so
// none is held across an OpenSearch call. Every later write intent, record or transition for
// a document carries its claim (holder, epoch) and re-checks it in its own transaction
// (`SELECT 1 FROM document_claims WHERE document_id = $1 AND holder = $2 AND epoch = $3 AND
// expires_at > now FOR SHARE`, which also blocks a take-over until it commits; no row =
// per-change `conflict`): a worker whose claim expired or was taken over cannot write. A
// worker killed with -9 leaves rows that expire; the next claim takes them with a higher
// epoch, and the write-intent recovery finishes what it left. Per-document order holds
// because one holder decides all of a document's due changes, as the engine already does.
// Singleton duties (scheduled reconcile, pruning) use the `leases` row with an expiry, its
// epoch fencing them as today.
//
// ## The chain under concurrency
// A one-row table `chain_head (id = 1, count, hash, last_action_id)`. Every transaction that
// appends actions first does `SELECT … FROM chain_head WHERE id = 1 FOR UPDATE`, then inserts
// its actions (their identity ids are drawn under that lock, so id order is chain order),
// hashes each from the head and updates the head before it commits: appends from all workers
// are serialised on that row. A rolled-back append leaves a gap in the ids (a sequence does
// not roll back), so verify walks by id and checks the end against `chain_head`, not against
// the sequence's high-water mark as SQLite's AUTOINCREMENT check does. Its cost (appending
// transactions queue on one row lock) is what the benchmark must measure.
//
// ## Migrations
// `migrations/` stays the schema's only source. `migrations/NNNN_name.sql` (top level) are
// SQLite's, untouched so other branches merge; `migrations/postgres/NNNN_name.sql` are the
// same versions translated (BIGINT times, identity ids, `coalesce` for `ifnull`, PL/pgSQL
// triggers for the append-only rules, `COLLATE "C"` on ordering keys so text sorts by bytes
// as in SQLite, a `jsonb` expression for the reconcile index). Both bundle with `AuditLog`'s
// `migrations` resource. Both runners share ``Migration`` and its history rules
// (``Migration/historyProblem(applied:migrations:checksums:)``, SHA-256 checksums): an edited,
// renamed, missing or skipped migration is refused naming the file. ``PostgresStore/open(_:migrations:checksum:logger:)``
// migrates on one connection of its own (a bad password or TLS fails at once, with the
// server's SQLSTATE), each migration in its own transaction under `pg_advisory_xact_lock`,
// re-reading the history under the lock, so instances starting together apply each migration
// once; the lock goes with the transaction. postgres-nio has no simple-query protocol, so a
// script is split into statements (quotes, dollar quotes and comments respected).
//
// ## What uses this next, and what remains
// Today only `Tests/PostgresStoreTests` use this module and `TestSupport.PostgresServer`.
//   - `AuditLog` opens a ``PostgresStore`` for a `postgres://` location, with its bundled
//     `migrations/postgres` and `ActionChain.migrationChecksum`, and `serve` runs the pool's
//     `PostgresClient` under its `ServiceGroup` instead of the store's own task;
//   - cut `AuditStore`, move the SQLite code behind it, write `PostgresAuditStore`; run the
//     AuditLog tests against both backends (plans: `EXPLAIN QUERY PLAN` / `EXPLAIN`);
//   - add `document_claims` and `chain_head` (migration 0009 on both), claims in the engine;
//   - `migrate-store --from PATH --to postgres://…`, resumable, verifying both chains;
//   - the fleet test (3 `serve`, one killed with -9), the PostgreSQL restart test, the bench
//     figures, `AUDIT_DB_SECRET_ARN`, the README section, `.ci/run` needing PostgreSQL
//     (setup.sh installs it; tests start their own servers).
import Foundation
import Logging
import PostgresNIO
import SQLite

/// A connection pool to one PostgreSQL database, with its schema migrated at open.
///
/// Open migrates on one connection of its own, so a server that cannot be reached or refuses
/// the login fails the open at once with the server's reason; then the pool (postgres-nio's
/// `PostgresClient`) runs in a task this store owns until ``close()``. Statements are single:
/// postgres-nio speaks the extended protocol only.
public final class PostgresStore: Sendable {
    /// Where the database is (its description hides the password).
    public let url: PostgresURL
    /// The migrations this open applied, in order (empty when the schema was up to date).
    public let appliedAtOpen: [Migration]
    let client: PostgresClient
    let logger: Logger
    private let runTask: Task<Void, Never>

    private init(url: PostgresURL, client: PostgresClient, runTask: Task<Void, Never>, logger: Logger, applied: [Migration]) {
        self.url = url
        self.client = client
        self.runTask = runTask
        self.logger = logger
        self.appliedAtOpen = applied
    }

    /// Connects to the database at `url` and applies the migrations it does not have yet.
    ///
    /// Instances opening together are safe: each migration is applied in its own
    /// transaction under a transaction-scoped advisory lock, after re-reading the history.
    /// - Parameters:
    ///   - url: The database.
    ///   - migrations: Every migration the program knows (`migrations/postgres/`).
    ///   - checksum: Computes the recorded checksum of a migration's SQL (SHA-256 hex, as SQLite's).
    ///   - logger: Where postgres-nio logs.
    /// - Returns: The open store; ``appliedAtOpen`` says what this open migrated.
    /// - Throws: ``PostgresStoreError``: `.connection` when the server cannot be reached or
    ///   refuses the login or TLS (with the server's SQLSTATE when it answered), `.migration`
    ///   naming the file when the history does not match the migrations or one fails.
    public static func open(
        _ url: PostgresURL, migrations: [Migration], checksum: (String) -> String, logger: Logger = Logger(label: "PostgresStore")
    ) async throws(PostgresStoreError) -> PostgresStore {
        let tls = try tlsConfiguration(url)
        let connection: PostgresConnection
        do {
            let sslContext = try NIOSSLContext(configuration: tls)
            let connectionTLS: PostgresConnection.Configuration.TLS =
                switch url.sslMode {
                case .disable: .disable
                case .allow, .prefer: .prefer(sslContext)
                case .require, .verifyCA, .verifyFull: .require(sslContext)
                }
            connection = try await PostgresConnection.connect(
                configuration: PostgresConnection.Configuration(
                    host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
                    tls: connectionTLS),
                id: 0, logger: logger)
        } catch {
            throw PostgresStoreError(code: .connection, context: "cannot connect to \(url)", cause: error)
        }
        let applied: [Migration]
        do {
            applied = try await migrate(connection, migrations, checksum: checksum, logger: logger)
        } catch {
            _ = try? await connection.close()
            throw error
        }
        _ = try? await connection.close()
        let clientTLS: PostgresClient.Configuration.TLS =
            switch url.sslMode {
            case .disable: .disable
            case .allow, .prefer: .prefer(tls)
            case .require, .verifyCA, .verifyFull: .require(tls)
            }
        let client = PostgresClient(
            configuration: PostgresClient.Configuration(
                host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
                tls: clientTLS),
            backgroundLogger: logger)
        let runTask = Task { await client.run() }
        return PostgresStore(url: url, client: client, runTask: runTask, logger: logger, applied: applied)
    }

    /// Closes every connection and stops the pool; waits until it has.
    public func close() async {
        runTask.cancel()
        await runTask.value
    }

    /// The migrations recorded in the database, by version.
    /// - Throws: ``PostgresStoreError``.
    public func appliedMigrations() async throws(PostgresStoreError) -> [AppliedMigration] {
        do {
            return try await client.withConnection { connection in
                try await Self.appliedMigrations(on: connection, logger: logger)
            }
        } catch {
            throw PostgresStoreError(code: .statement, context: "cannot read the migration history", cause: error)
        }
    }

    /// The TLS settings `url`'s `sslmode` and `sslrootcert` ask for (used when TLS is tried at all).
    /// - Throws: ``PostgresStoreError`` `.invalidURL` when the `sslrootcert` file is missing.
    static func tlsConfiguration(_ url: PostgresURL) throws(PostgresStoreError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch url.sslMode {
        case .disable, .allow, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let roots = url.sslRootCertificate {
            guard FileManager.default.isReadableFile(atPath: roots) else {
                throw PostgresStoreError(code: .invalidURL, message: "the database URL's sslrootcert \(roots) cannot be read")
            }
            configuration.trustRoots = .file(roots)
        }
        return configuration
    }
}
