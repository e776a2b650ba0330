-- Up Migration
-- The audit log. `sequence` is the position in the log, 1, 2, 3, … without gaps, assigned under
-- a transaction-scoped advisory lock (see the Postgres adapter) instead of an identity column:
-- identity values are taken at INSERT time, so they leave gaps on rollback and can become
-- visible out of order, which would let a cursor reader skip a record.
CREATE TABLE audit_records (
  sequence bigint PRIMARY KEY CHECK (sequence >= 1),
  event_id uuid NOT NULL UNIQUE,
  type text NOT NULL,
  source text NOT NULL,
  subject text NOT NULL,
  event_time timestamptz NOT NULL,
  record_time timestamptz NOT NULL,
  traceparent text NOT NULL,
  data_schema text NOT NULL,
  -- Canonical protobuf JSON of the payload, as text so it is kept byte for byte; NULL when the
  -- schema was unknown to the build that stored it.
  data_json text,
  -- The envelope exactly as received, for later tamper-evidence work.
  envelope bytea NOT NULL,
  topic text NOT NULL
);
CREATE INDEX audit_records_type_idx ON audit_records (type, sequence);
CREATE INDEX audit_records_source_idx ON audit_records (source, sequence);
CREATE INDEX audit_records_subject_idx ON audit_records (subject, sequence);
CREATE INDEX audit_records_event_time_idx ON audit_records (event_time, sequence);

-- Down Migration
DROP TABLE audit_records;
