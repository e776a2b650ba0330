import { telemetry as pb } from '@jamey/proto';
import { createServiceKit, startServiceKit, type RunningService, type ServiceKitOptions } from '@jamey/service';
import { GRPC_SERVICES } from '@jamey/topology';
import { createTelemetryHandlers } from './adapters/grpc/telemetry-handlers.js';
import { createPgHealthHistory } from './adapters/pg/health-history.js';
import { createGrpcHealthProbe } from './adapters/probes/grpc-probe.js';
import { createHttpReadinessProbe } from './adapters/probes/http-probe.js';
import type { TelemetryTargets } from './config.js';
import { createHealthMonitor, HEALTH_MONITOR_DEFAULTS } from './domain/health-monitor.js';
import { createHealthPoller } from './domain/health-poller.js';
import { telemetryMigrationsDir } from './migrations.js';
import type { HealthCheckRecord, HealthTarget } from './domain/health.js';

export { telemetryMigrationsDir };

/** Options of {@link startTelemetryService}. */
export interface TelemetryServiceOptions extends Omit<ServiceKitOptions, 'migrationsDir'> {
  readonly targets: TelemetryTargets;
  /** Pause between polling rounds, in milliseconds. Default 5000. */
  readonly pollIntervalMs?: number;
  /** Budget of one health check, in milliseconds. Default 2000. */
  readonly checkTimeoutMs?: number;
  /** History older than this many milliseconds is pruned. Default 7 days. */
  readonly historyRetentionMs?: number;
  /**
   * Whether the background poller runs. Default true. Tests turn it off and drive rounds with
   * {@link RunningTelemetryService.pollOnce}, so they never wait on a timer.
   */
  readonly autoPoll?: boolean;
}

/** A running telemetry service. */
export interface RunningTelemetryService extends RunningService {
  /** Runs one polling round now and resolves with what it stored. */
  pollOnce(signal?: AbortSignal): Promise<readonly HealthCheckRecord[]>;
}

/** The services telemetry watches, in report order: the gateway over HTTP, the rest over gRPC. */
export function healthTargets(targets: TelemetryTargets, checkTimeoutMs: number): HealthTarget[] {
  const grpc = (['memory', 'consciousness', 'soul', 'audit'] as const).map((service) => ({
    service,
    target: targets.grpc[service],
    probe: createGrpcHealthProbe(targets.grpc[service], GRPC_SERVICES[service], checkTimeoutMs),
  }));
  const readyz = new URL('/readyz', targets.gatewayAdminUrl).toString();
  return [{ service: 'gateway', target: readyz, probe: createHttpReadinessProbe(targets.gatewayAdminUrl) }, ...grpc];
}

/** Builds the telemetry service on a kit and starts it. Used by `main.ts` and the embedded host. */
export async function startTelemetryService(options: TelemetryServiceOptions): Promise<RunningTelemetryService> {
  const { targets, pollIntervalMs = 5000, autoPoll = true, ...kitOptions } = options;
  const checkTimeoutMs = options.checkTimeoutMs ?? HEALTH_MONITOR_DEFAULTS.checkTimeoutMs;
  const kit = await createServiceKit({ ...kitOptions, migrationsDir: telemetryMigrationsDir });
  let selfTarget = `${kit.settings.host}:${kit.settings.port}`;
  const monitor = createHealthMonitor({
    targets: healthTargets(targets, checkTimeoutMs),
    history: createPgHealthHistory(kit.db),
    clock: kit.clock,
    checkTimeoutMs,
    retentionMs: options.historyRetentionMs ?? HEALTH_MONITOR_DEFAULTS.retentionMs,
    self: () => ({ service: 'telemetry', target: selfTarget }),
  });
  kit.rpc.addService(GRPC_SERVICES.telemetry, pb.TelemetryServiceService, createTelemetryHandlers(monitor));
  const poller = createHealthPoller({
    monitor,
    intervalMs: pollIntervalMs,
    onError: (error) => kit.logger.warn({ err: error }, 'health polling round failed'),
  });
  const running = await startServiceKit(kit, autoPoll ? [poller] : []);
  selfTarget = `${kit.settings.host}:${running.port}`;
  return {
    name: running.name,
    port: running.port,
    adminPort: running.adminPort,
    stop: () => running.stop(),
    pollOnce: (signal) => monitor.pollOnce(signal),
  };
}
