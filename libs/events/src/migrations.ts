import { fileURLToPath } from 'node:url';

/**
 * The SQL migrations that create the `outbox` and `processed_events` tables. Run them with
 * `migrate(db, { dir: eventsMigrationsDir, table: eventsMigrationsTable })` from `@jamey/data`,
 * next to the service's own migrations (each with its own tracking table).
 *
 * The folder sits at the package root, one level above both `src/` and `dist/`, so this path
 * is right whether the code runs from source (vitest) or from the build.
 */
export const eventsMigrationsDir: string = fileURLToPath(new URL('../migrations', import.meta.url));

/** The table node-pg-migrate records the events migrations in. */
export const eventsMigrationsTable = 'jamey_events_migrations';
