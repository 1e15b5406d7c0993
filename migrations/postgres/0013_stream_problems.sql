-- PostgreSQL translation of ../0013_stream_problems.sql: streams that cannot be found or
-- described, a configuration error that puts their batches off and never expires them.
CREATE TABLE stream_problems (
    stream_arn TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    since BIGINT NOT NULL,
    checked_at BIGINT NOT NULL
);

-- dueBatches(): due batches nearest their stream's retention first (the range's last record
-- reached the stream longest ago), so the batch closest to being lost is never behind newer
-- work; it replaces the index by due time.
DROP INDEX batches_due;
CREATE INDEX batches_due_by_age ON batches (last_record_at, id) WHERE status = 'pending';
