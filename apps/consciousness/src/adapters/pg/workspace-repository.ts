import type { Queryable } from '@jamey/data';
import { shouldSnapshot, type WorkspaceRepository } from '../../domain/ports.js';
import {
  eventFromStored,
  eventToStored,
  perceptionFromJson,
  perceptionToJson,
  stateFromJson,
  stateToJson,
} from '../../domain/serialization.js';
import { EMPTY_WORKSPACE, replay, type WorkspaceState } from '../../domain/workspace.js';
import { createPgEventStore, type StoredEvent } from './event-store.js';

interface ProjectionRow {
  focus: unknown;
  recent: unknown;
  version: string | number;
  perception_count: string | number;
  updated_at: Date | string;
}

function decode(events: readonly StoredEvent[]) {
  return events.map((stored) => ({ event: eventFromStored(stored.type, stored.data), occurredAt: stored.occurredAt }));
}

/**
 * The workspace's event store (events + snapshots every 100 events) and its read model
 * `workspace_state`, on Postgres or PGlite.
 */
export function createPgWorkspaceRepository(db: Queryable): WorkspaceRepository {
  const store = createPgEventStore();

  async function fold(from: Queryable, streamId: string, until: Date | undefined, signal?: AbortSignal) {
    const snapshot = await store.latestSnapshot(from, streamId, until, signal);
    const base = snapshot ? stateFromJson(snapshot.state) : EMPTY_WORKSPACE;
    const events = await store.readAfter(from, streamId, base.version, until, signal);
    return replay(decode(events), base);
  }

  return {
    load(from, streamId, signal) {
      return fold(from, streamId, undefined, signal);
    },

    rebuildAt(streamId, time, signal) {
      return fold(db, streamId, time, signal);
    },

    async append(tx, { streamId, expectedVersion, events, state }, signal) {
      const toVersion = expectedVersion + events.length;
      if (state.version !== toVersion) {
        throw new Error(`state version ${state.version} does not follow ${expectedVersion} + ${events.length} events`);
      }
      await store.append(
        tx,
        streamId,
        expectedVersion,
        events.map(({ event, occurredAt }) => ({ ...eventToStored(event), occurredAt })),
        signal,
      );
      if (shouldSnapshot(expectedVersion, toVersion)) await store.saveSnapshot(tx, streamId, toVersion, stateToJson(state), signal);
      // The projection follows the stream in the same transaction, so a reader never sees a
      // version the event store has not committed, nor an older one after it committed.
      await tx.query(
        `INSERT INTO workspace_state (stream_id, focus, recent, version, perception_count, updated_at)
         VALUES ($1, $2::jsonb, $3::jsonb, $4, $5, $6)
         ON CONFLICT (stream_id) DO UPDATE SET
           focus = EXCLUDED.focus, recent = EXCLUDED.recent, version = EXCLUDED.version,
           perception_count = EXCLUDED.perception_count, updated_at = EXCLUDED.updated_at`,
        [
          streamId,
          state.focus ? JSON.stringify(perceptionToJson(state.focus)) : null,
          JSON.stringify(state.recent.map(perceptionToJson)),
          state.version,
          state.perceptionCount,
          (state.updatedAt ?? new Date(0)).toISOString(),
        ],
        signal,
      );
    },

    async recentPerceptions(streamId, limit, signal) {
      // One statement, so the version and the perceptions come from the same snapshot.
      const { rows } = await db.query<{ version: string | number; data: unknown; head: string | number | null }>(
        `SELECT e.version, e.data,
                (SELECT max(version) FROM consciousness_events WHERE stream_id = $1) AS head
         FROM consciousness_events e
         WHERE e.stream_id = $1 AND e.type = 'PerceptionReceived'
         ORDER BY e.version DESC
         LIMIT $2`,
        [streamId, limit],
        signal,
      );
      const perceptions = rows.map((row) => perceptionFromJson((row.data as { perception?: unknown } | null)?.perception)).reverse();
      return { perceptions, version: rows[0]?.head === null || rows[0]?.head === undefined ? 0 : Number(rows[0].head) };
    },

    async readProjection(streamId, signal) {
      const { rows } = await db.query<ProjectionRow>(
        'SELECT focus, recent, version, perception_count, updated_at FROM workspace_state WHERE stream_id = $1',
        [streamId],
        signal,
      );
      const row = rows[0];
      if (!row) return EMPTY_WORKSPACE;
      const recent = Array.isArray(row.recent) ? row.recent.map(perceptionFromJson) : [];
      return {
        focus: row.focus === null || row.focus === undefined ? undefined : perceptionFromJson(row.focus),
        recent,
        version: Number(row.version),
        perceptionCount: Number(row.perception_count),
        updatedAt: new Date(row.updated_at),
      } satisfies WorkspaceState;
    },
  };
}
