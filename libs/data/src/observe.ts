import type { Clock } from '@jamey/core';
import type { Database } from './types.js';

/** One finished call on a {@link Database}. */
export interface DatabaseObservation {
  /** `query` for a statement on the pool, `transaction` for a whole transaction (its statements are not reported one by one). */
  readonly operation: 'query' | 'transaction';
  /** From the call (waiting for a connection included) to its result or error, in ms. */
  readonly durationMs: number;
  /** False when it rejected. */
  readonly ok: boolean;
}

/** Receives {@link DatabaseObservation}s. Must not throw; an error is logged and ignored. */
export type DatabaseObserver = (observation: DatabaseObservation) => void;

/** Options for {@link observeDatabase}. */
export interface ObserveDatabaseOptions {
  readonly observer: DatabaseObserver;
  readonly clock: Clock;
  /** Where an observer's own failure is logged. */
  readonly logger?: { error(fields: object, message: string): void };
}

/**
 * Wraps `db` so that every `query` and `transaction` is reported to the observer when it
 * settles: the hook the service kit turns into `jamey_db_query_duration_seconds`. Pool
 * occupancy needs no hook: read `poolStats()` when metrics are scraped. `ping` is not
 * reported, so health checks do not skew the latencies.
 */
export function observeDatabase(db: Database, options: ObserveDatabaseOptions): Database {
  const { observer, clock, logger } = options;
  const timed = async <T>(operation: DatabaseObservation['operation'], work: () => Promise<T>): Promise<T> => {
    const started = clock.now();
    let ok = false;
    try {
      const result = await work();
      ok = true;
      return result;
    } finally {
      try {
        observer({ operation, durationMs: clock.now() - started, ok });
      } catch (error) {
        logger?.error({ err: error }, 'database observer failed');
      }
    }
  };
  return {
    get kind() {
      return db.kind;
    },
    query: (sql, params, signal) => timed('query', () => db.query(sql, params, signal)),
    transaction: (fn, signal) => timed('transaction', () => db.transaction(fn, signal)),
    ping: (signal) => db.ping(signal),
    close: () => db.close(),
    poolStats: () => db.poolStats(),
  };
}
