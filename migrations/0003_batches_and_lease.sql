-- Batches as their own rows, and a fenced run lease (issue 11).
--
-- A format-A DLQ message names a failed batch: a shard and a sequence-number range of a
-- stream. It is stored as one `batches` row (its message is then deleted from the queue),
-- and later passes read the range from the stream, page by page: each page's changes are
-- committed together with the batch's progress (last_read_*), so a crash resumes where the
-- last commit left off and memory does not grow with the range. Changes read for a batch
-- keep their own identity (stream ARN + sequence number); the batch never takes one of them.
--
-- Statuses:
--   pending  - records still to read (waiting_since says since when; next_attempt_at delays
--              a batch after a transient error, with backoff);
--   read     - every record of the range is stored;
--   expired  - the stream no longer has the records (trimmed, shard or stream gone, or the
--              range's last record older than the stream's 24-hour retention);
--   resolved, skipped - an expired batch dealt with by an operator (reconcile, skip).

CREATE TABLE batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL REFERENCES messages (message_id),
    stream_arn TEXT NOT NULL,
    shard_id TEXT NOT NULL,
    start_key TEXT NOT NULL CHECK (length(start_key) = 80),
    start_sequence TEXT NOT NULL,
    end_key TEXT NOT NULL CHECK (length(end_key) = 80),
    end_sequence TEXT NOT NULL,
    batch_info_json TEXT NOT NULL,
    -- when the range's last record reached the stream, as the message claims (else when the
    -- message was sent or received): the stream keeps it 24 hours from then
    last_record_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'read', 'expired', 'resolved', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER,
    last_error TEXT,
    last_read_key TEXT CHECK (last_read_key IS NULL OR length(last_read_key) = 80),
    last_read_sequence TEXT,
    records_read INTEGER NOT NULL DEFAULT 0 CHECK (records_read >= 0),
    waiting_since INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Identity of a batch: the same range named by two messages is one batch.
CREATE UNIQUE INDEX batches_identity ON batches (stream_arn, shard_id, start_key, end_key);
-- dueBatches: pending batches by due time.
CREATE INDEX batches_due ON batches (ifnull(next_attempt_at, 0), id) WHERE status = 'pending';
-- stats(): counts by status; listBatches by status.
CREATE INDEX batches_status ON batches (status, id);
-- stats(): the oldest waiting batch.
CREATE INDEX batches_waiting ON batches (waiting_since) WHERE status = 'pending';
-- batches of one message (and the foreign key check).
CREATE INDEX batches_message ON batches (message_id);

-- The lease row mirrors a kernel lock (flock on `<database>.lease`): who holds it, since
-- when, and an epoch that grows with every take-over. Writes made under the lease check
-- holder and epoch in their own transaction (a fence), so a holder that lost it cannot write.
-- released_at is set when the holder gives it up; the row stays, so the epoch keeps growing.
ALTER TABLE leases ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0 CHECK (epoch >= 0);
ALTER TABLE leases ADD COLUMN renewed_at INTEGER;
ALTER TABLE leases ADD COLUMN released_at INTEGER;
