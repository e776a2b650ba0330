-- Up Migration
-- The transactional outbox: a producer inserts its events here in the same transaction as the
-- state change; the relay publishes them in `seq` order and marks them published.
CREATE TABLE outbox (
  seq          bigserial   PRIMARY KEY,
  event_id     uuid        NOT NULL UNIQUE,
  topic        text        NOT NULL,
  key          text        NOT NULL,
  envelope     bytea       NOT NULL,
  headers      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL,
  published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Consumers record each event id they processed, per group, in the same transaction as the
-- effect, so redelivered events are skipped. Ids are text: a malformed id must not break it.
CREATE TABLE processed_events (
  group_id     text        NOT NULL,
  event_id     text        NOT NULL,
  processed_at timestamptz NOT NULL,
  PRIMARY KEY (group_id, event_id)
);

-- Down Migration
DROP TABLE processed_events;
DROP TABLE outbox;
