-- Idempotency keys of /v1's POST actions (issue 29).
--
-- A client that lost the answer to a POST sends it again with the same `Idempotency-Key`
-- header: the first request's answer is kept here for 24 hours and answered again without
-- acting again, so the audit trail records the action once. Keys are the operator's own
-- (one operator's key never answers another's request); the same key with another request
-- (method, path or body) is refused. A row whose answer is still NULL is a request being
-- carried out; one left so by a process that died is taken over after a while.

CREATE TABLE idempotency_keys (
    actor TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- SHA-256 (hex) of the request: method, path and body (JSON in its canonical form)
    request_hash TEXT NOT NULL,
    -- the answer's status and body, NULL while the first request is being carried out
    status INTEGER,
    response TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (actor, idempotency_key)
) STRICT;

-- Expired keys are deleted by expiry time.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
