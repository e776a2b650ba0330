-- Up Migration
CREATE TABLE health_checks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  service text NOT NULL,
  target text NOT NULL,
  status text NOT NULL CHECK (status IN ('SERVING', 'NOT_SERVING', 'UNKNOWN', 'SERVICE_UNKNOWN', 'UNREACHABLE')),
  detail text NOT NULL DEFAULT '',
  latency_ms double precision NOT NULL CHECK (latency_ms >= 0),
  checked_at timestamptz NOT NULL
);
-- The latest check per service.
CREATE INDEX health_checks_service_checked_at_idx ON health_checks (service, checked_at DESC);
-- Pruning by age.
CREATE INDEX health_checks_checked_at_idx ON health_checks (checked_at);

-- Down Migration
DROP TABLE health_checks;
