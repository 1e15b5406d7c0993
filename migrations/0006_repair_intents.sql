-- Write intents of reconcile repairs (issue 13). A repair is a write to search like any other:
-- its intent is recorded before the write and deleted in the transaction that records its
-- `reconciled` action, so a repair interrupted between the two (killed) is found by the next
-- recovery (a repairing reconcile's start, or the write engine's pass) and recorded then, with
-- "recovered": true, or dropped once its grace ends when search does not show it.
--
-- A repair belongs to no change: its intent has no settlements ('[]') and names instead the
-- run it belongs to (whose actor and reason its action carries) and the kind of drift it
-- repairs. Change intents keep both columns NULL.
ALTER TABLE write_intents ADD COLUMN reconcile_run_id INTEGER REFERENCES reconcile_runs (id);
ALTER TABLE write_intents ADD COLUMN drift_kind TEXT
    CHECK (drift_kind IS NULL OR drift_kind IN ('missing', 'stale', 'orphaned', 'differs'));

-- Recovery of repair intents: oldest first (change intents keep write_intents_created).
CREATE INDEX write_intents_repairs ON write_intents (created_at, id) WHERE reconcile_run_id IS NOT NULL;
