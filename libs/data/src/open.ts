import { isAbsolute, resolve } from 'node:path';
import { invalidArgument } from '@jamey/core';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import { type Database, type Logger, silentLogger } from './types.js';

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * `postgres://user:pass@host:port/db` (a `pg` pool), `pglite://memory` (in-memory PGlite) or
   * `pglite://<dir>` (PGlite persisted in `<dir>`, absolute or relative to the working
   * directory, created if missing; `pglite:///abs/dir` also works).
   */
  url: string;
  /** Maximum pool connections for Postgres (default 10). PGlite always has one. */
  poolSize?: number;
  /** How long to wait for a new Postgres connection, in milliseconds (default 5000). */
  connectTimeoutMs?: number;
  logger?: Logger;
}

const PGLITE_SCHEME = 'pglite://';

/** Where a `pglite://` URL keeps its data: `undefined` for memory, else an absolute directory. */
export function pgliteDataDir(url: string): string | undefined {
  const rest = decodeURIComponent(url.slice(PGLITE_SCHEME.length));
  if (rest === '' || rest === 'memory') return undefined;
  return isAbsolute(rest) ? rest : resolve(rest);
}

/**
 * Opens a {@link Database} for `url` and checks that it answers.
 *
 * - Postgres: a `pg` pool; an unreachable server rejects with `DEPENDENCY_UNAVAILABLE`
 *   (dependency `postgres`), so `main.ts` can retry or exit.
 * - PGlite: embedded WASM Postgres with pgvector loaded (`CREATE EXTENSION IF NOT EXISTS vector`
 *   works; run it in a migration). One process may open a data directory at a time.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const { url } = options;
  if (url.startsWith(PGLITE_SCHEME)) return openPglite(pgliteDataDir(url));
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return openPostgres({
      url,
      poolSize: options.poolSize ?? 10,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      logger: options.logger ?? silentLogger,
    });
  }
  throw invalidArgument('url', 'database url must start with postgres://, postgresql:// or pglite://');
}
