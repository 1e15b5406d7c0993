-- PostgreSQL translation of ../0007_error_group_index.sql: one failure group's changes by id.
CREATE INDEX changes_error_text ON changes (last_error, id) WHERE last_error IS NOT NULL;
