-- Insert speed (issue 15): the two indexes every ingested change enters place it in its
-- stream by its canonical sequence number (digits without leading zeros) rather than by the
-- 80-character zero-padded sequence_key. Same uniqueness (one number, one canonical text) and
-- same order (length first, then the digits, is numeric order), in entries about 60 bytes
-- shorter. sequence_key stays in the table, where fingerprints and the applied-sequence
-- index read it. (SQLite's 0011 is the same change.)
DROP INDEX changes_identity;
CREATE UNIQUE INDEX changes_identity ON changes (coalesce(stream_arn, ''), sequence_number);

DROP INDEX changes_due;
CREATE INDEX changes_due ON changes (coalesce(document_id, ''), length(sequence_number), sequence_number, id)
    WHERE status IN ('pending', 'failed');
