-- PostgreSQL translation of ../0017_salvaged_action.sql: the CHECK constraint changes in place.
ALTER TABLE actions DROP CONSTRAINT actions_action_kind;
ALTER TABLE actions ADD CONSTRAINT actions_action_kind
    CHECK (action IN ('ingested', 'quarantined', 'expired', 'filtered', 'applied', 'failed',
                      'parked', 'superseded', 'retried', 'skipped', 'rolled_back', 'resynced',
                      'conflict', 'duplicate', 'reconciled', 'salvaged'));
