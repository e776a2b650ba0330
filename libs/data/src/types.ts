/** The rows and count of one statement. */
export interface QueryResult<R> {
  rows: R[];
  /** Rows returned (SELECT) or affected (INSERT/UPDATE/DELETE). */
  rowCount: number;
}

/**
 * Something SQL can be sent to: a {@link Database} (any pooled connection) or the `tx` handed to
 * {@link Database.transaction} (that transaction's connection).
 *
 * Parameters use `$1, $2, …`. Without parameters the text may hold several statements; the
 * result is the last one's. Value conventions are node-postgres's for both drivers: `bigint`
 * (int8) columns come back as strings, `bytea` as `Buffer`, timestamps as `Date`, json/jsonb
 * parsed. Pass JSON parameters as strings (`JSON.stringify`) so both drivers agree.
 *
 * SQL errors (constraint violations and the like) are rethrown as the driver raised them and
 * always carry the five-character Postgres SQLSTATE in `code` (for example `23505`).
 */
export interface Queryable {
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    signal?: AbortSignal,
  ): Promise<QueryResult<R>>;
}

/** Connection-pool occupancy, for metrics and health. */
export interface PoolStats {
  /** Open connections (always 1 for PGlite). */
  total: number;
  /** Open connections not in use. */
  idle: number;
  /** Callers queued for a connection. */
  waiting: number;
}

/** The two drivers behind {@link Database}. */
export type DatabaseKind = 'postgres' | 'pglite';

/** A service's database: PostgreSQL through a `pg` pool, or an embedded PGlite. */
export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /**
   * Runs `fn` inside one transaction on one connection: COMMIT when it resolves, ROLLBACK when
   * it throws (the error is rethrown). Use only the `tx` it is given inside `fn`.
   *
   * With PGlite there is a single connection, so transactions and plain queries are serialized:
   * awaiting `db.query`/`db.transaction` from inside `fn` would wait for `fn` forever.
   *
   * `signal` aborts the wait for a connection and every `tx.query` that has no signal of its
   * own; an abort before COMMIT rolls back.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Resolves when the database answers `SELECT 1`; rejects with DEPENDENCY_UNAVAILABLE otherwise. */
  ping(signal?: AbortSignal): Promise<void>;
  /** Closes every connection after in-flight work; PGlite flushes its data directory. */
  close(): Promise<void>;
  poolStats(): PoolStats;
}

/**
 * The logger these libraries write to. Structurally compatible with pino (`logger.info(obj, msg)`).
 */
export interface Logger {
  debug?(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A logger that drops everything; the default when none is given. */
export const silentLogger: Logger = Object.freeze({
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});
