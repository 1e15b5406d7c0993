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
// A table `document_claims (document_id PK, holder, epoch, expires_at)`. A worker claims
// work in one short transaction: `SELECT … FROM changes … FOR UPDATE SKIP LOCKED` over the
// due documents whose claim is missing or expired, then upserts their claim rows with
// `epoch = epoch + 1` and commits. No row lock outlives that transaction, so none is held
// across an OpenSearch call. Every later write or transition for a document carries its
// claim (holder, epoch) and checks it in its own transaction (`UPDATE … WHERE holder = $1
// AND epoch = $2 AND expires_at > now`, zero rows = `conflict`): a worker whose claim
// expired, or was taken over, cannot write. A worker killed with -9 leaves rows that expire;
// the next claim takes them over with a higher epoch. Per-document order holds because a
// document's due changes are claimed and decided together, as the engine already does.
// Singleton duties (scheduled reconcile, pruning) use the `leases` row with an expiry, the
// epoch fencing it as today.
//
// ## The chain under concurrency
// A one-row table `chain_head (id = 1, count, hash, last_action_id)`. Every transaction that
// appends actions first does `SELECT … FROM chain_head WHERE id = 1 FOR UPDATE`, computes
// each action's hash from the head, inserts the actions and updates the head before it
// commits: appends from all workers are serialised on that row, and the chain stays one
// verifiable sequence by id. Its cost (every appending transaction queues on one row lock)
// is what the benchmark must measure.
//
// ## Migrations
// `migrations/` stays the schema's only source. `migrations/NNNN_name.sql` (top level) are
// SQLite's, untouched so other branches merge; `migrations/postgres/NNNN_name.sql` are the
// same versions translated (BIGINT times, identity ids, `coalesce` for `ifnull`, PL/pgSQL
// triggers for the append-only rules, `jsonb` path for the reconcile index). Both bundle with
// `AuditLog`'s `migrations` resource. Both runners share ``Migration`` and its history rules
// (``Migration/historyProblem(applied:migrations:checksums:)``): an edited, renamed, missing
// or skipped migration is refused naming the file. PostgreSQL applies each migration in its
// own transaction under `pg_advisory_xact_lock`, re-reading the history under the lock, so
// instances starting together apply each migration once; the lock is released with the
// transaction, so a pooled connection never keeps it.
//
// ## What uses this next, and what remains
//   - `AuditLog` opens a ``PostgresStore`` for a `postgres://` location (today only the
//     PostgreSQL tests do) and runs its client under the `ServiceGroup` in `serve`;
//   - cut `AuditStore`, move the SQLite code behind it, write `PostgresAuditStore`; run the
//     AuditLog tests against both backends (plans: `EXPLAIN QUERY PLAN` / `EXPLAIN`);
//   - add `document_claims` and `chain_head` (migration 0009 on both), claims in the engine;
//   - `migrate-store --from PATH --to postgres://…`, resumable, verifying both chains;
//   - the fleet test (3 `serve`, one killed with -9), the PostgreSQL restart test, the bench
//     figures, `AUDIT_DB_SECRET_ARN`, the README section, `.ci/run` needing PostgreSQL
//     (setup.sh installs it; tests start their own servers).
