-- Up Migration
CREATE TABLE entities (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._:-]{1,128}$'),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  trust double precision NOT NULL CHECK (trust >= 0 AND trust <= 1),
  interaction_count bigint NOT NULL DEFAULT 0 CHECK (interaction_count >= 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE interactions (
  id uuid PRIMARY KEY,
  entity_id text NOT NULL REFERENCES entities (id),
  valence double precision NOT NULL CHECK (valence >= -1 AND valence <= 1),
  note text NOT NULL CHECK (char_length(note) <= 1000),
  trust_before double precision NOT NULL CHECK (trust_before >= 0 AND trust_before <= 1),
  trust_after double precision NOT NULL CHECK (trust_after >= 0 AND trust_after <= 1),
  created_at timestamptz NOT NULL
);
-- An entity's history, newest first (UUIDv7 ids sort by creation time).
CREATE INDEX interactions_entity_idx ON interactions (entity_id, id DESC);

-- Down Migration
DROP TABLE interactions;
DROP TABLE entities;
