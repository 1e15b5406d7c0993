-- Streams that cannot be found or described (issue 22).
--
-- ResourceNotFoundException from DynamoDB Streams is not proof that a batch's records are
-- gone: a wrong endpoint, region or account answers it too. A batch is expired only when the
-- stream answers for its ARN and shows the range trimmed, or when the range's last record is
-- older than the stream's 24-hour retention. A stream that cannot be described is a
-- configuration error: its batches are put off (never expired for it), and the stream is
-- listed here, for `stats`, `/readyz` and a metric, until a read of it works again.

CREATE TABLE stream_problems (
    stream_arn TEXT PRIMARY KEY,
    -- what failed, in one line, naming the endpoint asked
    reason TEXT NOT NULL,
    -- when the problem was first seen, and last
    since INTEGER NOT NULL,
    checked_at INTEGER NOT NULL
) STRICT;

-- dueBatches(): due batches nearest their stream's retention first (the range's last record
-- reached the stream longest ago), so the batch closest to being lost is never behind newer
-- work; it replaces the index by due time.
DROP INDEX batches_due;
CREATE INDEX batches_due_by_age ON batches (last_record_at, id) WHERE status = 'pending';
