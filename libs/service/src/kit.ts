import {
  isJameyError,
  createIdGenerator,
  cryptoRandom,
  systemClock,
  type Clock,
  type IdGenerator,
  type RandomSource,
} from '@jamey/core';
import type { Database } from '@jamey/data';
import {
  createAccessMetrics,
  createEventsMetrics,
  createOutbox,
  createOutboxRelay,
  type EventTransport,
  type EventsObserver,
  type Outbox,
  type OutboxRelay,
} from '@jamey/events';
import { createDegradationManager, type DegradationManager } from '@jamey/resilience';
import { createRpcServer, type RefusalDetails, type RpcServer } from '@jamey/rpc';
import type { ServiceAuth } from '@jamey/security';
import type { GrpcServiceName } from '@jamey/topology';
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
  type Registry,
  type ObservedPolicies,
  type ResilienceMetrics,
  type RpcMetrics,
} from '@jamey/telemetry';
import { openGuardedDatabase } from './database.js';
import { addBrokerCheck, createDownstreamChecks, GRPC_HEALTH_READINESS_MAX_AGE_MS } from './readiness.js';
import { createRefusalRecorder, type RefusalBudget, type RefusalRecorder } from './refusals.js';
import type { ServiceSettings } from './settings.js';

/** Something a service starts after it listens and stops before its pools close. */
export interface Worker {
  start(): Promise<void> | void;
  stop(): Promise<void>;
}

/** Everything a Jamey gRPC service is built from. Created by {@link createServiceKit}. */
export interface ServiceKit {
  readonly settings: ServiceSettings;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly metrics: Registry;
  /**
   * gRPC RED metrics on {@link ServiceKit.metrics}. The server records into it already; pass
   * `observer: kit.rpcMetrics.client` to every `createRpcClient` the service makes.
   */
  readonly rpcMetrics: RpcMetrics;
  /** Records resilience policies' events on {@link ServiceKit.metrics}; one per registry. */
  readonly resilienceMetrics: ResilienceMetrics;
  /**
   * Degradation levels of the service's dependencies (`postgres` from the start), exported as
   * `jamey_degradation_level` on `/metrics`, where the telemetry service reads them.
   */
  readonly degradation: DegradationManager;
  /**
   * Registers a dependency's policies: their events become metrics (and span events) and the
   * breaker drives the dependency's degradation level. A downstream of the call graph also gets
   * a readiness check on its breaker, required or optional as its edge declares
   * (`edgeReadiness` in @jamey/topology). Returns a function that stops all of it.
   */
  addDependency(name: string, policies: ObservedPolicies): () => void;
  /**
   * Liveness and readiness: `database` (required), `broker` (optional: the outbox keeps events
   * while the broker is away) and one check per downstream breaker. `grpc.health.v1` follows it.
   */
  readonly health: Health;
  /** The service's database, behind a circuit breaker named `postgres`; its calls are timed. */
  readonly db: Database;
  readonly outbox: Outbox;
  readonly relay: OutboxRelay;
  readonly rpc: RpcServer;
  readonly transport: EventTransport;
  /**
   * Turns event observations into the Kafka metrics on {@link ServiceKit.metrics} (the relay's
   * already; the outbox backlog is counted at each scrape). Pass it as `onEvent` to every
   * event consumer the service creates.
   */
  readonly eventsObserver: EventsObserver;
  /**
   * The `serviceToken` option of a `createRpcClient` calling `callee`: mints (and caches) the
   * service token each call carries. Undefined when the kit was made without `serviceAuth`.
   */
  serviceToken(callee: GrpcServiceName): ((userSubject?: string) => Promise<string>) | undefined;
  /**
   * Records every call the server refuses (UNAUTHENTICATED, PERMISSION_DENIED) as a
   * `<service>.call_denied` access event through the outbox, within a flood budget. Undefined
   * when the kit was made without `serviceAuth` (nothing is refused then).
   */
  readonly refusals: RefusalRecorder | undefined;
}

/** Options for {@link createServiceKit}. */
export interface ServiceKitOptions {
  readonly settings: ServiceSettings;
  /** Kafka, or the in-process bus in embedded mode. Owned by the caller, which closes it. */
  readonly transport: EventTransport;
  /** The service's own SQL migrations. */
  readonly migrationsDir: string;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly logger?: Logger;
  /**
   * The service's token minter and verifier (`createServiceAuth`). With it, the gRPC server
   * refuses every call without a valid service token from an allowed caller before any handler
   * runs, and {@link ServiceKit.serviceToken} gives clients their tokens. Every process passes
   * it (`main.ts` from `JAMEY_SERVICE_*` keys, the embedded host from its keyring); only tests
   * of a single service leave it out.
   */
  readonly serviceAuth?: ServiceAuth;
  /** How many refused calls are recorded one by one (see `createRefusalRecorder`). Default 20 at once, 5 a second. */
  readonly refusalBudget?: RefusalBudget;
  /** How often refusals over the budget are written as summary records, in ms. Default 10000. */
  readonly refusalSummaryIntervalMs?: number;
}

/**
 * Opens the service's database, runs the event library's and the service's migrations, and
 * creates its outbox, relay, gRPC server, health and metrics. Nothing listens yet.
 */
export async function createServiceKit(options: ServiceKitOptions): Promise<ServiceKit> {
  const { settings, transport } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const logger = options.logger ?? createLogger({ service: settings.name, level: settings.logLevel });
  const metrics = createMetricsRegistry(settings.name);
  // Postgres outages fail fast instead of every call waiting for a connection timeout.
  const { db, breaker: databaseBreaker } = await openGuardedDatabase({
    url: settings.databaseUrl,
    poolSize: settings.databasePoolSize,
    logger,
    clock,
    random,
    metrics,
    migrations: [{ dir: options.migrationsDir, table: `${settings.name}_migrations` }],
  });
  const rpcMetrics = createRpcMetrics(metrics);
  const resilienceMetrics = createResilienceMetrics(metrics);
  const degradation = createDegradationManager({ clock });
  resilienceMetrics.observeDegradation(degradation);
  const health = createHealth(clock, { metrics });
  health.addCheck('database', (signal) => db.ping(signal));
  addBrokerCheck(health, transport);
  const downstreamChecks = createDownstreamChecks(health, settings.name);
  const addDependency = (name: string, policies: ObservedPolicies): (() => void) => {
    const stops = [
      resilienceMetrics.observe(name, policies),
      degradation.watch(name, policies.breaker),
      downstreamChecks.watch(name, policies.breaker),
    ];
    return () => {
      for (const stop of stops) stop();
    };
  };
  addDependency('postgres', { breaker: databaseBreaker });
  const ids = createIdGenerator(clock, random);
  const eventsMetrics = createEventsMetrics(metrics, { onBacklogError: (error) => logger.debug({ err: error }, 'outbox backlog not counted') });
  const relay = createOutboxRelay({ db, transport, logger, clock, onEvent: eventsMetrics.observe });
  eventsMetrics.trackOutboxBacklog((signal) => relay.backlog(signal));
  const outbox = createOutbox({ source: settings.name, clock, ids, messagingSystem: transport.system });
  const refusals = options.serviceAuth?.verifier
    ? createRefusalRecorder({
        service: settings.name,
        db,
        outbox,
        clock,
        logger,
        metrics: createAccessMetrics(metrics),
        ...(options.refusalBudget ? { budget: options.refusalBudget } : {}),
        ...(options.refusalSummaryIntervalMs ? { summaryIntervalMs: options.refusalSummaryIntervalMs } : {}),
      })
    : undefined;
  return {
    settings,
    clock,
    random,
    ids,
    logger,
    metrics,
    rpcMetrics,
    resilienceMetrics,
    degradation,
    addDependency,
    health,
    db,
    outbox,
    relay,
    refusals,
    eventsObserver: eventsMetrics.observe,
    serviceToken: (callee) => {
      const minter = options.serviceAuth?.minter;
      return minter === undefined ? undefined : (userSubject) => minter.mint(callee, userSubject);
    },
    rpc: createRpcServer({
      logger,
      clock,
      observer: rpcMetrics.server,
      ...(options.serviceAuth?.verifier
        ? {
            authenticate: options.serviceAuth.verifier,
            // Never the token: the error's message is a fixed sentence per reason.
            onRefused: (method: string, error: unknown, details: RefusalDetails) => {
              // A flood is logged within the same budget as its audit records; the folded rest
              // shows in the summary record and jamey_security_refusals_total.
              if (refusals?.record({ method, error, details }) === 'folded') return;
              logger.warn({ method, code: isJameyError(error) ? error.code : 'UNAUTHENTICATED', reason: (error as { reason?: unknown }).reason, peer: details.peer, err: isJameyError(error) ? undefined : error }, 'service call refused');
            },
          }
        : {}),
      readiness: async () => (await health.readiness({ maxAgeMs: GRPC_HEALTH_READINESS_MAX_AGE_MS })).ready,
    }),
    transport,
  };
}

/** A service that is listening. */
export interface RunningService {
  readonly name: string;
  /** The bound gRPC port. */
  readonly port: number;
  /** The bound admin HTTP port. */
  readonly adminPort: number;
  /** Ordered, graceful shutdown (STYLE.md §10). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a kit: binds gRPC and admin ports, starts the given workers (event consumers,
 * pollers) and then the outbox relay, then reports SERVING.
 */
export async function startServiceKit(kit: ServiceKit, workers: readonly Worker[] = []): Promise<RunningService> {
  const { settings, logger } = kit;
  const port = await kit.rpc.listen(settings.host, settings.port);
  let admin: AdminServer | undefined;
  try {
    admin = await startAdminServer({ host: settings.host, port: settings.adminPort, health: kit.health, metrics: kit.metrics, logger });
    // Consumers subscribe before this service's relay publishes anything, so the in-process
    // bus never drops an event of the service's own topic (audit reads its own call_denied
    // records) for want of a subscriber; Kafka keeps them anyway.
    for (const worker of workers) await worker.start();
    kit.relay.start();
    kit.refusals?.start();
  } catch (error) {
    await kit.rpc.shutdown(0);
    await kit.refusals?.stop();
    await admin?.close();
    await kit.relay.stop();
    await kit.db.close();
    throw error;
  }
  kit.rpc.setServing(true);
  logger.info({ port, adminPort: admin.port }, `${settings.name} serving`);
  let stopping: Promise<void> | undefined;
  const adminServer = admin;
  return {
    name: settings.name,
    port,
    adminPort: admin.port,
    stop: () => (stopping ??= stopKit(kit, workers, adminServer)),
  };
}

async function stopKit(kit: ServiceKit, workers: readonly Worker[], admin: AdminServer): Promise<void> {
  const { logger, settings } = kit;
  logger.info(`${settings.name} shutting down`);
  // 1. Report NOT_SERVING so load balancers and telemetry stop sending work here.
  kit.rpc.setServing(false);
  kit.health.markShuttingDown();
  // 2–3. Stop accepting calls and drain in-flight ones; force-close after the grace period.
  await kit.rpc.shutdown(settings.shutdownGraceMs);
  // 4. Stop consumers and pollers, then the relay (which publishes what is already committed).
  for (const worker of [...workers].reverse()) await worker.stop();
  // The server refuses nothing more: write the refusal summaries, so the relay publishes them.
  await kit.refusals?.stop();
  await kit.relay.stop();
  // 5. Close pools.
  await kit.db.close();
  await admin.close();
  logger.info(`${settings.name} stopped`);
  // 6. Flush telemetry: pino writes synchronously to stdout. OpenTelemetry is flushed once per
  // process, after every service in it stopped: `stopOnSignals` (or the host's main) calls
  // `shutdownTelemetry()`.
  logger.flush();
}
