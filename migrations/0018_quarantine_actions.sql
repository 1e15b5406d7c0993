-- Quarantined messages (issue 24): an operator deletes one from the quarantine with a reason, or
-- re-ingests it once the cause is fixed (its kept body parsed again by the ingest path). Each is an
-- action of its own kind on the message, 'deleted' and 'reingested'; a quarantined message with
-- either is no longer waiting. The message row itself is write-once (its fingerprint is on the
-- chain), so nothing else changes: the body stays in the audit log. And the console's search
-- finds the messages of a correlation id by a new index.
--
-- SQLite cannot change a CHECK constraint, so the actions table is rebuilt as 0017 rebuilt it:
-- same columns in the same order, every row copied with its id and hash (the chain is over the
-- column values, which do not change), the AUTOINCREMENT high-water mark kept, then the
-- append-only triggers and the indexes recreated.

DROP TRIGGER actions_no_update;
DROP TRIGGER actions_no_delete;

CREATE TABLE actions_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER REFERENCES changes (id),
    message_id TEXT REFERENCES messages (message_id),
    action TEXT NOT NULL CHECK (action IN ('ingested', 'quarantined', 'expired', 'filtered', 'applied', 'failed',
                                           'parked', 'superseded', 'retried', 'skipped', 'rolled_back', 'resynced',
                                           'conflict', 'duplicate', 'reconciled', 'salvaged', 'deleted',
                                           'reingested')),
    actor TEXT NOT NULL,
    reason TEXT,
    outcome TEXT NOT NULL,
    response TEXT,
    at INTEGER NOT NULL,
    hash TEXT NOT NULL CHECK (length(hash) = 64)
) STRICT;

INSERT INTO actions_rebuilt (id, change_id, message_id, action, actor, reason, outcome, response, at, hash)
SELECT id, change_id, message_id, action, actor, reason, outcome, response, at, hash FROM actions ORDER BY id;

DELETE FROM sqlite_sequence WHERE name = 'actions_rebuilt';
INSERT INTO sqlite_sequence (name, seq) SELECT 'actions_rebuilt', seq FROM sqlite_sequence WHERE name = 'actions';

DROP TABLE actions;
ALTER TABLE actions_rebuilt RENAME TO actions;

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
-- history(documentID:): the reconcile repairs of one document (they belong to no change).
CREATE INDEX actions_reconciled_document ON actions (json_extract(response, '$.documentId'), id)
    WHERE action = 'reconciled';

-- The console's search: the messages of one correlation id.
CREATE INDEX messages_correlation ON messages (correlation_id) WHERE correlation_id IS NOT NULL;
