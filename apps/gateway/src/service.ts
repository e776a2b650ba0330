import { createRedisClient } from '@jamey/cache';
import { createIdGenerator, cryptoRandom, systemClock, type Clock, type RandomSource } from '@jamey/core';
import {
  catalog,
  createAccessMetrics,
  createAccessRecorder,
  createEventsMetrics,
  createOutbox,
  createOutboxRelay,
  type EventTransport,
  type RefusalBudget,
} from '@jamey/events';
import { createDegradationManager, type CircuitBreaker } from '@jamey/resilience';
import { checkHealth } from '@jamey/rpc';
import { createUserAuth, type RuntimeMode, type ServiceTokenMinter } from '@jamey/security';
import { openGuardedDatabase } from '@jamey/service';
import {
  createHealth,
  createLogger,
  createMetricsRegistry,
  createResilienceMetrics,
  createRpcMetrics,
  startAdminServer,
  type AdminServer,
  type Health,
  type Logger,
} from '@jamey/telemetry';
import { edgeReadiness, GRPC_SERVICES } from '@jamey/topology';
import { Counter } from 'prom-client';
import { closeGatewayClients, createGatewayClients, createGatewayPolicies, DOWNSTREAMS, type Downstream } from './clients.js';
import type { GatewayConfig } from './config.js';
import { buildGateway } from './server.js';
import { cacheVerifiedTokens } from './token-cache.js';
import { GATEWAY_VERSION } from './version.js';

/** How long start-up waits for Redis before serving without it (it connects in the background). */
const REDIS_STARTUP_WAIT_MS = 1_000;

/** Options for {@link startGateway}. */
export interface StartGatewayOptions {
  readonly config: GatewayConfig;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /**
   * The gateway's service-token minter (`createServiceAuth('gateway', …).minter`): each call to
   * a service carries a token from it. `main.ts` loads the keys from `JAMEY_SERVICE_*`, the
   * embedded host from its keyring.
   */
  readonly serviceTokens?: ServiceTokenMinter;
  /**
   * How Jamey runs, from the entry point: `embedded` (the host) may use the development key;
   * `main.ts` passes `infrastructure` or `kubernetes`, where development keys fail the start.
   */
  readonly mode: RuntimeMode;
  /** Where the development key lives (`JAMEY_DATA_DIR`); needed with `GATEWAY_AUTH_DEV_KEY`. */
  readonly dataDir?: string;
  /**
   * Where the outbox relay publishes `gateway.request_completed`: Kafka (`main.ts`) or the
   * embedded host's in-process bus. Owned by the caller, which closes it after `stop()`.
   */
  readonly transport: EventTransport;
  /** How many refused requests (401, 403, 429) are recorded one by one; default 20 at once, 5 a second. */
  readonly refusalBudget?: RefusalBudget;
  /** How often refusals over the budget are written as summary records, in ms. Default 10000. */
  readonly refusalSummaryIntervalMs?: number;
}

/** Longest an access record's write may hold up its response, in ms; then it counts as failed. */
const ACCESS_RECORD_TIMEOUT_MS = 2_000;

/** A listening gateway. */
export interface RunningGateway {
  /** The bound public HTTP port. */
  readonly port: number;
  /** The bound admin HTTP port. */
  readonly adminPort: number;
  /** Ordered, graceful shutdown (STYLE.md §10). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Adds one readiness check per downstream: its `grpc.health.v1` status for the service it
 * serves. Checks run in parallel, each bounded by its own timeout; a failing one says why.
 * Each is required or optional as its call-graph edge declares (`edgeReadiness`): today all are
 * optional, so a downstream outage shows in `/readyz` without taking the gateway out of rotation.
 */
export function addDownstreamReadinessChecks(health: Health, addresses: Readonly<Record<Downstream, string>>, timeoutMs: number): void {
  for (const name of DOWNSTREAMS) {
    const address = addresses[name];
    health.addCheck(
      name,
      async () => {
        const result = await checkHealth(address, GRPC_SERVICES[name], timeoutMs);
        if (result.status !== 'SERVING') {
          throw new Error(`${name} at ${address} is ${result.status}${result.detail ? `: ${result.detail}` : ''}`);
        }
      },
      // A little slack, so the health client's own deadline (with its reason) fires first.
      { timeoutMs: timeoutMs + 250, required: edgeReadiness({ from: 'gateway', to: name }) === 'required' },
    );
  }
}

/**
 * Starts the gateway: creates the downstream clients, binds the public API and the admin
 * server (/healthz, /readyz with every downstream's health, /metrics). Used by `main.ts` and
 * the embedded host.
 */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ service: 'gateway', level: config.logLevel });
  // First, so a bad key source (or a development key outside embedded mode) fails the start
  // before anything else is opened.
  const verifier = await createUserAuth(config.auth, {
    mode: options.mode,
    clock,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    onKeyError: (error) => logger.warn({ err: error }, 'a changed user token key file could not be used; the previous keys stay in force'),
  });
  const auth = cacheVerifiedTokens(verifier, { clock });
  const random = options.random ?? cryptoRandom;
  const metrics = createMetricsRegistry('gateway');
  // The outbox of the access records: the events library's tables only, no state of its own.
  // Behind a breaker: a Postgres outage fails each record at once instead of holding every
  // response for a timeout.
  const { db, breaker: databaseBreaker } = await openGuardedDatabase({
    url: config.databaseUrl,
    poolSize: config.databasePoolSize,
    logger,
    clock,
    random,
    metrics,
  });
  const eventsMetrics = createEventsMetrics(metrics, { onBacklogError: (error) => logger.debug({ err: error }, 'outbox backlog not counted') });
  const relay = createOutboxRelay({ db, transport: options.transport, logger, clock, onEvent: eventsMetrics.observe });
  eventsMetrics.trackOutboxBacklog((signal) => relay.backlog(signal));
  const outbox = createOutbox({ source: 'gateway', clock, ids: createIdGenerator(clock, random), messagingSystem: options.transport.system });
  const accessRecorder = createAccessRecorder({
    definition: catalog['gateway.request_completed'],
    db,
    outbox,
    clock,
    logger,
    metrics: createAccessMetrics(metrics),
    writeTimeoutMs: ACCESS_RECORD_TIMEOUT_MS,
    ...(options.refusalBudget ? { budget: options.refusalBudget } : {}),
    ...(options.refusalSummaryIntervalMs ? { summaryIntervalMs: options.refusalSummaryIntervalMs } : {}),
  });
  const recordsFailed = new Counter({
    name: 'jamey_gateway_access_records_failed_total',
    help: 'Requests answered without their access record, because it could not be written (the database is down or slow).',
    registers: [metrics],
  });
  const policies = createGatewayPolicies({ clock, random, retries: config.rpcRetries });
  const degradation = createDegradationManager({ clock });
  const resilienceMetrics = createResilienceMetrics(metrics);
  resilienceMetrics.observeDegradation(degradation);
  for (const name of DOWNSTREAMS) {
    degradation.watch(name, policies[name].breaker);
    resilienceMetrics.observe(name, policies[name]);
  }
  degradation.watch('postgres', databaseBreaker);
  resilienceMetrics.observe('postgres', { breaker: databaseBreaker });
  // Rate-limit counters shared by every replica; without REDIS_URL each replica counts alone.
  const redis = config.redisUrl
    ? createRedisClient({
        url: config.redisUrl,
        clock,
        random,
        logger,
        name: 'gateway',
        whenDown: 'rate limits are counted per replica until it is back',
      })
    : undefined;
  if (redis) {
    degradation.watch('redis', redis.policies.breaker);
    resilienceMetrics.observe('redis', redis.policies);
  }
  const rpcMetrics = createRpcMetrics(metrics);
  const clients = createGatewayClients({
    addresses: config.downstreams,
    clock,
    defaultTimeoutMs: config.downstreamTimeoutMs,
    policies,
    observer: rpcMetrics.client,
    logger,
    ...(options.serviceTokens ? { serviceTokens: options.serviceTokens } : {}),
  });
  const health = createHealth(clock, { metrics });
  addDownstreamReadinessChecks(health, config.downstreams, config.readinessTimeoutMs);
  // Optional, like the downstreams: without its database the gateway still answers (its
  // records are then counted as failed), so an outage shows here without taking it out of rotation.
  health.addCheck('database', (signal) => db.ping(signal), { required: false });
  const ping = options.transport.ping?.bind(options.transport);
  if (ping) health.addCheck('broker', (signal) => ping(signal), { required: false });
  const app = buildGateway({
    clients,
    clock,
    logger,
    downstreamTimeoutMs: config.downstreamTimeoutMs,
    bodyLimitBytes: config.bodyLimitBytes,
    version: GATEWAY_VERSION,
    rateLimit: { ...config.rateLimit, redis },
    auth,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    statusPageUrl: config.statusPageUrl,
    metrics,
    accessLog: { recorder: accessRecorder, onRecordFailed: () => recordsFailed.inc() },
    degradation: () => {
      const levels = degradation.levels();
      const view = (name: string, breaker: CircuitBreaker) => ({
        name,
        level: levels[name] ?? 'full',
        circuit: breaker.state,
        retryAfterMs: Math.ceil(breaker.retryAfterMs),
      });
      return {
        dependencies: [
          ...DOWNSTREAMS.map((name) => view(name, policies[name].breaker)),
          ...(redis ? [view('redis', redis.policies.breaker)] : []),
        ],
      };
    },
  });

  let admin: AdminServer | undefined;
  try {
    if (redis && !(await redis.ready(REDIS_STARTUP_WAIT_MS))) {
      logger.warn({ dependency: 'redis' }, 'redis is not reachable yet; counting rate limits per replica until it is');
    }
    relay.start();
    accessRecorder.start();
    await app.listen({ host: config.host, port: config.port });
    admin = await startAdminServer({ host: config.host, port: config.adminPort, health, metrics, logger });
  } catch (error) {
    await app.close();
    await admin?.close();
    closeGatewayClients(clients);
    await redis?.close();
    await accessRecorder.stop();
    await relay.stop();
    await db.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  logger.info({ port, adminPort: admin.port }, 'gateway serving');

  const adminServer = admin;
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    logger.info('gateway shutting down');
    // 1. Report not ready, so load balancers stop sending requests here.
    health.markShuttingDown();
    // 2–3. Stop accepting connections and drain in-flight requests (they still use the clients).
    await app.close();
    // 4. Every answered request's record is committed: write the refusal summaries, then let
    // the relay publish what is committed and stop.
    await accessRecorder.stop();
    try {
      await relay.drain(AbortSignal.timeout(config.shutdownGraceMs));
    } catch (error) {
      // Still committed: the next start publishes it.
      logger.warn({ err: error }, 'access records left unpublished in the outbox');
    }
    await relay.stop();
    // 5. Close the downstream channels, Redis and the database, then the admin server.
    closeGatewayClients(clients);
    await redis?.close();
    await db.close();
    await adminServer.close();
    logger.info('gateway stopped');
    // 6. Flush telemetry: pino writes synchronously to stdout; OpenTelemetry flushes in instrumentation.
    logger.flush();
  };
  return { port, adminPort: adminServer.port, stop: () => (stopping ??= stop()) };
}
