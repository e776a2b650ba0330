import type { Clock, RandomSource } from '@jamey/core';
import { migrate, observeDatabase, openDatabase, type Database, type Logger, type MigrateOptions } from '@jamey/data';
import { eventsMigrationsDir, eventsMigrationsTable } from '@jamey/events';
import { createCircuitBreaker, type CircuitBreaker } from '@jamey/resilience';
import { createDatabaseMetrics, type Registry } from '@jamey/telemetry';
import { guardDatabase } from './guarded-database.js';

/** Options for {@link openGuardedDatabase}. */
export interface OpenGuardedDatabaseOptions {
  /** `postgres://…` or `pglite://<dir>`. */
  readonly url: string;
  readonly poolSize: number;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Where the database metrics (`db_client_*`) are registered. */
  readonly metrics: Registry;
  /** Migrations after the events library's (outbox, processed_events). */
  readonly migrations?: readonly MigrateOptions[];
}

/** An opened, migrated database behind its breaker. */
export interface GuardedDatabase {
  readonly db: Database;
  /** The `postgres` breaker, for readiness, degradation and resilience metrics. */
  readonly breaker: CircuitBreaker;
}

/**
 * Opens a process's database (services and the gateway alike): runs the event library's
 * migrations, then `migrations`, times every call in `metrics`, and puts a `postgres` circuit
 * breaker in front, so an outage fails calls fast instead of each waiting for a connection
 * timeout. Closes the database again when a migration fails.
 */
export async function openGuardedDatabase(options: OpenGuardedDatabaseOptions): Promise<GuardedDatabase> {
  const { clock, logger } = options;
  const rawDb = await openDatabase({ url: options.url, poolSize: options.poolSize, logger });
  try {
    await migrate(rawDb, { dir: eventsMigrationsDir, table: eventsMigrationsTable });
    for (const migration of options.migrations ?? []) await migrate(rawDb, migration);
  } catch (error) {
    await rawDb.close();
    throw error;
  }
  const breaker = createCircuitBreaker({
    name: 'postgres',
    clock,
    random: options.random,
    strategy: { kind: 'sampling', failureRateThreshold: 0.5, minimumThroughput: 5, window: { kind: 'time', durationMs: 10_000 } },
    breakDuration: 2_000,
  });
  // Timed inside the breaker: a call the open breaker refuses never reached the database.
  const observer = createDatabaseMetrics(options.metrics, { poolStats: () => rawDb.poolStats() });
  return { db: guardDatabase(observeDatabase(rawDb, { observer, clock, logger }), breaker), breaker };
}
