-- PostgreSQL translation of ../0018_quarantine_actions.sql: the CHECK constraint changes in place.
ALTER TABLE actions DROP CONSTRAINT actions_action_kind;
ALTER TABLE actions ADD CONSTRAINT actions_action_kind
    CHECK (action IN ('ingested', 'quarantined', 'expired', 'filtered', 'applied', 'failed',
                      'parked', 'superseded', 'retried', 'skipped', 'rolled_back', 'resynced',
                      'conflict', 'duplicate', 'reconciled', 'salvaged', 'deleted', 'reingested'));

-- The console's search: the messages of one correlation id.
CREATE INDEX messages_correlation ON messages (correlation_id) WHERE correlation_id IS NOT NULL;
