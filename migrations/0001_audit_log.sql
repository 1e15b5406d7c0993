-- The audit log: what arrived on the DLQ (messages), every failed stream record it
-- carried (changes), and an append-only, hash-chained record of everything that
-- happened to them (actions). Plus run leases and finished runs for the cron job.
--
-- Conventions:
--   * times are INTEGER milliseconds since 1970-01-01T00:00:00Z (UTC);
--   * JSON columns (*_json) hold compact JSON text with sorted keys; images and keys are
--     DynamoDB JSON ({"PK": {"S": "ARTIST#1"}, ...});
--   * sequence numbers are stored twice: sequence_number (canonical digits, for people)
--     and sequence_key (zero-padded to 80 characters, so text order is numeric order);
--   * every query the AuditLog module runs is served by an index below (see the
--     EXPLAIN QUERY PLAN test), so nothing scans a whole table but counts and verify.

CREATE TABLE messages (
    message_id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,                                   -- exactly as received
    format TEXT NOT NULL CHECK (format IN ('A', 'B', 'C')),
    correlation_id TEXT,
    error_text TEXT,
    received_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL,
    sent_at INTEGER,
    quarantine_reason TEXT                                -- not NULL: the body could not be understood
) STRICT;

-- stats(): quarantined message count without reading every message.
CREATE INDEX messages_quarantined ON messages (received_at) WHERE quarantine_reason IS NOT NULL;

CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,                 -- never reused: keyset cursors stay valid
    message_id TEXT REFERENCES messages (message_id),
    stream_arn TEXT,
    shard_id TEXT,
    sequence_key TEXT NOT NULL CHECK (length(sequence_key) = 80),
    sequence_number TEXT NOT NULL,
    event_id TEXT,
    event_name TEXT CHECK (event_name IN ('INSERT', 'MODIFY', 'REMOVE')),
    keys_json TEXT,
    document_id TEXT,
    old_image_json TEXT,
    new_image_json TEXT,
    approximate_creation_at INTEGER,
    status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'failed', 'parked', 'skipped',
                                           'rolled_back', 'superseded', 'filtered', 'expired')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER,
    last_error TEXT,
    batch_info_json TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Identity of a change: one row per (stream ARN, sequence number), a missing ARN counting
-- as one stream; and one row per event ID. Ingest relies on these to be idempotent.
CREATE UNIQUE INDEX changes_identity ON changes (ifnull(stream_arn, ''), sequence_key);
CREATE UNIQUE INDEX changes_event_id ON changes (event_id) WHERE event_id IS NOT NULL;
-- history(documentID:): a document's changes in sequence order.
CREATE INDEX changes_document_sequence ON changes (document_id, sequence_key, id);
-- listChanges with a document: by id.
CREATE INDEX changes_document ON changes (document_id, id);
-- latestAppliedSequence(documentID:).
CREATE INDEX changes_applied ON changes (document_id, sequence_key) WHERE status = 'applied';
-- dueChanges: open work in (document, sequence) order; stays as small as the backlog.
CREATE INDEX changes_due ON changes (ifnull(document_id, ''), sequence_key, id) WHERE status IN ('pending', 'failed');
-- stats(): oldest open change.
CREATE INDEX changes_open_created ON changes (created_at) WHERE status IN ('pending', 'failed');
-- listChanges by status (one ordered stream per status, merged), and counts by status.
CREATE INDEX changes_status ON changes (status, id);
-- listChanges by event name.
CREATE INDEX changes_event_name ON changes (event_name, id);
-- listChanges by time: the id range of a created_at range.
CREATE INDEX changes_created ON changes (created_at);
-- errorGroups: changes with an error, grouped by error text and status.
CREATE INDEX changes_errors ON changes (last_error, status, created_at) WHERE last_error IS NOT NULL;
-- listChanges by error pattern: only changes that have an error, by id.
CREATE INDEX changes_with_error ON changes (id) WHERE last_error IS NOT NULL;
-- changes of one message (and the foreign key check).
CREATE INDEX changes_message ON changes (message_id);

-- Append-only and hash-chained: hash = SHA-256(previous row's hash ‖ canonical encoding of
-- this row's columns id..at), hex; the first row's previous hash is 32 zero bytes.
-- The canonical encoding is documented in Sources/AuditLog/ActionChain.swift.
CREATE TABLE actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER REFERENCES changes (id),
    message_id TEXT REFERENCES messages (message_id),
    action TEXT NOT NULL CHECK (action IN ('ingested', 'quarantined', 'expired', 'filtered', 'applied', 'failed',
                                           'parked', 'superseded', 'retried', 'skipped', 'rolled_back', 'resynced',
                                           'conflict', 'duplicate')),
    actor TEXT NOT NULL,
    reason TEXT,
    outcome TEXT NOT NULL,
    response TEXT,
    at INTEGER NOT NULL,
    hash TEXT NOT NULL CHECK (length(hash) = 64)
) STRICT;

CREATE TRIGGER actions_no_update BEFORE UPDATE ON actions
BEGIN
    SELECT RAISE(ABORT, 'actions are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER actions_no_delete BEFORE DELETE ON actions
BEGIN
    SELECT RAISE(ABORT, 'actions are append-only: DELETE is not allowed');
END;

-- actions(forChange:) and history.
CREATE INDEX actions_change ON actions (change_id, id);
-- actions of one message (and the foreign key check).
CREATE INDEX actions_message ON actions (message_id, id);
-- listActions by actor.
CREATE INDEX actions_actor ON actions (actor, id);
-- listActions by kind (one ordered stream per kind, merged).
CREATE INDEX actions_kind ON actions (action, id);
-- listActions by time: the id range of an `at` range.
CREATE INDEX actions_at ON actions (at);

-- A run lease: at most one `run --once` / `serve` works at a time; an expired lease is taken over.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    ttl_ms INTEGER NOT NULL CHECK (ttl_ms > 0),
    expires_at INTEGER NOT NULL
) STRICT;

-- Finished runs (stats().lastRunAt).
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    finished_at INTEGER NOT NULL
) STRICT;

CREATE INDEX runs_finished ON runs (finished_at);
