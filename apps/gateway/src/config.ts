import { isIP } from 'node:net';
import { ConfigError, csv, databaseUrl, flag, grpcAddress, loadConfig, logLevel, millis, port, redisUrl, z, type Env } from '@jamey/config';
import { ASYMMETRIC_ALGORITHMS, DEFAULT_MAX_TOKEN_BYTES, type UserAuthSettings } from '@jamey/security';
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
  /**
   * How user JWTs are checked (`GATEWAY_AUTH_*`): the accepted issuer(s) and audience(s), exactly
   * one key source, the clock tolerance and the largest token. Handed to `createUserAuth`.
   */
  readonly auth: UserAuthSettings;
  /**
   * Origins browsers may call the API from (`GATEWAY_CORS_ORIGINS`, comma-separated; `*` for
   * any). Default none: no CORS headers, so browsers keep the same-origin policy.
   */
  readonly corsOrigins: readonly string[];
  /**
   * Which proxies' `X-Forwarded-For` is believed (`GATEWAY_TRUST_PROXY`, default false): `true`
   * (any), a hop count, or a comma-separated list of addresses/CIDRs. It decides `request.ip`,
   * which anonymous rate limits key on.
   */
  readonly trustProxy: boolean | number | readonly string[];
  /**
   * Where the gateway's outbox lives (`GATEWAY_DATABASE_URL`: `postgres://…`, or
   * `pglite://<dir>`; default `pglite://$JAMEY_DATA_DIR/gateway`, as every service). Each
   * request's access record is committed here before the response is sent.
   */
  readonly databaseUrl: string;
  /** Max connections in the pool (`GATEWAY_DATABASE_POOL_SIZE`, default 10). */
  readonly databasePoolSize: number;
}

/** The variables that choose where user-token keys come from; exactly one must be set. */
export const AUTH_KEY_SOURCE_ENV = Object.freeze(['GATEWAY_AUTH_JWKS_URL', 'GATEWAY_AUTH_KEY_FILE', 'GATEWAY_AUTH_DEV_KEY'] as const);

const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/** A JWKS URL: https, or http on loopback (tests, a local identity provider). */
const jwksUrl = () =>
  z.string().refine((raw) => {
    try {
      const url = new URL(raw);
      return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname));
    } catch {
      return false;
    }
  }, 'must be an https:// URL (http:// only on loopback)');

/** An origin as browsers send it (`https://app.example.org[:port]`), or `*`. */
const origin = (raw: string): boolean => {
  if (raw === '*') return true;
  try {
    const url = new URL(raw);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === raw;
  } catch {
    return false;
  }
};

/** `GATEWAY_TRUST_PROXY`: false/true, a hop count, or addresses and CIDRs. */
const trustProxy = () =>
  z
    .string()
    .default('false')
    .transform((raw, context): boolean | number | string[] => {
      const value = raw.trim().toLowerCase();
      if (['false', '0', 'no'].includes(value)) return false;
      if (['true', 'yes'].includes(value)) return true;
      if (/^\d+$/.test(value)) return Number(value);
      const parts = raw.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
      const bad = parts.filter((part) => {
        const [address, bits, extra] = part.split('/');
        const family = isIP(address ?? '');
        if (family === 0 || extra !== undefined) return true;
        return bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
      });
      if (bad.length > 0 || parts.length === 0) {
        context.addIssue({ code: 'custom', message: `must be true, false, a hop count, or addresses/CIDRs; not ${bad.join(', ') || raw}` });
        return z.NEVER;
      }
      return parts;
    });

/**
 * Problems with the user-token settings that need more than one variable: an issuer, and
 * exactly one key source. Checked on the raw environment, so they are listed together with every
 * other problem.
 */
function authProblems(env: Env): string[] {
  const set = (name: string): boolean => (env[name] ?? '') !== '';
  const problems: string[] = [];
  if (!set('GATEWAY_AUTH_ISSUER')) problems.push('GATEWAY_AUTH_ISSUER: required: the issuer (iss) of the user tokens the gateway accepts (comma-separated for several)');
  const devKey = ['true', '1', 'yes'].includes(env['GATEWAY_AUTH_DEV_KEY'] ?? '');
  const chosen = AUTH_KEY_SOURCE_ENV.filter((name) => (name === 'GATEWAY_AUTH_DEV_KEY' ? devKey : set(name)));
  if (chosen.length !== 1) {
    problems.push(
      `(auth): user tokens need exactly one key source: GATEWAY_AUTH_JWKS_URL (the identity provider's JWKS) or GATEWAY_AUTH_KEY_FILE (a PEM key, JWK or JWKS); got ${chosen.length === 0 ? 'none' : chosen.join(' and ')}`,
    );
  }
  if (set('GATEWAY_AUTH_KEY_ALGORITHM') && !set('GATEWAY_AUTH_KEY_FILE')) problems.push('GATEWAY_AUTH_KEY_ALGORITHM: only applies with GATEWAY_AUTH_KEY_FILE');
  return problems;
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
    GATEWAY_AUTH_ISSUER: csv().optional(),
    GATEWAY_AUTH_AUDIENCE: csv().default(['jamey-api']),
    GATEWAY_AUTH_JWKS_URL: jwksUrl().optional(),
    GATEWAY_AUTH_KEY_FILE: z.string().min(1).optional(),
    GATEWAY_AUTH_KEY_ALGORITHM: z.enum(ASYMMETRIC_ALGORITHMS).optional(),
    GATEWAY_AUTH_DEV_KEY: flag(false),
    GATEWAY_AUTH_CLOCK_TOLERANCE_SEC: z.coerce.number().int().min(0).max(300).default(30),
    GATEWAY_AUTH_MAX_TOKEN_BYTES: z.coerce.number().int().min(1024).max(64 * 1024).default(DEFAULT_MAX_TOKEN_BYTES),
    GATEWAY_CORS_ORIGINS: csv()
      .pipe(z.array(z.string().refine(origin, 'each must be an origin such as https://app.example.org (no path), or *')))
      .optional(),
    GATEWAY_TRUST_PROXY: trustProxy(),
    GATEWAY_DATABASE_URL: databaseUrl().optional(),
    GATEWAY_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    JAMEY_DATA_DIR: z.string().min(1).default('.data'),
    TELEMETRY_STATUS_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .default(`http://127.0.0.1:${STATUS_PAGE_PORT}/`),
    ...Object.fromEntries(DOWNSTREAMS.map((name) => [addressVariable(name), grpcAddress(`127.0.0.1:${DEFAULT_PORTS[name].main}`)])),
  };
}

/** Reads, validates and freezes the gateway's configuration. @throws ConfigError listing every problem. */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const crossProblems = authProblems(env);
  let parsed: Readonly<Record<string, unknown>>;
  try {
    parsed = loadConfig(z.object(gatewayEnvShape()), env) as Readonly<Record<string, unknown>>;
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError([...error.problems, ...crossProblems]);
    throw error;
  }
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  const optional = <T>(key: string, name: string): Record<string, T> => (parsed[name] === undefined ? {} : { [key]: parsed[name] as T });
  const auth: UserAuthSettings = Object.freeze({
    issuer: parsed['GATEWAY_AUTH_ISSUER'] as readonly string[],
    audience: parsed['GATEWAY_AUTH_AUDIENCE'] as readonly string[],
    ...optional<string>('jwksUrl', 'GATEWAY_AUTH_JWKS_URL'),
    ...optional<string>('keyFile', 'GATEWAY_AUTH_KEY_FILE'),
    ...optional<UserAuthSettings['keyAlgorithm']>('keyAlgorithm', 'GATEWAY_AUTH_KEY_ALGORITHM'),
    ...(parsed['GATEWAY_AUTH_DEV_KEY'] === true ? { devKey: true } : {}),
    clockToleranceSec: parsed['GATEWAY_AUTH_CLOCK_TOLERANCE_SEC'] as number,
    maxTokenBytes: parsed['GATEWAY_AUTH_MAX_TOKEN_BYTES'] as number,
  });
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
    auth,
    corsOrigins: (parsed['GATEWAY_CORS_ORIGINS'] as readonly string[] | undefined) ?? Object.freeze([]),
    trustProxy: parsed['GATEWAY_TRUST_PROXY'] as GatewayConfig['trustProxy'],
    databaseUrl: (parsed['GATEWAY_DATABASE_URL'] as string | undefined) ?? `pglite://${parsed['JAMEY_DATA_DIR'] as string}/gateway`,
    databasePoolSize: parsed['GATEWAY_DATABASE_POOL_SIZE'] as number,
  });
}
