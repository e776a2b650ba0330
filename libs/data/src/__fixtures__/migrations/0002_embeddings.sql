-- Up Migration
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE embeddings (
  id text PRIMARY KEY REFERENCES widgets (id),
  embedding vector(3) NOT NULL
);
