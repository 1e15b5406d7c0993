-- The write engine records the intent of every write to search before it sends the write, and
-- deletes the intent in the same transaction that records the write's outcome (DESIGN §5). An
-- intent still here after its writer stopped (killed, or its recording lost a race) is resolved
-- by the next pass: when search shows the intended stamp, the write happened and is recorded
-- then; otherwise it never landed and the intent is dropped.
--
-- Not part of the audit trail (the actions are): rows are deleted once resolved.
CREATE TABLE write_intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('index', 'delete')),
    stamp_sequence TEXT,                   -- sync.sequenceNumber written (index only)
    stamp_applied_at TEXT,                 -- sync.appliedAt written (index only): with the sequence, the write's token
    settlements_json TEXT NOT NULL,        -- how each change settles once the write is known to have landed
    created_at INTEGER NOT NULL
) STRICT;

-- The next pass's recovery: oldest first; and the intents of one document.
CREATE INDEX write_intents_created ON write_intents (created_at, id);
CREATE INDEX write_intents_document ON write_intents (document_id, id);

-- Whether replay is paused because search as a whole is failing (at most one row), for stats:
-- set by a pass that stopped on an outage, cleared by the next pass that gets through.
CREATE TABLE replay_pause (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    reason TEXT NOT NULL,
    since INTEGER NOT NULL,                -- when the outage was first seen
    checked_at INTEGER NOT NULL            -- the last pass that found it
) STRICT;
