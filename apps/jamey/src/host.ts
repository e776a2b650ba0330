import { join } from 'node:path';
import { loadAuditSigningKey, startAuditService } from '@jamey/audit';
import { startConsciousnessService } from '@jamey/consciousness';
import { createInProcessTransport } from '@jamey/events';
import { startGateway } from '@jamey/gateway';
import { startMemoryService } from '@jamey/memory';
import { createServiceAuth, generateServiceKeyring, type ServiceAuth } from '@jamey/security';
import { startSoulService } from '@jamey/soul';
import { createLogger, type Logger } from '@jamey/telemetry';
import { startTelemetryService } from '@jamey/telemetry-service';
import { eventSubscriptions, SERVICE_NAMES, type ServiceName } from '@jamey/topology';
import type { HostConfig } from './config.js';

/** The embedded audit log's origin (its checkpoints' first line). */
const AUDIT_LOG_ORIGIN = 'jamey.io/audit';

/** All six services running in this process. */
export interface RunningHost {
  readonly gatewayUrl: string;
  /** The telemetry status page. */
  readonly statusUrl: string;
  /** Stops the services in reverse start order, then the bus. Safe to call twice. */
  stop(): Promise<void>;
}

interface Stoppable {
  readonly name: string;
  stop(): Promise<void>;
}

/**
 * Starts Jamey in one process: every service keeps its own PGlite database and real gRPC
 * server on loopback, and events travel through the in-process bus, fed by each outbox.
 *
 * The bus knows every consumer group from the topology, and a relay's send waits until each
 * of them has handled the message, so nothing is skipped while a consumer starts. Audit, the
 * consumer of every topic, still starts first so no relay waits on it; callees start before
 * their callers.
 */
export async function startHost(config: HostConfig, logger: Logger = createLogger({ service: 'jamey', level: config.gateway.logLevel })): Promise<RunningHost> {
  // One logger per service, so every line says which service wrote it.
  const serviceLogger = (name: string): Logger => createLogger({ service: name, level: logger.level as HostConfig['gateway']['logLevel'] });
  // Declared groups are waited for: an event is not published until every group that consumes
  // its topic has handled it, even while that group's service is still starting.
  const transport = createInProcessTransport({ durableGroups: eventSubscriptions(), logger: serviceLogger('bus') });
  const started: Stoppable[] = [];
  // Service tokens as in every other mode: one key pair per service, generated for this run and
  // never written anywhere; every service trusts the set of public keys.
  const keyring = await generateServiceKeyring();
  const auth = Object.fromEntries(
    await Promise.all(SERVICE_NAMES.map(async (name) => [name, await createServiceAuth(name, { keyring })] as const)),
  ) as Record<ServiceName, ServiceAuth>;
  const common = (name: keyof HostConfig['services']) => ({ settings: config.services[name], transport, logger: serviceLogger(name), serviceAuth: auth[name] });

  const stopAll = async (): Promise<void> => {
    for (const service of [...started].reverse()) {
      try {
        await service.stop();
      } catch (error) {
        logger.error({ err: error, service: service.name }, 'service failed to stop cleanly');
      }
    }
    await transport.close();
  };

  try {
    // The audit log's tree-head key is generated once under the data folder (0600) and kept.
    const auditKey = await loadAuditSigningKey({ generateIn: join(config.dataDir, 'audit') }, AUDIT_LOG_ORIGIN);
    started.push(await startAuditService({ ...common('audit'), treeHeads: { key: auditKey, origin: AUDIT_LOG_ORIGIN, intervalMs: 10_000 } }));
    started.push(await startMemoryService(common('memory')));
    started.push(await startSoulService(common('soul')));
    started.push(
      await startConsciousnessService({
        ...common('consciousness'),
        memoryAddress: config.addresses.memory,
        soulAddress: config.addresses.soul,
      }),
    );
    const telemetry = await startTelemetryService({
      ...common('telemetry'),
      statusPort: config.statusPort,
      targets: {
        grpc: {
          memory: config.addresses.memory,
          consciousness: config.addresses.consciousness,
          soul: config.addresses.soul,
          audit: config.addresses.audit,
        },
        gatewayAdminUrl: `http://127.0.0.1:${config.gateway.adminPort}`,
        // Each service's admin server, whose /metrics telemetry scrapes.
        adminUrls: {
          memory: `http://127.0.0.1:${config.services.memory.adminPort}`,
          consciousness: `http://127.0.0.1:${config.services.consciousness.adminPort}`,
          soul: `http://127.0.0.1:${config.services.soul.adminPort}`,
          audit: `http://127.0.0.1:${config.services.audit.adminPort}`,
        },
      },
    });
    started.push(telemetry);
    // Embedded mode: the only one where the gateway may trust the development key.
    const gateway = await startGateway({
      config: config.gateway,
      logger: serviceLogger('gateway'),
      serviceTokens: auth.gateway.minter,
      mode: 'embedded',
      dataDir: config.dataDir,
      // Its access records reach audit on the bus, like every service's events.
      transport,
    });
    started.push({ name: 'gateway', stop: () => gateway.stop() });
    let stopping: Promise<void> | undefined;
    return {
      gatewayUrl: `http://127.0.0.1:${gateway.port}`,
      statusUrl: `http://127.0.0.1:${telemetry.statusPort}/`,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
