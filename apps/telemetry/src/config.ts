import { grpcAddress, loadConfig, millis, port, z, type Env } from '@jamey/config';
import { kafkaEnvShape, serviceEnvShape, toServiceSettings, type ServiceSettings } from '@jamey/service';
import { DEFAULT_PORTS, STATUS_PAGE_PORT, type GrpcServiceName, type ServiceName } from '@jamey/topology';
import { DEFAULT_ALERT_RULES_FILE } from './adapters/rules-file.js';

/** The services telemetry watches: every one but itself. */
export type WatchedService = Exclude<ServiceName, 'telemetry'>;

/** Where the telemetry service finds the services it watches. */
export interface TelemetryTargets {
  /** `host:port` of every other gRPC service. */
  readonly grpc: Readonly<Record<Exclude<GrpcServiceName, 'telemetry'>, string>>;
  /** Base URL of the gateway's admin server; its `/readyz` is polled and its `/metrics` scraped. */
  readonly gatewayAdminUrl: string;
  /**
   * Base URL of each gRPC service's admin server, whose `/metrics` is scraped each round
   * (`<SERVICE>_ADMIN_URL`). A service left out is not scraped.
   */
  readonly adminUrls?: Readonly<Partial<Record<Exclude<WatchedService, 'gateway'>, string>>>;
}

/** The alerting settings. */
export interface AlertingConfig {
  /** The rules file (`TELEMETRY_ALERT_RULES_FILE`), default `apps/telemetry/alert-rules.yaml`. */
  readonly rulesFile: string;
  /** Where fired and resolved alerts are POSTed (`TELEMETRY_ALERT_WEBHOOK_URL`); none when undefined. */
  readonly webhookUrl: string | undefined;
  /** Budget of one webhook attempt (`TELEMETRY_ALERT_WEBHOOK_TIMEOUT_MS`), default 5000. */
  readonly webhookTimeoutMs: number;
}

/** The telemetry service's configuration. */
export interface TelemetryConfig {
  readonly service: ServiceSettings;
  readonly kafkaBrokers: readonly string[];
  readonly targets: TelemetryTargets;
  /** Pause between polling rounds. `TELEMETRY_POLL_INTERVAL_MS`, default 5000. */
  readonly pollIntervalMs: number;
  /** Budget of one health check. `TELEMETRY_CHECK_TIMEOUT_MS`, default 2000. */
  readonly checkTimeoutMs: number;
  /** Budget of one `/metrics` scrape. `TELEMETRY_SCRAPE_TIMEOUT_MS`, default 2000. */
  readonly scrapeTimeoutMs: number;
  /** Age after which history rows are pruned. `TELEMETRY_HISTORY_RETENTION_MS`, default 7 days. */
  readonly historyRetentionMs: number;
  /** Length of one history interval. `TELEMETRY_HISTORY_INTERVAL_MS`, default 60000. */
  readonly historyIntervalMs: number;
  /**
   * An instance not scraped for this long no longer counts (`TELEMETRY_SAMPLE_STALENESS_MS`,
   * default 5 minutes, Prometheus's lookback).
   */
  readonly sampleStalenessMs: number;
  readonly alerting: AlertingConfig;
  /** Port of the status page (HTTP, on `JAMEY_BIND_HOST`). `TELEMETRY_STATUS_PORT`, default 9200. */
  readonly statusPort: number;
}

const local = (service: GrpcServiceName): string => `127.0.0.1:${DEFAULT_PORTS[service].main}`;
const httpUrl = (fallback: string) => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).default(fallback);
const adminUrl = (service: ServiceName) => httpUrl(`http://127.0.0.1:${DEFAULT_PORTS[service].admin}`);

const schema = z.object({
  ...serviceEnvShape('telemetry'),
  ...kafkaEnvShape,
  MEMORY_ADDRESS: grpcAddress(local('memory')),
  CONSCIOUSNESS_ADDRESS: grpcAddress(local('consciousness')),
  SOUL_ADDRESS: grpcAddress(local('soul')),
  AUDIT_ADDRESS: grpcAddress(local('audit')),
  GATEWAY_ADMIN_URL: adminUrl('gateway'),
  MEMORY_ADMIN_URL: adminUrl('memory'),
  CONSCIOUSNESS_ADMIN_URL: adminUrl('consciousness'),
  SOUL_ADMIN_URL: adminUrl('soul'),
  AUDIT_ADMIN_URL: adminUrl('audit'),
  TELEMETRY_POLL_INTERVAL_MS: millis(5000),
  TELEMETRY_CHECK_TIMEOUT_MS: millis(2000),
  TELEMETRY_SCRAPE_TIMEOUT_MS: millis(2000),
  TELEMETRY_HISTORY_RETENTION_MS: millis(7 * 24 * 60 * 60 * 1000),
  TELEMETRY_HISTORY_INTERVAL_MS: millis(60_000),
  TELEMETRY_SAMPLE_STALENESS_MS: millis(5 * 60_000),
  TELEMETRY_ALERT_RULES_FILE: z.string().min(1).default(DEFAULT_ALERT_RULES_FILE),
  TELEMETRY_ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  TELEMETRY_ALERT_WEBHOOK_TIMEOUT_MS: millis(5000),
  TELEMETRY_STATUS_PORT: port(STATUS_PAGE_PORT),
});

/** Reads, validates and freezes the telemetry service's configuration. @throws ConfigError */
export function loadTelemetryConfig(env: Env): TelemetryConfig {
  const parsed = loadConfig(schema, env);
  return Object.freeze({
    service: toServiceSettings('telemetry', parsed),
    kafkaBrokers: parsed.KAFKA_BROKERS,
    targets: Object.freeze({
      grpc: Object.freeze({
        memory: parsed.MEMORY_ADDRESS,
        consciousness: parsed.CONSCIOUSNESS_ADDRESS,
        soul: parsed.SOUL_ADDRESS,
        audit: parsed.AUDIT_ADDRESS,
      }),
      gatewayAdminUrl: parsed.GATEWAY_ADMIN_URL,
      adminUrls: Object.freeze({
        memory: parsed.MEMORY_ADMIN_URL,
        consciousness: parsed.CONSCIOUSNESS_ADMIN_URL,
        soul: parsed.SOUL_ADMIN_URL,
        audit: parsed.AUDIT_ADMIN_URL,
      }),
    }),
    pollIntervalMs: parsed.TELEMETRY_POLL_INTERVAL_MS,
    checkTimeoutMs: parsed.TELEMETRY_CHECK_TIMEOUT_MS,
    scrapeTimeoutMs: parsed.TELEMETRY_SCRAPE_TIMEOUT_MS,
    historyRetentionMs: parsed.TELEMETRY_HISTORY_RETENTION_MS,
    historyIntervalMs: parsed.TELEMETRY_HISTORY_INTERVAL_MS,
    sampleStalenessMs: parsed.TELEMETRY_SAMPLE_STALENESS_MS,
    alerting: Object.freeze({
      rulesFile: parsed.TELEMETRY_ALERT_RULES_FILE,
      webhookUrl: parsed.TELEMETRY_ALERT_WEBHOOK_URL,
      webhookTimeoutMs: parsed.TELEMETRY_ALERT_WEBHOOK_TIMEOUT_MS,
    }),
    statusPort: parsed.TELEMETRY_STATUS_PORT,
  });
}
