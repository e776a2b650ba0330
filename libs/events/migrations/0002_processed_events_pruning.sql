-- Up Migration
-- Consumers prune their processed_events rows older than the dedup retention (consumer.ts);
-- this index keeps that DELETE from scanning the whole table.
CREATE INDEX processed_events_group_time ON processed_events (group_id, processed_at);

-- Down Migration
DROP INDEX processed_events_group_time;
