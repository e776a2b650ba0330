-- Up Migration
-- The audit log's Merkle tree (RFC 9162), stored as its perfect subtrees: node (level, index) is
-- the hash of the 2^level leaves starting at leaf index * 2^level; level 0 holds the leaf hashes
-- H(0x00 || entry) of the records (leaf i is the record with sequence i + 1). A node never
-- changes once written: each append writes its leaf and the parents it completes, in the same
-- transaction and under the same advisory lock as the record.
CREATE TABLE merkle_nodes (
  level smallint NOT NULL CHECK (level >= 0 AND level < 63),
  index bigint NOT NULL CHECK (index >= 0),
  hash bytea NOT NULL CHECK (octet_length(hash) = 32),
  PRIMARY KEY (level, index)
);

-- Down Migration
DROP TABLE merkle_nodes;
