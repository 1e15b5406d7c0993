-- Failure groups by fingerprint (issue 24).
--
-- OpenSearch puts the document id and a preview of the value into its reasons, so grouping by
-- the error text gave one group per document. A failure's fingerprint is its error text with
-- document ids, quoted values, numbers, UUIDs and sequence numbers masked (FailureFingerprint),
-- and its group id the first ten hexadecimal digits of the fingerprint's SHA-256. The store
-- writes both wherever it writes last_error; rows stored before this migration are filled at
-- the next open (the masking is Swift, not SQL), a page at a time, through changes_ungrouped.
ALTER TABLE changes ADD COLUMN error_fingerprint TEXT;
ALTER TABLE changes ADD COLUMN error_group TEXT;

-- errorGroups: count, first and last seen per group and status; distinct documents per group;
-- each read from its index alone.
CREATE INDEX changes_error_groups ON changes (error_group, status, created_at) WHERE error_group IS NOT NULL;
CREATE INDEX changes_error_documents ON changes (error_group, document_id, status) WHERE error_group IS NOT NULL;
-- listChanges with a group (list, retry, skip, rollback --group): its changes by id; and the
-- group's newest example.
CREATE INDEX changes_error_group_ids ON changes (error_group, id) WHERE error_group IS NOT NULL;
-- The rows with an error but no group yet: empty once filled.
CREATE INDEX changes_ungrouped ON changes (id) WHERE last_error IS NOT NULL AND error_group IS NULL;
-- Groups by error text are gone: errorGroups reads changes_error_groups.
DROP INDEX changes_errors;
