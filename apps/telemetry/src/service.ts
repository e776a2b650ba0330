import { telemetry as pb } from '@jamey/proto';
import { createServiceKit, startServiceKit, type RunningService, type ServiceKitOptions, type Worker } from '@jamey/service';
import { GRPC_SERVICES, SERVICE_NAMES } from '@jamey/topology';
import { createTelemetryHandlers } from './adapters/grpc/telemetry-handlers.js';
import { createPgAlertStore } from './adapters/pg/alert-store.js';
import { createPgHealthHistory } from './adapters/pg/health-history.js';
import { createPgLease } from './adapters/pg/lease.js';
import { createPgMetricHistory } from './adapters/pg/metric-history.js';
import { createGrpcHealthProbe } from './adapters/probes/grpc-probe.js';
import { createHttpReadinessProbe } from './adapters/probes/http-probe.js';
import { loadAlertRules } from './adapters/rules-file.js';
import { createHttpScraper, createRegistryScraper } from './adapters/scrape/http-scraper.js';
import { createWebhookNotifier } from './adapters/webhook/webhook-notifier.js';
import type { TelemetryTargets } from './config.js';
import { createAlertEngine, type AlertChange } from './domain/alerts/engine.js';
import { compileRule, type AlertRule } from './domain/alerts/rules.js';
import { createHealthMonitor, HEALTH_MONITOR_DEFAULTS } from './domain/health-monitor.js';
import { createHealthPoller } from './domain/health-poller.js';
import { createMetricsCollector, type ScrapeTarget } from './domain/metrics/collector.js';
import { metricsOf } from './domain/metrics/expr.js';
import { createHistoryRecorder, historyQueries, HISTORY_METRICS } from './domain/metrics/history.js';
import { METRICS } from './domain/metrics/queries.js';
import { createSampleWindow } from './domain/metrics/samples.js';
import { telemetryMigrationsDir } from './migrations.js';
import { createTelemetryStatusSources } from './status/sources.js';
import { createStatusPage } from './status/status-page.js';
import type { HealthCheckRecord, HealthTarget } from './domain/health.js';

export { telemetryMigrationsDir };

/** Options of {@link startTelemetryService}. */
export interface TelemetryServiceOptions extends Omit<ServiceKitOptions, 'migrationsDir'> {
  readonly targets: TelemetryTargets;
  /** Pause between polling rounds, in milliseconds. Default 5000. */
  readonly pollIntervalMs?: number;
  /** Budget of one health check, in milliseconds. Default 2000. */
  readonly checkTimeoutMs?: number;
  /** Budget of one `/metrics` scrape, in milliseconds. Default 2000. */
  readonly scrapeTimeoutMs?: number;
  /** History older than this many milliseconds is pruned. Default 7 days. */
  readonly historyRetentionMs?: number;
  /** Length of one history interval, in milliseconds. Default 60000. */
  readonly historyIntervalMs?: number;
  /** An instance not scraped for this long no longer counts, in milliseconds. Default 5 minutes. */
  readonly sampleStalenessMs?: number;
  /** The alert rules. Default: the rules file shipped with the service. */
  readonly alertRules?: readonly AlertRule[];
  /** Where fired and resolved alerts are POSTed; none by default. */
  readonly alertWebhookUrl?: string | undefined;
  /** Budget of one webhook attempt, in milliseconds. Default 5000. */
  readonly alertWebhookTimeoutMs?: number;
  /**
   * Whether the background poller runs. Default true. Tests turn it off and drive rounds with
   * {@link RunningTelemetryService.pollOnce}, so they never wait on a timer.
   */
  readonly autoPoll?: boolean;
  /** Serve the status page on this port (0: a free one). Omitted: no status page. */
  readonly statusPort?: number;
}

/** A running telemetry service. */
export interface RunningTelemetryService extends RunningService {
  /**
   * Runs one round now: health checks and metrics scrapes in parallel, then (on the replica that
   * holds the lease) alert evaluation and history. Resolves with the health results it stored.
   */
  pollOnce(signal?: AbortSignal): Promise<readonly HealthCheckRecord[]>;
  /** The bound port of the status page, when it is served. */
  readonly statusPort: number | undefined;
  /** Delivers the webhook notifications that are due now; 0 without a webhook. */
  deliverAlertsOnce(signal?: AbortSignal): Promise<number>;
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

/** The `/metrics` telemetry scrapes: the gateway's and each configured admin server's. */
export function scrapeTargets(targets: TelemetryTargets): ScrapeTarget[] {
  const urls: [string, string][] = [['gateway', targets.gatewayAdminUrl], ...Object.entries(targets.adminUrls ?? {}).filter((e): e is [string, string] => e[1] !== undefined)];
  return urls.map(([service, url]) => ({ service, target: new URL('/metrics', url).toString(), scrape: createHttpScraper(url) }));
}

/** Builds the telemetry service on a kit and starts it. Used by `main.ts` and the embedded host. */
export async function startTelemetryService(options: TelemetryServiceOptions): Promise<RunningTelemetryService> {
  const { targets, pollIntervalMs = 5000, autoPoll = true, ...rest } = options;
  const {
    checkTimeoutMs: _check,
    scrapeTimeoutMs = 2000,
    historyRetentionMs = HEALTH_MONITOR_DEFAULTS.retentionMs,
    historyIntervalMs = 60_000,
    sampleStalenessMs = 5 * 60_000,
    alertRules: givenRules,
    alertWebhookUrl,
    alertWebhookTimeoutMs,
    statusPort,
    ...kitOptions
  } = rest;
  const checkTimeoutMs = options.checkTimeoutMs ?? HEALTH_MONITOR_DEFAULTS.checkTimeoutMs;
  // Rules are checked before anything opens: a bad file fails the start with every problem listed.
  const rules = givenRules ?? loadAlertRules();
  const kit = await createServiceKit({ ...kitOptions, migrationsDir: telemetryMigrationsDir });
  let selfTarget = `${kit.settings.host}:${kit.settings.port}`;
  const monitor = createHealthMonitor({
    targets: healthTargets(targets, checkTimeoutMs),
    history: createPgHealthHistory(kit.db),
    clock: kit.clock,
    checkTimeoutMs,
    retentionMs: historyRetentionMs,
    self: () => ({ service: 'telemetry', target: selfTarget }),
  });

  const engineServices = [...SERVICE_NAMES];
  // Keep only what the rules, the history and the degradation view read.
  const keep = new Set<string>([
    ...rules.flatMap((rule) => metricsOf(compileRule(rule, engineServices))),
    ...HISTORY_METRICS.flatMap((metric) => metricsOf(historyQueries(historyIntervalMs)[metric])),
    METRICS.breakerState,
    METRICS.degradationLevel,
    METRICS.processStart,
  ]);
  const longestWindow = Math.max(historyIntervalMs, ...rules.map((rule) => rule.windowMs ?? 0));
  const window = createSampleWindow({ retentionMs: longestWindow + 2 * pollIntervalMs, staleAfterMs: sampleStalenessMs, keep });
  const collector = createMetricsCollector({
    targets: [...scrapeTargets(targets), { service: 'telemetry', target: 'self', scrape: createRegistryScraper(kit.metrics) }],
    window,
    clock: kit.clock,
    scrapeTimeoutMs,
  });

  const notifier = alertWebhookUrl
    ? createWebhookNotifier({ url: alertWebhookUrl, db: kit.db, clock: kit.clock, random: kit.random, logger: kit.logger, attemptTimeoutMs: alertWebhookTimeoutMs, intervalMs: pollIntervalMs })
    : undefined;
  if (notifier) kit.addDependency('alert-webhook', notifier.policies);
  const alertStore = createPgAlertStore(kit.db, {
    outbox: kit.outbox,
    webhook: notifier !== undefined,
    onCommitted: () => {
      kit.relay.wake();
      notifier?.wake();
    },
  });
  const engine = createAlertEngine({ rules, services: engineServices, window, store: alertStore, clock: kit.clock, ids: kit.ids });
  const metricHistory = createPgMetricHistory(kit.db);
  const recorder = createHistoryRecorder({ window, store: metricHistory, clock: kit.clock, intervalMs: historyIntervalMs, retentionMs: historyRetentionMs });
  // One replica evaluates alerts and writes history; the lease outlives a few missed rounds.
  const lease = createPgLease(kit.db, 'alerting', kit.ids(), Math.max(3 * pollIntervalMs, 15_000));
  const logChanges = (changes: readonly AlertChange[]): void => {
    for (const { alert, transition } of changes) {
      if (transition === 'fired') kit.logger.warn({ alert: alert.rule, labels: alert.labels, value: alert.value, severity: alert.severity }, `alert fired: ${alert.summary}`);
      if (transition === 'resolved') kit.logger.info({ alert: alert.rule, labels: alert.labels }, `alert resolved: ${alert.summary}`);
    }
  };

  async function pollOnce(signal?: AbortSignal): Promise<readonly HealthCheckRecord[]> {
    const [records] = await Promise.all([monitor.pollOnce(signal), collector.collectOnce(signal)]);
    if (await lease.acquire(kit.clock.now(), signal)) {
      logChanges(await engine.evaluateOnce(signal));
      await recorder.recordOnce(signal);
      await alertStore.prune(new Date(kit.clock.now() - historyRetentionMs), signal);
    }
    return records;
  }

  kit.rpc.addService(
    GRPC_SERVICES.telemetry,
    pb.TelemetryServiceService,
    createTelemetryHandlers({
      monitor,
      metricsView: (service) => collector.view(service),
      alerts: alertStore,
      history: metricHistory,
      historyIntervalMs,
      now: () => kit.clock.now(),
    }),
  );
  const statusPage =
    statusPort === undefined
      ? undefined
      : createStatusPage({
          host: kit.settings.host,
          port: statusPort,
          sources: createTelemetryStatusSources({ monitor, services: SERVICE_NAMES, metricsView: (service) => collector.view(service), alerts: alertStore, history: metricHistory, clock: kit.clock }),
          clock: kit.clock,
          logger: kit.logger,
        });
  // Every round ends by pushing the new picture to open status pages; a failed round too, so
  // they say that telemetry cannot read its data.
  const pollAndPublish = async (signal?: AbortSignal): Promise<readonly HealthCheckRecord[]> => {
    try {
      return await pollOnce(signal);
    } finally {
      if (!signal?.aborted) statusPage?.publish();
    }
  };
  const poller = createHealthPoller({
    monitor: { pollOnce: pollAndPublish },
    intervalMs: pollIntervalMs,
    onError: (error) => kit.logger.warn({ err: error }, 'telemetry polling round failed'),
  });
  const workers: Worker[] = statusPage ? [statusPage] : [];
  if (notifier && autoPoll) workers.push(notifier);
  if (autoPoll) workers.push(poller);
  const running = await startServiceKit(kit, workers);
  selfTarget = `${kit.settings.host}:${running.port}`;
  return {
    name: running.name,
    port: running.port,
    adminPort: running.adminPort,
    stop: () => running.stop(),
    pollOnce: pollAndPublish,
    statusPort: statusPage?.port,
    deliverAlertsOnce: (signal) => notifier?.drainOnce(signal) ?? Promise.resolve(0),
  };
}
