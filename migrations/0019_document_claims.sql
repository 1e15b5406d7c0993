-- Per-document claims on a SQLite store too (issue 26, simulation seed 6270). PostgreSQL has had
-- this table since its own 0010; its statements and rules are the same here.
--
-- A SQLite store has one replayer under the run lease, but operator commands (the CLI, the API)
-- write to search beside it. Without claims an operator's retry and rollback could land between
-- a replay round's decision and its _bulk, and the round's create (op_type=create cannot tell
-- "still absent" from "absent again") then landed over the rollback. Now every task of the write
-- engine (a replay round, an operator request, a recovery, a reconcile page) claims the documents
-- it decides, as on PostgreSQL: a document another task holds is passed by (replay) or reported
-- as a conflict to try again (an operator), and every record of a task re-checks its claims in
-- its own write transaction (SQLite's one write lock stands for PostgreSQL's FOR SHARE).
--
-- Expiry is judged by the one machine's clock a SQLite store has. A process that dies holding
-- claims does not keep them: each claiming process holds a kernel lock on a file of its own
-- beside the store (<store>.claimants/), and a claim whose holder's lock is free is free at once;
-- taking the run lease over with its kernel lock held (whose holder is gone) also releases the
-- claims of the tasks of the lease's previous holder. Released rows stay (holder NULL) so
-- epochs only grow.
CREATE TABLE document_claims (
    document_id TEXT PRIMARY KEY,
    holder TEXT,
    epoch INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX document_claims_holder ON document_claims (holder, document_id) WHERE holder IS NOT NULL;
