import { databaseUrl, logLevel, millis, port, redisUrl, z, type DeepReadonly } from '@jamey/config';
import { DEFAULT_PORTS, type GrpcServiceName } from '@jamey/topology';

/** Settings every gRPC service process has. */
export interface ServiceSettings {
  readonly name: GrpcServiceName;
  /** Interface to bind. Default 0.0.0.0 (127.0.0.1 in embedded mode). */
  readonly host: string;
  /** gRPC port. */
  readonly port: number;
  /** Admin HTTP port (/healthz, /readyz, /metrics). */
  readonly adminPort: number;
  /** `postgres://…` or `pglite://<dir>`. */
  readonly databaseUrl: string;
  /** Max connections in the pool. */
  readonly databasePoolSize: number;
  /**
   * `redis://…` (`REDIS_URL`): the L2 cache and its invalidation channel. Absent: caches are
   * in-process only (embedded mode).
   */
  readonly redisUrl?: string | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long in-flight calls may drain on shutdown before the server force-closes. */
  readonly shutdownGraceMs: number;
}

const upper = (name: string): string => name.toUpperCase();

/**
 * The environment variables every service reads, as a zod shape an app's config schema can
 * spread into its own: `<SERVICE>_PORT`, `<SERVICE>_ADMIN_PORT`, `<SERVICE>_DATABASE_URL`,
 * `<SERVICE>_DATABASE_POOL_SIZE`, `REDIS_URL` (optional), `JAMEY_BIND_HOST`, `JAMEY_DATA_DIR`,
 * `LOG_LEVEL`, `SHUTDOWN_GRACE_MS`.
 */
export function serviceEnvShape(name: GrpcServiceName) {
  const prefix = upper(name);
  return {
    [`${prefix}_PORT`]: port(DEFAULT_PORTS[name].main),
    [`${prefix}_ADMIN_PORT`]: port(DEFAULT_PORTS[name].admin),
    [`${prefix}_DATABASE_URL`]: databaseUrl().optional(),
    [`${prefix}_DATABASE_POOL_SIZE`]: z.coerce.number().int().min(1).max(100).default(10),
    REDIS_URL: redisUrl().optional(),
    JAMEY_BIND_HOST: z.string().min(1).default('0.0.0.0'),
    JAMEY_DATA_DIR: z.string().min(1).default('.data'),
    LOG_LEVEL: logLevel(),
    SHUTDOWN_GRACE_MS: millis(10_000),
  } as const;
}

/** Reads {@link ServiceSettings} out of an environment parsed with {@link serviceEnvShape}. */
export function toServiceSettings(name: GrpcServiceName, env: DeepReadonly<Record<string, unknown>>): ServiceSettings {
  const prefix = upper(name);
  const dataDir = env['JAMEY_DATA_DIR'] as string;
  return Object.freeze({
    name,
    host: env['JAMEY_BIND_HOST'] as string,
    port: env[`${prefix}_PORT`] as number,
    adminPort: env[`${prefix}_ADMIN_PORT`] as number,
    databaseUrl: (env[`${prefix}_DATABASE_URL`] as string | undefined) ?? `pglite://${dataDir}/${name}`,
    databasePoolSize: env[`${prefix}_DATABASE_POOL_SIZE`] as number,
    redisUrl: env['REDIS_URL'] as string | undefined,
    logLevel: env['LOG_LEVEL'] as ServiceSettings['logLevel'],
    shutdownGraceMs: env['SHUTDOWN_GRACE_MS'] as number,
  });
}

/** The Kafka settings of a standalone service process: `KAFKA_BROKERS` (comma-separated). */
export const kafkaEnvShape = {
  KAFKA_BROKERS: z
    .string()
    .transform((raw) => raw.split(',').map((b) => b.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port')).min(1)),
} as const;
