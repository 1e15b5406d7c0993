-- PostgreSQL translation of ../0014_failure_fingerprints.sql: a failure's fingerprint and group
-- id stored with it, indexed for errorGroups and for acting on one group.
ALTER TABLE changes ADD COLUMN error_fingerprint TEXT;
ALTER TABLE changes ADD COLUMN error_group TEXT;

CREATE INDEX changes_error_groups ON changes (error_group, status, created_at) WHERE error_group IS NOT NULL;
CREATE INDEX changes_error_documents ON changes (error_group, document_id, status) WHERE error_group IS NOT NULL;
CREATE INDEX changes_error_group_ids ON changes (error_group, id) WHERE error_group IS NOT NULL;
CREATE INDEX changes_ungrouped ON changes (id) WHERE last_error IS NOT NULL AND error_group IS NULL;
DROP INDEX changes_errors;
