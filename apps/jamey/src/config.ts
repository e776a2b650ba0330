import { loadConfig, port, z, type Env } from '@jamey/config';
import { loadGatewayConfig, type GatewayConfig } from '@jamey/gateway';
import { DEV_AUDIENCE, DEV_ISSUER } from '@jamey/security';
import { serviceEnvShape, toServiceSettings, type ServiceSettings } from '@jamey/service';
import { STATUS_PAGE_PORT, type GrpcServiceName } from '@jamey/topology';

const GRPC_SERVICES = ['memory', 'soul', 'consciousness', 'audit', 'telemetry'] as const satisfies readonly GrpcServiceName[];

/** The embedded host's configuration: every service's settings, on loopback and PGlite. */
export interface HostConfig {
  readonly services: Readonly<Record<GrpcServiceName, ServiceSettings>>;
  readonly gateway: GatewayConfig;
  /** `host:port` each service is reached at. */
  readonly addresses: Readonly<Record<GrpcServiceName, string>>;
  /** Where PGlite keeps each service's database (`JAMEY_DATA_DIR`, default `.data`). */
  readonly dataDir: string;
  /** Port of the telemetry status page (`TELEMETRY_STATUS_PORT`, default 9200). */
  readonly statusPort: number;
}

/**
 * Reads the host's configuration. It accepts the same variables as the separate services
 * (`<SERVICE>_PORT`, `<SERVICE>_ADMIN_PORT`, `<SERVICE>_DATABASE_URL`, `GATEWAY_*`, `LOG_LEVEL`…),
 * but binds to 127.0.0.1 by default, derives every address from the ports, so services always
 * find each other, and ignores `REDIS_URL`. The gateway accepts development tokens (`npm run token`,
 * issuer `urn:jamey:dev`) unless `GATEWAY_AUTH_JWKS_URL` or `GATEWAY_AUTH_KEY_FILE` is set. @throws ConfigError listing every problem at once.
 */
export function loadHostConfig(env: Env): HostConfig {
  // Embedded mode has no Redis (ARCHITECTURE.md): caches are in-process and rate limits are kept
  // in memory, even when REDIS_URL is set for the separate services in the same shell.
  const withDefaults: Env = { JAMEY_BIND_HOST: '127.0.0.1', ...env, REDIS_URL: undefined };
  const shape = Object.assign({}, ...GRPC_SERVICES.map((name) => serviceEnvShape(name))) as ReturnType<typeof serviceEnvShape>;
  const parsed = loadConfig(z.object({ ...shape, TELEMETRY_STATUS_PORT: port(STATUS_PAGE_PORT) }), withDefaults) as Readonly<Record<string, unknown>>;
  const statusPort = parsed['TELEMETRY_STATUS_PORT'] as number;
  const services = Object.fromEntries(GRPC_SERVICES.map((name) => [name, toServiceSettings(name, parsed)])) as Record<
    GrpcServiceName,
    ServiceSettings
  >;
  // Clients use loopback even when the host binds a wider interface.
  const addresses = Object.fromEntries(GRPC_SERVICES.map((name) => [name, `127.0.0.1:${services[name].port}`])) as Record<
    GrpcServiceName,
    string
  >;
  // User tokens: the development key (`npm run token`) unless a real key source is configured.
  const ownKeys = Boolean(env['GATEWAY_AUTH_JWKS_URL'] || env['GATEWAY_AUTH_KEY_FILE']);
  const gateway = loadGatewayConfig({
    ...(ownKeys ? {} : { GATEWAY_AUTH_ISSUER: DEV_ISSUER, GATEWAY_AUTH_AUDIENCE: DEV_AUDIENCE, GATEWAY_AUTH_DEV_KEY: 'true' }),
    ...withDefaults,
    ...Object.fromEntries(GRPC_SERVICES.map((name) => [`${name.toUpperCase()}_ADDRESS`, addresses[name]])),
    // The gateway's GET /status points at this host's status page unless told otherwise.
    TELEMETRY_STATUS_URL: env['TELEMETRY_STATUS_URL'] || `http://127.0.0.1:${statusPort}/`,
  });
  return Object.freeze({ services, gateway, addresses, dataDir: parsed['JAMEY_DATA_DIR'] as string, statusPort });
}
