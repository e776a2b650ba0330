import type { Database } from './types.js';

/**
 * A connection held for a whole unit of work, shaped like the subset of `pg.Client` that
 * node-pg-migrate drives: `query(text, values?)` resolving to `{ rows, rowCount }`.
 */
export interface SessionClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * Internal capability of the databases {@link openDatabase} returns: run `fn` on one dedicated
 * connection (session state such as advisory locks and `SET` persists across its queries).
 * Kept off the public interface because it hands out driver-shaped objects.
 */
export const withSession = Symbol('jamey.data.withSession');

export interface SessionCapable {
  [withSession]<T>(fn: (client: SessionClient) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** True when `db` came from `openDatabase` and can lend a dedicated session. */
export function hasSession(db: Database): db is Database & SessionCapable {
  return typeof (db as Partial<SessionCapable>)[withSession] === 'function';
}
