-- The keyed chain: from the first action written with an audit chain key (kept outside
-- this file) on, an action's hash is HMAC-SHA-256(key, previous hash ‖ canonical row)
-- instead of SHA-256. One row per point where a key started keying the chain; an
-- existing database is re-anchored when it is first opened with a key, and its earlier
-- actions keep their SHA-256 hashes. The encoding of the mac is documented in
-- Sources/AuditLog/ActionChain.swift.
CREATE TABLE chain_anchors (
    first_action_id INTEGER PRIMARY KEY CHECK (first_action_id >= 1),  -- the first action hashed with the key
    key_id TEXT NOT NULL CHECK (length(key_id) = 16),                  -- the key's public fingerprint
    previous_hash TEXT CHECK (previous_hash IS NULL OR length(previous_hash) = 64),  -- what that action chains to
    anchored_at INTEGER NOT NULL,
    mac TEXT NOT NULL CHECK (length(mac) = 64)                         -- only the key's holder can write an anchor
) STRICT;

CREATE TRIGGER chain_anchors_no_update BEFORE UPDATE ON chain_anchors
BEGIN
    SELECT RAISE(ABORT, 'chain anchors are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER chain_anchors_no_delete BEFORE DELETE ON chain_anchors
BEGIN
    SELECT RAISE(ABORT, 'chain anchors are append-only: DELETE is not allowed');
END;
