import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '@jamey/core';
import { openDatabase, type Database } from '@jamey/data';
import { createTestSchema, describeWithInfra, waitFor, type TestSchema } from '@jamey/data/testing';
import { createInProcessTransport } from '@jamey/events';
import { memory, soul, telemetry as pb } from '@jamey/proto';
import { createRpcClient, createRpcServer, type RpcServer } from '@jamey/rpc';
import { createHealth, createLogger, createMetricsRegistry, startAdminServer, type AdminServer } from '@jamey/telemetry';
import { GRPC_SERVICES } from '@jamey/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetryService, type RunningTelemetryService } from './service.js';

const logger = createLogger({ service: 'telemetry-test', level: 'silent' });

/** Handlers that answer UNIMPLEMENTED-ish errors: only the health service matters here. */
function stubHandlers(definition: object): never {
  return Object.fromEntries(
    Object.keys(definition).map((key) => [key, () => Promise.reject(new Error('not used in this test'))]),
  ) as never;
}

async function startGrpc(register: (server: RpcServer) => void, serving: boolean): Promise<{ address: string; server: RpcServer }> {
  const server = createRpcServer({ logger });
  register(server);
  const port = await server.listen('127.0.0.1', 0);
  server.setServing(serving);
  return { address: `127.0.0.1:${port}`, server };
}

/** A port nothing listens on: bound once to learn a free number, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function serviceTests(database: () => Promise<{ url: string; openReader: () => Promise<Database>; cleanup: () => Promise<void> }>): void {
  let memoryServer: Awaited<ReturnType<typeof startGrpc>>;
  let soulServer: Awaited<ReturnType<typeof startGrpc>>;
  let bareServer: Awaited<ReturnType<typeof startGrpc>>;
  let gatewayAdmin: AdminServer;
  let deadAddress: string;
  let running: RunningTelemetryService | undefined;
  let db: Awaited<ReturnType<typeof database>>;
  const transport = createInProcessTransport();
  let client: ReturnType<typeof createRpcClient<typeof pb.TelemetryServiceService>>;

  beforeAll(async () => {
    db = await database();
    memoryServer = await startGrpc((s) => s.addService(GRPC_SERVICES.memory, memory.MemoryServiceService, stubHandlers(memory.MemoryServiceService)), true);
    soulServer = await startGrpc((s) => s.addService(GRPC_SERVICES.soul, soul.SoulServiceService, stubHandlers(soul.SoulServiceService)), false);
    // Serves grpc.health.v1 but not the audit service: the health check answers NOT_FOUND.
    bareServer = await startGrpc(() => undefined, true);
    deadAddress = `127.0.0.1:${await closedPort()}`;
    gatewayAdmin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      health: createHealth(systemClock),
      metrics: createMetricsRegistry('gateway-test'),
      logger,
    });
    running = await startTelemetryService({
      settings: {
        name: 'telemetry',
        host: '127.0.0.1',
        port: 0,
        adminPort: 0,
        databaseUrl: db.url,
        databasePoolSize: 2,
        logLevel: 'silent',
        shutdownGraceMs: 1000,
      },
      transport,
      logger,
      autoPoll: false,
      checkTimeoutMs: 2000,
      targets: {
        grpc: { memory: memoryServer.address, consciousness: deadAddress, soul: soulServer.address, audit: bareServer.address },
        gatewayAdminUrl: `http://127.0.0.1:${gatewayAdmin.port}`,
      },
    });
    client = createRpcClient(pb.TelemetryServiceService, { dependency: 'telemetry', address: `127.0.0.1:${running.port}`, clock: systemClock });
  });

  afterAll(async () => {
    client?.close();
    await running?.stop();
    await transport.close();
    await Promise.all([memoryServer?.server.shutdown(0), soulServer?.server.shutdown(0), bareServer?.server.shutdown(0), gatewayAdmin?.close()]);
    await db?.cleanup();
  });

  it('reports every service as not checked yet before the first round', async () => {
    const health = await client.getSystemHealth({});
    expect(health.status).toBe(pb.HealthStatus.HEALTH_STATUS_DEGRADED);
    expect(health.services.map((s) => [s.service, s.status, s.detail])).toEqual([
      ['gateway', pb.HealthStatus.HEALTH_STATUS_DEGRADED, 'not checked yet'],
      ['memory', pb.HealthStatus.HEALTH_STATUS_DEGRADED, 'not checked yet'],
      ['consciousness', pb.HealthStatus.HEALTH_STATUS_DEGRADED, 'not checked yet'],
      ['soul', pb.HealthStatus.HEALTH_STATUS_DEGRADED, 'not checked yet'],
      ['audit', pb.HealthStatus.HEALTH_STATUS_DEGRADED, 'not checked yet'],
      ['telemetry', pb.HealthStatus.HEALTH_STATUS_SERVING, ''],
    ]);
    expect(health.services[1]!.checkTime).toBeUndefined();
  });

  it('polls every service and answers the latest status per service and the aggregate', async () => {
    const round = await running!.pollOnce();
    expect(Object.fromEntries(round.map((r) => [r.service, r.status]))).toEqual({
      gateway: 'SERVING',
      memory: 'SERVING',
      consciousness: 'UNREACHABLE',
      soul: 'NOT_SERVING',
      audit: 'SERVICE_UNKNOWN',
    });
    const health = await client.getSystemHealth({});
    expect(health.status).toBe(pb.HealthStatus.HEALTH_STATUS_DEGRADED);
    const byService = Object.fromEntries(health.services.map((s) => [s.service, s]));
    expect(byService['gateway']).toMatchObject({ status: pb.HealthStatus.HEALTH_STATUS_SERVING, detail: '', target: `http://127.0.0.1:${gatewayAdmin.port}/readyz` });
    expect(byService['memory']).toMatchObject({ status: pb.HealthStatus.HEALTH_STATUS_SERVING, detail: '', target: memoryServer.address });
    expect(byService['consciousness']).toMatchObject({ status: pb.HealthStatus.HEALTH_STATUS_DOWN, target: deadAddress });
    expect(byService['consciousness']!.detail).not.toBe('');
    expect(byService['soul']).toMatchObject({ status: pb.HealthStatus.HEALTH_STATUS_DEGRADED, detail: 'not serving' });
    expect(byService['audit']).toMatchObject({ status: pb.HealthStatus.HEALTH_STATUS_DEGRADED });
    expect(byService['telemetry']).toMatchObject({ status: pb.HealthStatus.HEALTH_STATUS_SERVING, target: `127.0.0.1:${running!.port}` });
    for (const service of health.services) {
      expect(service.checkTime).toBeInstanceOf(Date);
      expect(service.latencyMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('follows a service that changes state, and reports SERVING once all serve', async () => {
    soulServer.server.setServing(true);
    await running!.pollOnce();
    let health = await client.getSystemHealth({});
    expect(health.services.find((s) => s.service === 'soul')!.status).toBe(pb.HealthStatus.HEALTH_STATUS_SERVING);
    expect(health.status).toBe(pb.HealthStatus.HEALTH_STATUS_DEGRADED);

    memoryServer.server.setServing(false);
    soulServer.server.setServing(false);
    bareServer.server.setServing(false);
    await gatewayAdmin.close();
    await running!.pollOnce();
    health = await client.getSystemHealth({});
    expect(health.status).toBe(pb.HealthStatus.HEALTH_STATUS_DOWN);
    expect(health.services.find((s) => s.service === 'gateway')!.status).toBe(pb.HealthStatus.HEALTH_STATUS_DOWN);
  });

  it('keeps the history of every round in its database', async () => {
    await running!.stop();
    running = undefined;
    const reader = await db.openReader();
    try {
      const { rows } = await reader.query<{ service: string; n: string }>(
        'SELECT service, count(*) AS n FROM health_checks GROUP BY service ORDER BY service',
      );
      expect(rows.map((r) => [r.service, Number(r.n)])).toEqual([
        ['audit', 3],
        ['consciousness', 3],
        ['gateway', 3],
        ['memory', 3],
        ['soul', 3],
      ]);
    } finally {
      await reader.close();
    }
  });
}

describe('telemetry service with its background poller', () => {
  it('polls on its own once started and stops cleanly', async () => {
    const server = await startGrpc((s) => s.addService(GRPC_SERVICES.memory, memory.MemoryServiceService, stubHandlers(memory.MemoryServiceService)), true);
    const transport = createInProcessTransport();
    const running = await startTelemetryService({
      settings: { name: 'telemetry', host: '127.0.0.1', port: 0, adminPort: 0, databaseUrl: 'pglite://memory', databasePoolSize: 1, logLevel: 'silent', shutdownGraceMs: 1000 },
      transport,
      logger,
      pollIntervalMs: 60_000,
      checkTimeoutMs: 500,
      targets: {
        grpc: { memory: server.address, consciousness: server.address, soul: server.address, audit: server.address },
        gatewayAdminUrl: `http://127.0.0.1:${await closedPort()}`,
      },
    });
    const client = createRpcClient(pb.TelemetryServiceService, { dependency: 'telemetry', address: `127.0.0.1:${running.port}`, clock: systemClock });
    try {
      // The first round runs at start; wait for its result rather than for a timer.
      await waitFor(async () => (await client.getSystemHealth({})).services[1]?.checkTime !== undefined, { message: 'the first round' });
      const health = await client.getSystemHealth({});
      expect(health.services.map((s) => [s.service, s.status])).toEqual([
        ['gateway', pb.HealthStatus.HEALTH_STATUS_DOWN],
        ['memory', pb.HealthStatus.HEALTH_STATUS_SERVING],
        ['consciousness', pb.HealthStatus.HEALTH_STATUS_DEGRADED],
        ['soul', pb.HealthStatus.HEALTH_STATUS_DEGRADED],
        ['audit', pb.HealthStatus.HEALTH_STATUS_DEGRADED],
        ['telemetry', pb.HealthStatus.HEALTH_STATUS_SERVING],
      ]);
    } finally {
      client.close();
      await running.stop();
      await transport.close();
      await server.server.shutdown(0);
    }
  });
});

describe('telemetry service on PGlite', () => {
  serviceTests(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'telemetry-service-'));
    return {
      url: `pglite://${dir}`,
      openReader: () => openDatabase({ url: `pglite://${dir}` }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });
});

describeWithInfra(['TELEMETRY_DATABASE_URL'], 'telemetry service on Postgres', (env) => {
  serviceTests(async () => {
    const schema: TestSchema = await createTestSchema(env.TELEMETRY_DATABASE_URL!, 'telemetry_service');
    return { url: schema.url, openReader: () => openDatabase({ url: schema.url, poolSize: 1 }), cleanup: () => schema.drop() };
  });
});
