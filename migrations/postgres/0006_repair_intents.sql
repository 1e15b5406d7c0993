-- PostgreSQL translation of ../0006_repair_intents.sql: write intents of reconcile repairs.
ALTER TABLE write_intents ADD COLUMN reconcile_run_id BIGINT REFERENCES reconcile_runs (id);
ALTER TABLE write_intents ADD COLUMN drift_kind TEXT
    CHECK (drift_kind IS NULL OR drift_kind IN ('missing', 'stale', 'orphaned', 'differs'));

CREATE INDEX write_intents_repairs ON write_intents (created_at, id) WHERE reconcile_run_id IS NOT NULL;
