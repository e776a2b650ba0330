/**
 * Database access for Jamey services: one {@link Database} interface over PostgreSQL (`pg`) and
 * embedded PGlite, plus versioned migrations run by node-pg-migrate.
 */
export type { Database, DatabaseKind, Logger, PoolStats, QueryResult, Queryable } from './types.js';
export { silentLogger } from './types.js';
export { type OpenDatabaseOptions, openDatabase, pgliteDataDir } from './open.js';
export { type MigrateOptions, migrate } from './migrate.js';
export { type DatabaseObservation, type DatabaseObserver, type ObserveDatabaseOptions, observeDatabase } from './observe.js';
export { isConnectionFailure } from './errors.js';
export { createMutex, type Mutex } from './mutex.js';
export { raceAbort, eitherSignal } from './abort.js';
