import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '@jamey/core';
import { memory } from '@jamey/proto';
import { createRpcServer } from '@jamey/rpc';
import { createHealth, createLogger, createMetricsRegistry, startAdminServer } from '@jamey/telemetry';
import { GRPC_SERVICES } from '@jamey/topology';
import { afterEach, describe, expect, it } from 'vitest';
import { createGrpcHealthProbe } from './grpc-probe.js';
import { createHttpReadinessProbe } from './http-probe.js';

const logger = createLogger({ service: 'probe-test', level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function httpServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('createHttpReadinessProbe', () => {
  it('reads 200 as SERVING and 503 as NOT_SERVING naming the failing checks', async () => {
    const health = createHealth(systemClock);
    let dbUp = true;
    health.addCheck('database', async () => {
      if (!dbUp) throw new Error('connection refused');
    });
    const admin = await startAdminServer({ host: '127.0.0.1', port: 0, health, metrics: createMetricsRegistry('gw'), logger });
    cleanups.push(() => admin.close());
    const probe = createHttpReadinessProbe(`http://127.0.0.1:${admin.port}`);
    expect(await probe(AbortSignal.timeout(2000))).toEqual({ status: 'SERVING' });
    dbUp = false;
    expect(await probe(AbortSignal.timeout(2000))).toEqual({ status: 'NOT_SERVING', detail: 'not ready: database: connection refused' });
  });

  it('reads other statuses as UNKNOWN and a refused connection as UNREACHABLE', async () => {
    const base = await httpServer((_req, res) => res.writeHead(500).end('oops'));
    expect(await createHttpReadinessProbe(base)(AbortSignal.timeout(2000))).toEqual({ status: 'UNKNOWN', detail: 'readyz answered HTTP 500' });
    const closed = await httpServer(() => undefined);
    await cleanups.pop()!();
    expect(await createHttpReadinessProbe(closed)(AbortSignal.timeout(2000))).toEqual({
      status: 'UNREACHABLE',
      detail: 'fetch failed: ECONNREFUSED',
    });
  });

  it('gives up when its signal aborts', async () => {
    const base = await httpServer(() => undefined); // never answers
    const controller = new AbortController();
    const answer = createHttpReadinessProbe(base)(controller.signal);
    controller.abort(new Error('stopping'));
    await expect(answer).rejects.toThrow('stopping');
  });
});

describe('createGrpcHealthProbe', () => {
  it('asks for the fully qualified service and reports its status', async () => {
    const server = createRpcServer({ logger });
    const handlers = Object.fromEntries(Object.keys(memory.MemoryServiceService).map((k) => [k, () => Promise.reject(new Error('unused'))]));
    server.addService(GRPC_SERVICES.memory, memory.MemoryServiceService, handlers as never);
    const port = await server.listen('127.0.0.1', 0);
    cleanups.push(() => server.shutdown(0));
    const probe = createGrpcHealthProbe(`127.0.0.1:${port}`, GRPC_SERVICES.memory, 2000);
    expect((await probe(AbortSignal.timeout(2000))).status).toBe('NOT_SERVING');
    server.setServing(true);
    expect((await probe(AbortSignal.timeout(2000))).status).toBe('SERVING');
    expect((await createGrpcHealthProbe(`127.0.0.1:${port}`, GRPC_SERVICES.soul, 2000)(AbortSignal.timeout(2000))).status).toBe('SERVICE_UNKNOWN');
  });
});
