-- PostgreSQL translation of ../0008_reconcile_seen.sql: the document ids a reconcile scan saw.
CREATE TABLE reconcile_seen (
    run_id BIGINT NOT NULL REFERENCES reconcile_runs (id),
    document_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, document_id)
);
