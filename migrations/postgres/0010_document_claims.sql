-- Per-document claims, for a fleet sharing one PostgreSQL store (SQLite stores have one
-- replayer under the run lease, so this migration is PostgreSQL's alone).
--
-- A worker claims the documents it is about to decide in one short transaction: it ensures
-- their rows exist, locks the free ones with FOR UPDATE SKIP LOCKED (a row another worker is
-- claiming or writing under is skipped, never waited for), and sets holder, epoch + 1 and
-- expires_at. No row lock outlives that transaction, so none is held across a call to
-- OpenSearch. Every later record for a document (its write intent, its outcome) re-checks in
-- its own transaction that the holder and epoch are still this worker's and unexpired
-- (FOR SHARE, so a take-over waits for that record to commit): a worker whose claim expired
-- or was taken over cannot write. Released rows stay (holder NULL) so epochs only grow.
CREATE TABLE document_claims (
    document_id TEXT COLLATE "C" PRIMARY KEY,
    holder TEXT,
    epoch BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX document_claims_holder ON document_claims (holder, document_id) WHERE holder IS NOT NULL;
