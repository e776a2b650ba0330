import { fileURLToPath } from 'node:url';

/** The service's SQL migrations, beside `src/` and `dist/`. */
export const telemetryMigrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));
