import { mkdir } from 'node:fs/promises';
import { PGlite, type Results } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { dependencyUnavailable } from '@jamey/core';
import { eitherSignal, raceAbort } from './abort.js';
import { translateDriverError } from './errors.js';
import { createMutex } from './mutex.js';
import { type SessionCapable, type SessionClient, withSession } from './session.js';
import type { Database, QueryResult, Queryable } from './types.js';

const INT8_OID = 20;
const BYTEA_OID = 17;

// Match node-postgres's defaults so callers see the same values from both drivers:
// int8 stays a string (no silent precision loss), bytea is a Buffer.
const parsers = {
  [INT8_OID]: (value: string) => value,
  [BYTEA_OID]: (value: string) => Buffer.from(value.slice(2), 'hex'),
};

type Executor = Pick<PGlite, 'query' | 'exec'>;

function normalize<R>(result: Results | undefined): QueryResult<R> {
  const rows = (result?.rows ?? []) as R[];
  return { rows, rowCount: result?.rowCount ?? result?.affectedRows ?? rows.length };
}

async function execute<R>(pg: Executor, sql: string, params: readonly unknown[] | undefined): Promise<QueryResult<R>> {
  try {
    if (params !== undefined && params.length > 0) return normalize<R>(await pg.query(sql, [...params]));
    // The simple protocol (exec) accepts several statements, like node-postgres without parameters.
    const results = await pg.exec(sql);
    return normalize<R>(results[results.length - 1]);
  } catch (error) {
    throw translateDriverError(error);
  }
}

/**
 * Opens PGlite with pgvector loaded. `dataDir` undefined keeps everything in memory; otherwise
 * the directory is created if missing and holds the database across restarts.
 */
export async function openPglite(dataDir: string | undefined): Promise<Database & SessionCapable> {
  let pg: PGlite;
  try {
    if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
    pg = await PGlite.create({ dataDir, extensions: { vector }, parsers });
  } catch (error) {
    throw dependencyUnavailable('postgres', error);
  }

  // PGlite is one connection. Without this lock a plain query issued while a transaction is
  // open would run inside that transaction, and two transactions would interleave.
  const mutex = createMutex();

  const exclusive = async <T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> => {
    const release = await mutex.lock(signal);
    const pending = work();
    // The lock is held until the work is really over, even if the caller stops waiting.
    pending.then(release, release);
    return raceAbort(pending, signal);
  };

  const run = <R>(sql: string, params: readonly unknown[] | undefined, signal: AbortSignal | undefined): Promise<QueryResult<R>> => {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return raceAbort(execute<R>(pg, sql, params), signal);
  };

  const session: SessionClient = {
    query: (text, values) => execute(pg, text, values),
  };

  return {
    kind: 'pglite',
    query: (sql, params, signal) => exclusive(signal, () => execute(pg, sql, params)),
    async transaction(fn, signal) {
      const release = await mutex.lock(signal);
      try {
        await run('BEGIN', undefined, signal);
        const tx: Queryable = { query: (sql, params, own) => run(sql, params, eitherSignal(own, signal)) };
        const result = await fn(tx);
        signal?.throwIfAborted();
        await execute(pg, 'COMMIT', undefined);
        return result;
      } catch (error) {
        // PGlite queues statements internally, so this runs after anything still in flight.
        await execute(pg, 'ROLLBACK', undefined).catch(() => undefined);
        throw error;
      } finally {
        release();
      }
    },
    async ping(signal) {
      await exclusive(signal, () => execute(pg, 'SELECT 1', undefined));
    },
    async close() {
      const release = await mutex.lock();
      try {
        if (!pg.closed) await pg.close();
      } finally {
        release();
      }
    },
    poolStats: () => ({ total: 1, idle: mutex.locked ? 0 : 1, waiting: mutex.waiting }),
    [withSession]: (fn, signal) => exclusive(signal, () => fn(session)),
  };
}
