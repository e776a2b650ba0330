-- Up Migration
-- Retention: records older than the retention period move here (archiveRecords, oldest first,
-- always a prefix of the log), out of the table QueryRecords reads. Their Merkle leaves stay in
-- merkle_nodes, so every proof and signed tree head stays valid: proofs need only the hashes,
-- and VerifyLog re-hashes archived records from this table like live ones. The table can live
-- on cheaper storage (ALTER TABLE … SET TABLESPACE) or be exported; see apps/audit/README.md.
CREATE TABLE audit_records_archive (LIKE audit_records INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE audit_records_archive
  ADD PRIMARY KEY (sequence),
  ADD CONSTRAINT audit_records_archive_event_id_key UNIQUE (event_id),
  ADD COLUMN archived_at timestamptz NOT NULL DEFAULT now();

-- Down Migration
INSERT INTO audit_records
  SELECT sequence, event_id, type, source, subject, event_time, record_time, traceparent, data_schema,
         data_json, envelope, topic, actor, action, resource, outcome
  FROM audit_records_archive;
DROP TABLE audit_records_archive;
