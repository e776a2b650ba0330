-- Up Migration
-- Access records (payload `jamey.audit.v1.AccessRecord`: gateway requests, refused service
-- calls) get who / what / which / how as indexed columns, so QueryRecords can filter on them.
-- They are derived from `data_json`, which the Merkle leaf covers; they are not part of the leaf
-- encoding (it stays version 1), and VerifyLog re-derives them to detect a changed column.
-- Records stored before this migration, and every record that is not an access record, keep NULL.
ALTER TABLE audit_records
  ADD COLUMN actor text,
  ADD COLUMN action text,
  ADD COLUMN resource text,
  ADD COLUMN outcome text
    CONSTRAINT audit_records_outcome_check
    CHECK (outcome IN ('allowed', 'unauthenticated', 'denied', 'throttled', 'failed', 'error'));
-- (column, sequence): a filter plus the cursor (sequence > $after ORDER BY sequence) is one
-- index range scan. Partial, since most records are domain events with NULL here.
CREATE INDEX audit_records_actor_idx ON audit_records (actor, sequence) WHERE actor IS NOT NULL;
CREATE INDEX audit_records_action_idx ON audit_records (action, sequence) WHERE action IS NOT NULL;
CREATE INDEX audit_records_resource_idx ON audit_records (resource, sequence) WHERE resource IS NOT NULL;
CREATE INDEX audit_records_outcome_idx ON audit_records (outcome, sequence) WHERE outcome IS NOT NULL;

-- Down Migration
DROP INDEX audit_records_outcome_idx;
DROP INDEX audit_records_resource_idx;
DROP INDEX audit_records_action_idx;
DROP INDEX audit_records_actor_idx;
ALTER TABLE audit_records DROP COLUMN outcome, DROP COLUMN resource, DROP COLUMN action, DROP COLUMN actor;
