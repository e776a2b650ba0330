-- Up Migration
-- The event store: one row per domain event, versioned per stream. The primary key is the
-- optimistic-concurrency guard: two writers appending the same version collide on it.
CREATE TABLE consciousness_events (
  stream_id text NOT NULL,
  version bigint NOT NULL CHECK (version > 0),
  type text NOT NULL,
  data jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (stream_id, version)
);
-- rebuildAt(time) finds the last version at or before a time.
CREATE INDEX consciousness_events_time_idx ON consciousness_events (stream_id, occurred_at);

-- A snapshot of a stream's folded state, taken every 100 events.
CREATE TABLE consciousness_snapshots (
  stream_id text NOT NULL,
  version bigint NOT NULL,
  state jsonb NOT NULL,
  PRIMARY KEY (stream_id, version)
);

-- The read model (CQRS query side), updated in the transaction that appends the events.
CREATE TABLE workspace_state (
  stream_id text PRIMARY KEY,
  focus jsonb,
  recent jsonb NOT NULL DEFAULT '[]',
  version bigint NOT NULL,
  perception_count bigint NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Down Migration
DROP TABLE workspace_state;
DROP TABLE consciousness_snapshots;
DROP TABLE consciousness_events;
