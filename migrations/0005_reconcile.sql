-- Reconcile (issue 13): repairs of drift between the table and the index are audited actions
-- of their own kind, and a run keeps its progress so that a killed run resumes.
--
-- 1. The actions table gains the kind 'reconciled'. SQLite cannot change a CHECK constraint,
--    so the table is rebuilt: same columns in the same order, every row copied with its id and
--    hash as they are (the chain is over the column values, which do not change), the
--    AUTOINCREMENT high-water mark kept (verify compares it with the last row, to catch a
--    truncated chain), then the append-only triggers and the indexes recreated.
--    A reconcile repair has no change and no message: its action has both change_id and
--    message_id NULL, and its response names the run and the document
--    ({"reconcileRun", "documentId", "kind", "written", "status", "result", "seqNo"}).

DROP TRIGGER actions_no_update;
DROP TRIGGER actions_no_delete;

CREATE TABLE actions_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER REFERENCES changes (id),
    message_id TEXT REFERENCES messages (message_id),
    action TEXT NOT NULL CHECK (action IN ('ingested', 'quarantined', 'expired', 'filtered', 'applied', 'failed',
                                           'parked', 'superseded', 'retried', 'skipped', 'rolled_back', 'resynced',
                                           'conflict', 'duplicate', 'reconciled')),
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

-- 2. One row per reconcile run: what it was asked, how far it got, what it found.
--    positions_json: {"<segment>": LastEvaluatedKey as DynamoDB JSON, or "done"} per scan
--    segment; walk_after: the last document id the index walk finished (NULL before it
--    started); each page's counts, samples, positions and repair actions commit together.
CREATE TABLE reconcile_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mode TEXT NOT NULL CHECK (mode IN ('dry_run', 'repair')),
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    actor TEXT NOT NULL,
    reason TEXT,
    segments INTEGER NOT NULL CHECK (segments >= 1),
    positions_json TEXT NOT NULL,
    walk_after TEXT,
    walk_done INTEGER NOT NULL DEFAULT 0 CHECK (walk_done IN (0, 1)),
    scanned INTEGER NOT NULL DEFAULT 0,
    indexed INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0,
    stale INTEGER NOT NULL DEFAULT 0,
    orphaned INTEGER NOT NULL DEFAULT 0,
    differs INTEGER NOT NULL DEFAULT 0,
    repaired INTEGER NOT NULL DEFAULT 0,
    conflicts INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    samples_json TEXT NOT NULL DEFAULT '{}',   -- {"missing": [ids, at most 20], ...}
    last_error TEXT,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;

-- The last run (stats), and the last unfinished run of a mode (--resume).
CREATE INDEX reconcile_runs_status ON reconcile_runs (mode, status, id);
