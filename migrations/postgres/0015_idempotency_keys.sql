-- PostgreSQL translation of ../0015_idempotency_keys.sql: the answers of /v1's POST actions
-- sent with an `Idempotency-Key`, kept for 24 hours and answered again to a repeat.
CREATE TABLE idempotency_keys (
    actor TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT,
    response TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (actor, idempotency_key)
);

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
