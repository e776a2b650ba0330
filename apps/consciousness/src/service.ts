import { fileURLToPath } from 'node:url';
import { createPeriodicTask } from '@jamey/core';
import { createMutex } from '@jamey/data';
import { consciousness as pb, memory as memoryPb, soul as soulPb } from '@jamey/proto';
import { createEdgePolicies, createRpcClient } from '@jamey/rpc';
import {
  createServiceKit,
  startServiceKit,
  type RunningService,
  type ServiceKitOptions,
  type Worker,
} from '@jamey/service';
import { edgePolicy, GRPC_SERVICES } from '@jamey/topology';
import { Gauge } from 'prom-client';
import { createConsciousnessHandlers } from './adapters/grpc/consciousness-handlers.js';
import { createGrpcMemoryRecall, createGrpcTrustLookup } from './adapters/grpc/dependency-clients.js';
import { createPgWorkspaceRepository } from './adapters/pg/workspace-repository.js';
import { createConsciousnessService, WORKSPACE_STREAM } from './domain/consciousness-service.js';

/** The service's SQL migrations, beside `src/` and `dist/`. */
export const consciousnessMigrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));

/** Options of {@link startConsciousnessService}. */
export interface ConsciousnessServiceOptions extends Omit<ServiceKitOptions, 'migrationsDir'> {
  /** host:port of memory's gRPC server. */
  readonly memoryAddress: string;
  /** host:port of soul's gRPC server. */
  readonly soulAddress: string;
  /** Most time a perception waits for memory and soul, in milliseconds. Default 1500. */
  readonly dependencyBudgetMs?: number;
  /** Whether calls to memory and soul are retried here (`JAMEY_RPC_RETRIES`). Default true. */
  readonly rpcRetries?: boolean;
  /** How often Φ is estimated for `jamey_consciousness_phi_bits`, in milliseconds. Default 10000. */
  readonly phiIntervalMs?: number;
}

const withToken = (serviceToken: ((userSubject?: string) => Promise<string>) | undefined) => (serviceToken ? { serviceToken } : {});

/** Builds the consciousness service on a kit and starts it. Used by `main.ts` and the embedded host. */
export async function startConsciousnessService(options: ConsciousnessServiceOptions): Promise<RunningService> {
  const { memoryAddress, soulAddress, dependencyBudgetMs = 1500, rpcRetries = true, phiIntervalMs = 10_000, ...kitOptions } = options;
  const kit = await createServiceKit({ ...kitOptions, migrationsDir: consciousnessMigrationsDir });
  const clientOptions = { clock: kit.clock, defaultTimeoutMs: dependencyBudgetMs, observer: kit.rpcMetrics.client, logger: kit.logger };
  // Each edge's breaker, bulkhead, retries and timeouts come from the one policy table.
  const policiesFor = (to: 'memory' | 'soul') =>
    createEdgePolicies({ dependency: to, policy: edgePolicy({ from: 'consciousness', to }), clock: kit.clock, random: kit.random, retries: rpcRetries });
  const memoryPolicies = policiesFor('memory');
  const soulPolicies = policiesFor('soul');
  kit.addDependency('memory', memoryPolicies);
  kit.addDependency('soul', soulPolicies);
  const memoryClient = createRpcClient(memoryPb.MemoryServiceService, {
    ...clientOptions,
    dependency: 'memory',
    address: memoryAddress,
    policies: memoryPolicies,
    ...withToken(kit.serviceToken('memory')),
  });
  const soulClient = createRpcClient(soulPb.SoulServiceService, {
    ...clientOptions,
    dependency: 'soul',
    address: soulAddress,
    policies: soulPolicies,
    ...withToken(kit.serviceToken('soul')),
  });
  // Stopped after the gRPC server has drained, so no in-flight perception loses its channels.
  const clients: Worker = {
    start() {},
    async stop() {
      memoryClient.close();
      soulClient.close();
    },
  };
  const service = createConsciousnessService({
    db: kit.db,
    repository: createPgWorkspaceRepository(kit.db),
    memory: createGrpcMemoryRecall(memoryClient),
    trust: createGrpcTrustLookup(soulClient),
    outbox: kit.outbox,
    clock: kit.clock,
    ids: kit.ids,
    logger: kit.logger,
    writeLock: createMutex(),
    dependencyBudgetMs,
    onEventsCommitted: () => kit.relay.wake(),
  });
  kit.rpc.addService(GRPC_SERVICES.consciousness, pb.ConsciousnessServiceService, createConsciousnessHandlers(service));
  // Labelled by stream so that the series is absent, not 0, while Φ cannot be estimated.
  const phiGauge = new Gauge({
    name: 'jamey_consciousness_phi_bits',
    help: "Integrated information Φ of the global workspace's recent activity, in bits (docs/consciousness-phi.md); absent while it cannot be estimated",
    labelNames: ['stream'],
    registers: [kit.metrics],
  });
  const phiMonitor = createPeriodicTask({
    intervalMs: phiIntervalMs,
    onError: (err) => kit.logger.warn({ err }, 'could not estimate Φ; trying again at the next interval'),
    async run(signal) {
      const { estimate } = await service.integration(signal);
      if (estimate.defined) phiGauge.set({ stream: WORKSPACE_STREAM }, estimate.phiBits);
      else phiGauge.remove({ stream: WORKSPACE_STREAM });
    },
  });
  try {
    return await startServiceKit(kit, [clients, phiMonitor]);
  } catch (error) {
    await clients.stop();
    throw error;
  }
}
