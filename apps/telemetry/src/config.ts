import { grpcAddress, loadConfig, millis, z, type Env } from '@jamey/config';
import { serviceEnvShape, toServiceSettings, type ServiceSettings } from '@jamey/service';
import { DEFAULT_PORTS, type GrpcServiceName } from '@jamey/topology';

/** Where the telemetry service finds the services it watches. */
export interface TelemetryTargets {
  /** `host:port` of every other gRPC service. */
  readonly grpc: Readonly<Record<Exclude<GrpcServiceName, 'telemetry'>, string>>;
  /** Base URL of the gateway's admin server; its `/readyz` is polled. */
  readonly gatewayAdminUrl: string;
}

/** The telemetry service's configuration. */
export interface TelemetryConfig {
  readonly service: ServiceSettings;
  readonly targets: TelemetryTargets;
  /** Pause between polling rounds. `TELEMETRY_POLL_INTERVAL_MS`, default 5000. */
  readonly pollIntervalMs: number;
  /** Budget of one health check. `TELEMETRY_CHECK_TIMEOUT_MS`, default 2000. */
  readonly checkTimeoutMs: number;
  /** Age after which history rows are pruned. `TELEMETRY_HISTORY_RETENTION_MS`, default 7 days. */
  readonly historyRetentionMs: number;
}

const local = (service: GrpcServiceName): string => `127.0.0.1:${DEFAULT_PORTS[service].main}`;

const schema = z.object({
  ...serviceEnvShape('telemetry'),
  MEMORY_ADDRESS: grpcAddress(local('memory')),
  CONSCIOUSNESS_ADDRESS: grpcAddress(local('consciousness')),
  SOUL_ADDRESS: grpcAddress(local('soul')),
  AUDIT_ADDRESS: grpcAddress(local('audit')),
  GATEWAY_ADMIN_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .default(`http://127.0.0.1:${DEFAULT_PORTS.gateway.admin}`),
  TELEMETRY_POLL_INTERVAL_MS: millis(5000),
  TELEMETRY_CHECK_TIMEOUT_MS: millis(2000),
  TELEMETRY_HISTORY_RETENTION_MS: millis(7 * 24 * 60 * 60 * 1000),
});

/** Reads, validates and freezes the telemetry service's configuration. @throws ConfigError */
export function loadTelemetryConfig(env: Env): TelemetryConfig {
  const parsed = loadConfig(schema, env);
  return Object.freeze({
    service: toServiceSettings('telemetry', parsed),
    targets: Object.freeze({
      grpc: Object.freeze({
        memory: parsed.MEMORY_ADDRESS,
        consciousness: parsed.CONSCIOUSNESS_ADDRESS,
        soul: parsed.SOUL_ADDRESS,
        audit: parsed.AUDIT_ADDRESS,
      }),
      gatewayAdminUrl: parsed.GATEWAY_ADMIN_URL,
    }),
    pollIntervalMs: parsed.TELEMETRY_POLL_INTERVAL_MS,
    checkTimeoutMs: parsed.TELEMETRY_CHECK_TIMEOUT_MS,
    historyRetentionMs: parsed.TELEMETRY_HISTORY_RETENTION_MS,
  });
}
