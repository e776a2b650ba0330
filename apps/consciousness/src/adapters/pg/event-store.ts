import type { Queryable } from '@jamey/data';
import { ConcurrencyConflictError } from '../../domain/ports.js';

/** An event about to be appended. */
export interface NewStoredEvent {
  readonly type: string;
  /** Serialized with JSON.stringify into `data jsonb`. */
  readonly data: unknown;
  readonly occurredAt: Date;
}

/** An event read back from `consciousness_events`. */
export interface StoredEvent {
  readonly streamId: string;
  readonly version: number;
  readonly type: string;
  readonly data: unknown;
  readonly occurredAt: Date;
}

/** A snapshot read back from `consciousness_snapshots`. */
export interface StoredSnapshot {
  readonly version: number;
  readonly state: unknown;
}

interface EventRow {
  stream_id: string;
  version: string | number;
  type: string;
  data: unknown;
  occurred_at: Date | string;
}

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/**
 * The append-only event store over `consciousness_events` and `consciousness_snapshots`
 * (Postgres and PGlite). Streams are versioned 1, 2, 3, … without gaps.
 */
export function createPgEventStore() {
  return {
    /**
     * Appends `events` as versions `expectedVersion + 1 …`. Fails with
     * {@link ConcurrencyConflictError} when the stream is not at `expectedVersion`: either the
     * guard sees a different head, or a concurrent writer inserted the same (stream, version)
     * and the primary key rejects ours (unique violation).
     */
    async append(
      tx: Queryable,
      streamId: string,
      expectedVersion: number,
      events: readonly NewStoredEvent[],
      signal?: AbortSignal,
    ): Promise<void> {
      if (events.length === 0) return;
      const params: unknown[] = [streamId, expectedVersion];
      const rows = events.map((event, index) => {
        params.push(expectedVersion + index + 1, event.type, JSON.stringify(event.data), event.occurredAt.toISOString());
        const at = params.length - 3;
        return `($${at}::bigint, $${at + 1}::text, $${at + 2}::jsonb, $${at + 3}::timestamptz)`;
      });
      let inserted: number;
      try {
        const result = await tx.query(
          `INSERT INTO consciousness_events (stream_id, version, type, data, occurred_at)
           SELECT $1::text, v.version, v.type, v.data, v.occurred_at
           FROM (VALUES ${rows.join(', ')}) AS v(version, type, data, occurred_at)
           WHERE (SELECT coalesce(max(version), 0) FROM consciousness_events WHERE stream_id = $1::text) = $2::bigint`,
          params,
          signal,
        );
        inserted = result.rowCount;
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConcurrencyConflictError(streamId, expectedVersion, { cause: error });
        throw error;
      }
      if (inserted !== events.length) throw new ConcurrencyConflictError(streamId, expectedVersion);
    },

    /** Events after `afterVersion`, oldest first; with `until`, only those with `occurred_at <= until`. */
    async readAfter(
      db: Queryable,
      streamId: string,
      afterVersion: number,
      until: Date | undefined,
      signal?: AbortSignal,
    ): Promise<StoredEvent[]> {
      const { rows } = await db.query<EventRow>(
        `SELECT stream_id, version, type, data, occurred_at FROM consciousness_events
         WHERE stream_id = $1 AND version > $2 AND ($3::timestamptz IS NULL OR occurred_at <= $3::timestamptz)
         ORDER BY version`,
        [streamId, afterVersion, until?.toISOString() ?? null],
        signal,
      );
      return rows.map((row) => ({
        streamId: row.stream_id,
        version: Number(row.version),
        type: row.type,
        data: row.data,
        occurredAt: new Date(row.occurred_at),
      }));
    },

    /**
     * The latest snapshot; with `until`, the latest one whose last event occurred at or before
     * `until` (stream times never decrease, so every event it covers did too).
     */
    async latestSnapshot(
      db: Queryable,
      streamId: string,
      until: Date | undefined,
      signal?: AbortSignal,
    ): Promise<StoredSnapshot | undefined> {
      const { rows } = await db.query<{ version: string | number; state: unknown }>(
        `SELECT s.version, s.state FROM consciousness_snapshots s
         WHERE s.stream_id = $1
           AND ($2::timestamptz IS NULL OR EXISTS (
             SELECT 1 FROM consciousness_events e
             WHERE e.stream_id = s.stream_id AND e.version = s.version AND e.occurred_at <= $2::timestamptz))
         ORDER BY s.version DESC
         LIMIT 1`,
        [streamId, until?.toISOString() ?? null],
        signal,
      );
      const row = rows[0];
      return row ? { version: Number(row.version), state: row.state } : undefined;
    },

    /** Saves a snapshot of the state at `version`; saving the same version twice keeps the first. */
    async saveSnapshot(tx: Queryable, streamId: string, version: number, state: unknown, signal?: AbortSignal): Promise<void> {
      await tx.query(
        `INSERT INTO consciousness_snapshots (stream_id, version, state) VALUES ($1, $2, $3::jsonb)
         ON CONFLICT (stream_id, version) DO NOTHING`,
        [streamId, version, JSON.stringify(state)],
        signal,
      );
    },
  };
}

/** The event store. */
export type PgEventStore = ReturnType<typeof createPgEventStore>;
