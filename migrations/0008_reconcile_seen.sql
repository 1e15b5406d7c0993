-- Reconcile (issue 13): the document ids a run's scan saw, kept with each scan page (in the
-- transaction that records it), so that the index walk after the scan asks the table only
-- about the documents the scan did not see — instead of one consistent read per document in
-- search. Scratch, not audit: a run's rows are deleted when it finishes, and those of older runs
-- of its mode when a new run starts (they can no longer be resumed). A missing row only costs a
-- table read: the walk stays exact for what the scan did not see.
CREATE TABLE reconcile_seen (
    run_id INTEGER NOT NULL REFERENCES reconcile_runs (id),
    document_id TEXT NOT NULL,
    PRIMARY KEY (run_id, document_id)
) STRICT, WITHOUT ROWID;
