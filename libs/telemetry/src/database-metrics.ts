import { Gauge, Histogram, type Registry } from 'prom-client';

/** Connection-pool occupancy, as `@jamey/data`'s `Database.poolStats()` reports it. */
export interface PoolOccupancy {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** One finished statement or transaction, as `@jamey/data`'s `observeDatabase` reports it. */
export interface DatabaseCallRecord {
  readonly operation: 'query' | 'transaction';
  readonly durationMs: number;
}

/** Options for {@link createDatabaseMetrics}. */
export interface DatabaseMetricsOptions {
  /** Read at every scrape. */
  readonly poolStats: () => PoolOccupancy;
}

/**
 * Registers the database metrics on `registry` (once per registry) and returns the observer
 * that records durations:
 * - `jamey_db_pool_connections{state}`: `total`, `idle` and `waiting`, read at scrape time
 *   (PGlite is one connection: total 1);
 * - `jamey_db_query_duration_seconds{operation}`: `query` or `transaction`, from the moment the
 *   caller asked (pool wait included) until the result or error.
 */
export function createDatabaseMetrics(registry: Registry, options: DatabaseMetricsOptions): (call: DatabaseCallRecord) => void {
  new Gauge({
    name: 'jamey_db_pool_connections',
    help: 'Database pool connections by state: total (open), idle, waiting (callers queued for one).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const stats = options.poolStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
  const duration = new Histogram({
    name: 'jamey_db_query_duration_seconds',
    help: 'Duration of database statements and transactions, pool wait included.',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return ({ operation, durationMs }) => duration.observe({ operation }, durationMs / 1000);
}
