-- Up Migration

-- One row per alert fingerprint (rule + labels): the deduplication key. A condition that holds
-- again after resolving reuses the row with a new episode id.
CREATE TABLE alerts (
  fingerprint text PRIMARY KEY,
  id uuid NOT NULL,
  rule text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  state text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
  labels jsonb NOT NULL,
  value double precision NOT NULL,
  summary text NOT NULL,
  description text NOT NULL,
  active_at timestamptz NOT NULL,
  fired_at timestamptz,
  resolved_at timestamptz,
  -- Optimistic concurrency: a change applies only to the row it was computed from.
  updated_at timestamptz NOT NULL,
  CHECK ((state = 'pending') = (fired_at IS NULL)),
  CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE INDEX alerts_state_updated_at_idx ON alerts (state, updated_at DESC);

-- Webhook deliveries, written in the transaction that fired or resolved the alert, so none is
-- lost on a crash. Delivered rows are deleted; given-up rows stay until pruned.
CREATE TABLE alert_notifications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  fingerprint text NOT NULL,
  transition text NOT NULL CHECK (transition IN ('fired', 'resolved')),
  payload jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  last_error text NOT NULL DEFAULT '',
  gave_up_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX alert_notifications_due_idx ON alert_notifications (next_attempt_at) WHERE gave_up_at IS NULL;

-- The charted series, one value per service, metric and interval.
CREATE TABLE metric_history (
  service text NOT NULL,
  metric text NOT NULL CHECK (metric IN ('request_rate', 'error_rate', 'p99_latency', 'phi')),
  bucket_start timestamptz NOT NULL,
  value double precision NOT NULL,
  PRIMARY KEY (service, metric, bucket_start)
);
CREATE INDEX metric_history_bucket_start_idx ON metric_history (bucket_start);

-- Which telemetry replica evaluates alerts and writes history (one at a time).
CREATE TABLE telemetry_leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Down Migration
DROP TABLE telemetry_leases;
DROP TABLE metric_history;
DROP TABLE alert_notifications;
DROP TABLE alerts;
