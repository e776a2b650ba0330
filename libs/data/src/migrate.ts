import { runner } from 'node-pg-migrate';
import type { ClientBase } from 'pg';
import { throwIfAborted } from '@jamey/core';
import { raceAbort } from './abort.js';
import { hasSession, withSession } from './session.js';
import { type Database, type Logger, silentLogger } from './types.js';

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /**
   * Directory of migration files, applied in the order of their numeric prefix. The convention
   * is SQL files named `NNNN_name.sql`; node-pg-migrate runs the part after a
   * `-- Up Migration` line (or the whole file when there is no marker) and ignores the part
   * after `-- Down Migration`.
   */
  dir: string;
  /** The table that records which migrations ran, e.g. `jamey_events_migrations`. */
  table: string;
  signal?: AbortSignal;
  /** Receives node-pg-migrate's progress lines (default: none). */
  logger?: Logger;
}

/**
 * Applies every pending `up` migration in `options.dir` with node-pg-migrate, all in one
 * transaction, recording them in `options.table` in the first schema of the connection's
 * `search_path`. Concurrent callers (replicas starting together) wait on node-pg-migrate's
 * advisory lock instead of failing. Works on both drivers: PGlite gets a pg-Client-shaped
 * adapter and is held exclusively while migrating.
 *
 * `signal` is checked before starting and abandons the wait; a migration already running on
 * the server finishes or rolls back on its own.
 */
export async function migrate(db: Database, options: MigrateOptions): Promise<void> {
  const { dir, table, signal } = options;
  throwIfAborted(signal);
  if (!hasSession(db)) throw new TypeError('migrate() needs a Database created by openDatabase()');
  const logger = options.logger ?? silentLogger;
  const work = db[withSession](async (client) => {
    const { rows } = await client.query('SELECT unnest(current_schemas(false)) AS schema');
    const schemas = (rows as Array<{ schema: string }>).map((row) => row.schema);
    await runner({
      // node-pg-migrate only calls `query` on a client it did not create (it never connects or ends it).
      dbClient: client as unknown as ClientBase,
      dir,
      migrationsTable: table,
      schema: schemas.length > 0 ? schemas : ['public'],
      migrationsSchema: schemas[0] ?? 'public',
      direction: 'up',
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      logger: {
        debug: (message) => logger.debug?.({ table }, message),
        info: (message) => logger.info({ table }, message),
        warn: (message) => logger.warn({ table }, message),
        error: (message) => logger.error({ table }, message),
      },
    });
  }, signal);
  await raceAbort(work, signal);
}
