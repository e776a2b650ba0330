import pg from 'pg';
import type { PoolClient, QueryResult as PgResult } from 'pg';
import { eitherSignal, raceAbort } from './abort.js';
import { isConnectionFailure, translateDriverError } from './errors.js';
import { type SessionCapable, type SessionClient, withSession } from './session.js';
import type { Database, Logger, QueryResult, Queryable } from './types.js';

/** Options for {@link openPostgres}. */
export interface PostgresOptions {
  url: string;
  /** Maximum pool connections (default 10). */
  poolSize: number;
  /** How long to wait for a new connection, in milliseconds (default 5000). */
  connectTimeoutMs: number;
  logger: Logger;
}

function normalize<R>(result: PgResult | PgResult[]): QueryResult<R> {
  // Several statements without parameters give one result each; the last one is the answer.
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  const rows = (last?.rows ?? []) as R[];
  return { rows, rowCount: last?.rowCount ?? rows.length };
}

/** Opens a `pg` pool and checks that the server answers. */
export async function openPostgres(options: PostgresOptions): Promise<Database & SessionCapable> {
  const { logger } = options;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 10_000,
  });
  // An idle client losing its connection emits on the pool; unhandled, it would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle postgres connection failed'));

  // pg-pool listens for errors only on idle clients. A connection that drops while its client is
  // checked out emits 'error' with nobody listening, which would crash the process; the
  // statement in flight fails with the same error anyway, so a listener that logs is enough.
  const guarded = new WeakSet<PoolClient>();
  const onCheckedOutError = (error: Error): void => logger.warn({ err: error }, 'postgres connection in use failed');

  const acquire = async (signal?: AbortSignal): Promise<PoolClient> => {
    signal?.throwIfAborted();
    const pending = pool.connect();
    try {
      // If the caller gives up first, hand the connection straight back when it arrives.
      const client = await raceAbort(pending, signal, () => void pending.then((c) => c.release(), () => undefined));
      if (!guarded.has(client)) {
        guarded.add(client);
        client.on('error', onCheckedOutError);
      }
      return client;
    } catch (error) {
      throw translateDriverError(error);
    }
  };

  const cancel = (client: PoolClient): void => {
    const pid = (client as unknown as { processID?: number | null }).processID;
    if (typeof pid !== 'number') return;
    // Best effort: the statement keeps its connection busy until the server stops it.
    pool.query('SELECT pg_cancel_backend($1)', [pid]).catch((error: unknown) => {
      logger.debug?.({ err: error }, 'could not cancel an aborted postgres statement');
    });
  };

  const send = (client: PoolClient, sql: string, params: readonly unknown[] | undefined): Promise<PgResult | PgResult[]> =>
    client.query(sql, params === undefined || params.length === 0 ? undefined : [...params]) as Promise<PgResult | PgResult[]>;

  const settle = async <R>(client: PoolClient, pending: Promise<PgResult | PgResult[]>, signal?: AbortSignal): Promise<QueryResult<R>> => {
    try {
      return normalize<R>(await raceAbort(pending, signal, () => cancel(client)));
    } catch (error) {
      throw translateDriverError(error);
    }
  };

  const run = <R>(client: PoolClient, sql: string, params: readonly unknown[] | undefined, signal?: AbortSignal): Promise<QueryResult<R>> => {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return settle<R>(client, send(client, sql, params), signal);
  };

  const query = async <R>(sql: string, params?: readonly unknown[], signal?: AbortSignal): Promise<QueryResult<R>> => {
    const client = await acquire(signal);
    const pending = send(client, sql, params);
    // Release only when the statement is really over, even if the caller stopped waiting.
    pending.then(
      () => client.release(),
      (error: unknown) => client.release(isConnectionFailure(error) ? (error as Error) : undefined),
    );
    return settle<R>(client, pending, signal);
  };

  const database: Database & SessionCapable = {
    kind: 'postgres',
    query,
    async transaction(fn, signal) {
      const client = await acquire(signal);
      let broken: Error | undefined;
      try {
        await run(client, 'BEGIN', undefined, signal);
        const tx: Queryable = { query: (sql, params, own) => run(client, sql, params, eitherSignal(own, signal)) };
        const result = await fn(tx);
        signal?.throwIfAborted();
        // No signal on COMMIT: abandoning it would leave the outcome unknown to the caller.
        await run(client, 'COMMIT', undefined);
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw translateDriverError(error);
      } finally {
        client.release(broken);
      }
    },
    async ping(signal) {
      await query('SELECT 1', undefined, signal);
    },
    async close() {
      await pool.end();
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async [withSession](fn, signal) {
      const client = await acquire(signal);
      let broken: Error | undefined;
      try {
        return await fn(client as unknown as SessionClient);
      } catch (error) {
        if (isConnectionFailure(error)) broken = error as Error;
        throw translateDriverError(error);
      } finally {
        client.release(broken);
      }
    },
  };

  try {
    await database.ping();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return database;
}
