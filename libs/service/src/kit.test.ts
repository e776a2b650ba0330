/**
 * The kit's health and metrics: readiness follows the database (over /readyz and grpc.health.v1
 * alike), the broker and downstream breakers are reported without taking the service out, the
 * service goes NOT_SERVING before it drains, and /metrics carries every family a service owes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, makeGenericClientConstructor, Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSeededRandom, systemClock } from '@jamey/core';
import { createTestSchema, describeWithInfra, waitFor, type TestSchema } from '@jamey/data/testing';
import { createInProcessTransport, createKafkaTransport, type EventTransport } from '@jamey/events';
import { checkHealth, createEdgePolicies } from '@jamey/rpc';
import { createLogger } from '@jamey/telemetry';
import { highCardinalityLabels, missingMetricFamilies, requiredMetricFamilies, scrapeMetrics } from '@jamey/telemetry/testing';
import { edgePolicy, type GrpcServiceName } from '@jamey/topology';
import { createServiceKit, startServiceKit, type RunningService, type ServiceKit } from './index.js';

// One small migration of the test's own, beside the event library's that the kit always runs.
const MIGRATIONS = fileURLToPath(new URL('./__fixtures__/migrations', import.meta.url));
const silentLogger = createLogger({ service: 'test', level: 'silent' });

function settings(name: GrpcServiceName, databaseUrl: string) {
  return {
    name,
    host: '127.0.0.1',
    port: 0,
    adminPort: 0,
    databaseUrl,
    databasePoolSize: 2,
    logLevel: 'silent' as const,
    shutdownGraceMs: 5_000,
  };
}

interface Readiness {
  status: string;
  checks: { name: string; ok: boolean; required: boolean; error?: string }[];
}

async function readyz(running: RunningService): Promise<{ status: number; body: Readiness }> {
  const response = await fetch(`http://127.0.0.1:${running.adminPort}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness };
}

const grpcStatus = async (running: RunningService, service = ''): Promise<string> =>
  (await checkHealth(`127.0.0.1:${running.port}`, service, 2000)).status;

/** A TCP proxy in front of Postgres that the test can take down and bring back on the same port. */
async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let listening = false;
  const up = async (): Promise<void> => {
    if (listening) return;
    listening = true;
    server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      client.pipe(upstream).pipe(client);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      }
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  await up();
  return {
    get port() {
      return port;
    },
    up,
    async down(): Promise<void> {
      listening = false;
      const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closing;
    },
  };
}

const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');

describeWithInfra(['MEMORY_DATABASE_URL'], 'service kit readiness on real Postgres', (env) => {
  let schema: TestSchema;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let kit: ServiceKit;
  let running: RunningService;
  let transport: EventTransport;

  beforeAll(async () => {
    schema = await createTestSchema(env['MEMORY_DATABASE_URL']!, 'kit_health');
    const url = new URL(schema.url);
    proxy = await startProxy({ host: url.hostname, port: Number(url.port) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    transport = createInProcessTransport();
    kit = await createServiceKit({ settings: settings('memory', url.toString()), transport, migrationsDir: MIGRATIONS, logger: silentLogger });
    running = await startServiceKit(kit);
  });
  afterAll(async () => {
    await proxy?.up();
    await running?.stop();
    await transport?.close();
    await schema?.drop();
  });

  it('is ready and SERVING with its database, and neither while the database is unreachable; both come back with it', async () => {
    expect((await readyz(running)).status).toBe(200);
    expect(await grpcStatus(running)).toBe('SERVING');

    await proxy.down();
    const down = await readyz(running);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('not ready');
    expect(down.body.checks.find((c) => c.name === 'database')).toMatchObject({ ok: false, required: true });
    // grpc.health.v1 answers from a readiness report at most a second old.
    await waitFor(async () => (await grpcStatus(running)) === 'NOT_SERVING', { timeoutMs: 5_000, message: 'NOT_SERVING over gRPC' });
    expect(await grpcStatus(running, '')).toBe('NOT_SERVING');
    const metrics = await scrapeMetrics(`http://127.0.0.1:${running.adminPort}/metrics`);
    expect(metrics.get('jamey_readiness_check_up')?.samples.find((s) => s.labels['check'] === 'database')?.value).toBe(0);

    await proxy.up();
    await waitFor(async () => (await readyz(running)).status === 200, { timeoutMs: 10_000, message: 'ready again' });
    await waitFor(async () => (await grpcStatus(running)) === 'SERVING', { timeoutMs: 5_000, message: 'SERVING again over gRPC' });
  });

  it('answers a burst of health checks with at most one database ping a second', async () => {
    const before = (await scrapeMetrics(`http://127.0.0.1:${running.adminPort}/metrics`)).get('jamey_db_pool_connections');
    expect(before?.samples.map((s) => s.labels['state']).sort()).toEqual(['idle', 'total', 'waiting']);
    // Fifty concurrent Checks share one readiness run: the pool never queues for them.
    const statuses = await Promise.all(Array.from({ length: 50 }, () => grpcStatus(running)));
    expect(new Set(statuses)).toEqual(new Set(['SERVING']));
    const after = (await scrapeMetrics(`http://127.0.0.1:${running.adminPort}/metrics`)).get('jamey_db_pool_connections');
    expect(after?.samples.find((s) => s.labels['state'] === 'total')?.value).toBeLessThanOrEqual(2);
  });
});

describe('service kit on PGlite', () => {
  let dir: string;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jamey-kit-'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function startKit(name: GrpcServiceName, transport: EventTransport = createInProcessTransport()) {
    const kit = await createServiceKit({
      settings: settings(name, `pglite://${join(dir, `${name}-${Date.now()}`)}`),
      transport,
      migrationsDir: MIGRATIONS,
      logger: silentLogger,
    });
    return { kit, transport };
  }
  async function start(kit: ServiceKit, transport: EventTransport): Promise<RunningService> {
    const running = await startServiceKit(kit);
    cleanups.push(async () => {
      await running.stop();
      await transport.close();
    });
    return running;
  }

  it('exposes every family a database-owning gRPC service owes, with bounded labels', async () => {
    const { kit, transport } = await startKit('memory');
    const running = await start(kit, transport);
    await readyz(running); // readiness has run at least once, as any probe makes it
    expect(await grpcStatus(running)).toBe('SERVING'); // one served call
    await kit.db.query('SELECT 1');
    const metrics = await scrapeMetrics(`http://127.0.0.1:${running.adminPort}/metrics`);
    // Kafka and outbox families come from the events wiring; this checks the ones the kit owns.
    const required = requiredMetricFamilies({ rpcServer: true, database: true }, { traffic: true }).filter(
      (f) => !f.name.startsWith('jamey_outbox_') && !f.name.startsWith('jamey_kafka_'),
    );
    expect(missingMetricFamilies(metrics, required)).toEqual([]);
    expect(highCardinalityLabels(metrics)).toEqual([]);
    const pool = Object.fromEntries(metrics.get('jamey_db_pool_connections')!.samples.map((s) => [s.labels['state'], s.value]));
    expect(pool.total).toBe(1);
    expect(metrics.get('rpc_server_call_duration_seconds')!.samples.some((s) => s.labels['method'] === '/grpc.health.v1.Health/Check')).toBe(true);
    expect(metrics.get('jamey_db_query_duration_seconds')!.samples.some((s) => s.labels['operation'] === 'query' && s.name.endsWith('_count') && s.value >= 1)).toBe(true);
  });

  it('stays ready and SERVING, degraded, while the broker is unreachable or a downstream breaker is open', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const { port } = dead.address() as AddressInfo;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const kafka = createKafkaTransport({ brokers: [`127.0.0.1:${port}`], clientId: 'kit-test', logger: silentLogger, connectTimeoutMs: 300 });
    const { kit } = await startKit('consciousness', kafka);
    const policies = createEdgePolicies({
      dependency: 'memory',
      policy: edgePolicy({ from: 'consciousness', to: 'memory' }),
      clock: systemClock,
      random: createSeededRandom(1),
    });
    kit.addDependency('memory', policies);
    const running = await start(kit, kafka);
    const isolation = policies.breaker.isolate();

    const { status, body } = await readyz(running);
    expect(status).toBe(200);
    expect(body.status).toBe('degraded');
    const byName = Object.fromEntries(body.checks.map((c) => [c.name, c]));
    expect(byName['database']).toMatchObject({ ok: true, required: true });
    expect(byName['broker']).toMatchObject({ ok: false, required: false });
    expect(byName['broker']?.error).toMatch(/kafka is unavailable/);
    expect(byName['memory']).toMatchObject({ ok: false, required: false });
    expect(byName['memory']?.error).toMatch(/^memory circuit is isolated/);
    expect(await grpcStatus(running)).toBe('SERVING');
    isolation.release();
    const after = await readyz(running);
    expect(after.body.checks.find((c) => c.name === 'memory')).toMatchObject({ ok: true });
  });

  it('reports NOT_SERVING to watchers and fails /readyz before it stops serving, while in-flight work drains', async () => {
    const { kit, transport } = await startKit('soul');
    let release: () => void = () => undefined;
    let entered: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    // A worker whose stop waits for the test: the service is then mid-shutdown, admin still up.
    const running = await startServiceKit(kit, [
      {
        start() {},
        stop: () =>
          new Promise<void>((resolve) => {
            entered();
            release = resolve;
          }),
      },
    ]);
    const client = new HealthClient(`127.0.0.1:${running.port}`, credentials.createInsecure());
    const statuses: string[] = [];
    let ended = false;
    const stream = client.makeServerStreamRequest(
      '/grpc.health.v1.Health/Watch',
      healthService['Watch']!.requestSerialize,
      healthService['Watch']!.responseDeserialize,
      { service: '' },
      new Metadata(),
      {},
    ) as ClientReadableStream<{ status: string }>;
    stream.on('data', (m) => statuses.push(m.status));
    stream.on('error', () => undefined);
    stream.on('close', () => (ended = true));
    await expect.poll(() => statuses).toEqual(['SERVING']);

    const stopping = running.stop();
    await inFlight;
    // Mid-shutdown: watchers were told, the stream is over, and readiness says why.
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    await expect.poll(() => ended).toBe(true);
    const midway = await readyz(running);
    expect(midway.status).toBe(503);
    expect(midway.body.checks).toEqual([expect.objectContaining({ name: 'shutdown', ok: false })]);
    expect((await fetch(`http://127.0.0.1:${running.adminPort}/healthz`)).status).toBe(200);
    release();
    await stopping;
    client.close();
    await transport.close();
  });
});
