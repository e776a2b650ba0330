-- Up Migration
-- Signed tree heads of the audit log: C2SP checkpoints (signed notes) over the Merkle tree in
-- merkle_nodes, signed with the log's Ed25519 key at an interval when the tree has grown.
CREATE TABLE tree_heads (
  size bigint PRIMARY KEY CHECK (size >= 0),
  root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
  -- The whole signed note, exactly as signed and served.
  note text NOT NULL,
  signed_at timestamptz NOT NULL
);

-- Down Migration
DROP TABLE tree_heads;
