-- Up Migration
CREATE TABLE memories (
  id uuid PRIMARY KEY,
  content text NOT NULL,
  layer text NOT NULL CHECK (layer IN ('sensory', 'working', 'episodic', 'semantic', 'procedural')),
  tags text[] NOT NULL DEFAULT '{}',
  importance double precision NOT NULL CHECK (importance >= 0 AND importance <= 1),
  created_at timestamptz NOT NULL,
  search tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED
);
CREATE INDEX memories_search_idx ON memories USING gin (search);
CREATE INDEX memories_layer_idx ON memories (layer);

-- Down Migration
DROP TABLE memories;
