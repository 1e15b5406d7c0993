-- PostgreSQL translation of ../0004_keyed_chain.sql: where a key started keying the chain.
CREATE TABLE chain_anchors (
    first_action_id BIGINT PRIMARY KEY CHECK (first_action_id >= 1),
    key_id TEXT NOT NULL CHECK (length(key_id) = 16),
    previous_hash TEXT CHECK (previous_hash IS NULL OR length(previous_hash) = 64),
    anchored_at BIGINT NOT NULL,
    mac TEXT NOT NULL CHECK (length(mac) = 64)
);

CREATE TRIGGER chain_anchors_no_update BEFORE UPDATE ON chain_anchors
    FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change('chain anchors');
CREATE TRIGGER chain_anchors_no_delete BEFORE DELETE ON chain_anchors
    FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change('chain anchors');
CREATE TRIGGER chain_anchors_no_truncate BEFORE TRUNCATE ON chain_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change('chain anchors');
