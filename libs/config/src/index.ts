import { z } from 'zod';

/** Thrown when the environment does not describe a valid configuration. Lists every problem at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** The environment as given to a process: names to raw string values. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Validates `env` against `schema`, applies defaults and returns a deeply frozen result.
 * Empty strings count as unset, so `FOO= npm start` falls back to the default.
 * @throws {ConfigError} listing every invalid or missing variable.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env): DeepReadonly<z.infer<S>> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return deepFreeze(result.data) as DeepReadonly<z.infer<S>>;
}

/** Recursively readonly. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** A TCP port from the environment, 0–65535 (0 picks a free port), with a default. */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** A positive integer number of milliseconds, with a default. */
export const millis = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A comma-separated list of non-empty strings. */
export const csv = () =>
  z
    .string()
    .transform((raw) => raw.split(',').map((part) => part.trim()).filter((part) => part.length > 0))
    .pipe(z.array(z.string()).min(1, 'must list at least one value'));

/** A boolean written as true/false/1/0/yes/no. */
export const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((raw) => raw === 'true' || raw === '1' || raw === 'yes');

/** A pino log level. */
export const logLevel = () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** A database URL: `postgres://…`, `postgresql://…` or `pglite://<dir>` / `pglite://memory`. */
export const databaseUrl = () =>
  z.string().regex(/^(postgres(ql)?|pglite):\/\/.+/, 'must be a postgres://, postgresql:// or pglite:// URL');

/**
 * A Redis URL: `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS. The
 * password may be in it: never log the value.
 */
export const redisUrl = () =>
  z.string().refine((raw) => {
    try {
      const url = new URL(raw);
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '' && /^(\/\d*)?$/.test(url.pathname);
    } catch {
      return false;
    }
  }, 'must be a redis:// or rediss:// URL: redis://[user:password@]host[:port][/db]');

/** A gRPC target, `host:port`. */
export const grpcAddress = (fallback: string) =>
  z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port').default(fallback);

export { z };
