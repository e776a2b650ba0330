import { flag, grpcAddress, loadConfig, logLevel, millis, port, redisUrl, z, type Env } from '@jamey/config';
import { DEFAULT_PORTS, STATUS_PAGE_PORT } from '@jamey/topology';
import { DOWNSTREAMS, type Downstream } from './clients.js';

/** The gateway's configuration. */
export interface GatewayConfig {
  /** Interface to bind (`JAMEY_BIND_HOST`, default 0.0.0.0). */
  readonly host: string;
  /** Public HTTP port (`GATEWAY_PORT`, default 8080). */
  readonly port: number;
  /** Admin HTTP port: /healthz, /readyz, /metrics (`GATEWAY_ADMIN_PORT`, default 9100). */
  readonly adminPort: number;
  /** `host:port` of each downstream (`<SERVICE>_ADDRESS`, default 127.0.0.1:<its default port>). */
  readonly downstreams: Readonly<Record<Downstream, string>>;
  /** Each request's budget for downstream calls, ms (`GATEWAY_DOWNSTREAM_TIMEOUT_MS`, default 5000). */
  readonly downstreamTimeoutMs: number;
  /** Timeout of each downstream's readiness check, ms (`GATEWAY_READINESS_TIMEOUT_MS`, default 1000). */
  readonly readinessTimeoutMs: number;
  /** Largest request body, bytes (`GATEWAY_BODY_LIMIT_BYTES`, default 1 MiB). */
  readonly bodyLimitBytes: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long in-flight requests may drain on shutdown, ms (`SHUTDOWN_GRACE_MS`, default 10000). */
  readonly shutdownGraceMs: number;
  /**
   * Whether the gateway retries idempotent calls itself (`JAMEY_RPC_RETRIES`, default true).
   * The Helm chart turns it off when Istio retries the same calls, so retries never multiply.
   */
  readonly rpcRetries: boolean;
  /** Where `GET /status` redirects: the telemetry status page (`TELEMETRY_STATUS_URL`, default http://127.0.0.1:9200/). */
  readonly statusPageUrl: string;
  /**
   * Per client: at most `max` requests per `windowMs` (`JAMEY_RATE_LIMIT_MAX`, default 600, and
   * `JAMEY_RATE_LIMIT_WINDOW_MS`, default 60000). Shared by every replica when Redis is set.
   */
  readonly rateLimit: { readonly max: number; readonly windowMs: number };
  /**
   * `redis://…` (`REDIS_URL`): where rate-limit counters are shared between replicas. Absent:
   * each replica counts in memory.
   */
  readonly redisUrl?: string | undefined;
}

const addressVariable = (name: Downstream): string => `${name.toUpperCase()}_ADDRESS`;

/** The environment the gateway reads. */
function gatewayEnvShape() {
  return {
    JAMEY_BIND_HOST: z.string().min(1).default('0.0.0.0'),
    GATEWAY_PORT: port(DEFAULT_PORTS.gateway.main),
    GATEWAY_ADMIN_PORT: port(DEFAULT_PORTS.gateway.admin),
    GATEWAY_DOWNSTREAM_TIMEOUT_MS: millis(5000),
    GATEWAY_READINESS_TIMEOUT_MS: millis(1000),
    GATEWAY_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    LOG_LEVEL: logLevel(),
    SHUTDOWN_GRACE_MS: millis(10_000),
    JAMEY_RPC_RETRIES: flag(true),
    JAMEY_RATE_LIMIT_MAX: z.coerce.number().int().min(1).max(1_000_000_000).default(600),
    JAMEY_RATE_LIMIT_WINDOW_MS: millis(60_000).pipe(z.number().max(24 * 60 * 60 * 1000, 'must be at most a day')),
    REDIS_URL: redisUrl().optional(),
    TELEMETRY_STATUS_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .default(`http://127.0.0.1:${STATUS_PAGE_PORT}/`),
    ...Object.fromEntries(DOWNSTREAMS.map((name) => [addressVariable(name), grpcAddress(`127.0.0.1:${DEFAULT_PORTS[name].main}`)])),
  };
}

/** Reads, validates and freezes the gateway's configuration. @throws ConfigError listing every problem. */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const parsed = loadConfig(z.object(gatewayEnvShape()), env) as Readonly<Record<string, unknown>>;
  return Object.freeze({
    host: parsed['JAMEY_BIND_HOST'] as string,
    port: parsed['GATEWAY_PORT'] as number,
    adminPort: parsed['GATEWAY_ADMIN_PORT'] as number,
    downstreams: Object.freeze(
      Object.fromEntries(DOWNSTREAMS.map((name) => [name, parsed[addressVariable(name)] as string])) as Record<Downstream, string>,
    ),
    downstreamTimeoutMs: parsed['GATEWAY_DOWNSTREAM_TIMEOUT_MS'] as number,
    readinessTimeoutMs: parsed['GATEWAY_READINESS_TIMEOUT_MS'] as number,
    bodyLimitBytes: parsed['GATEWAY_BODY_LIMIT_BYTES'] as number,
    logLevel: parsed['LOG_LEVEL'] as GatewayConfig['logLevel'],
    shutdownGraceMs: parsed['SHUTDOWN_GRACE_MS'] as number,
    rpcRetries: parsed['JAMEY_RPC_RETRIES'] as boolean,
    statusPageUrl: parsed['TELEMETRY_STATUS_URL'] as string,
    rateLimit: Object.freeze({ max: parsed['JAMEY_RATE_LIMIT_MAX'] as number, windowMs: parsed['JAMEY_RATE_LIMIT_WINDOW_MS'] as number }),
    redisUrl: parsed['REDIS_URL'] as string | undefined,
  });
}
