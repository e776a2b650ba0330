-- Up Migration
CREATE TABLE widgets (
  id text PRIMARY KEY,
  size bigint NOT NULL DEFAULT 0,
  blob bytea,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX widgets_created_at ON widgets (created_at);

-- Down Migration
DROP TABLE widgets;
