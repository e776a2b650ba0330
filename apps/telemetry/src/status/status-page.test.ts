import { createInProcessTransport } from '@jamey/events';
import { memory } from '@jamey/proto';
import { createRpcServer, type RpcServer } from '@jamey/rpc';
import { createLogger } from '@jamey/telemetry';
import { GRPC_SERVICES } from '@jamey/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetryService, type RunningTelemetryService } from '../service.js';
import { openEventStream } from '../testing/event-stream.js';
import type { StatusSnapshotJson } from './snapshot.js';

const logger = createLogger({ service: 'status-page-test', level: 'silent' });

describe('the telemetry service serves its status page', () => {
  let memoryServer: RpcServer;
  let running: RunningTelemetryService;
  let url: string;
  const transport = createInProcessTransport();

  beforeAll(async () => {
    memoryServer = createRpcServer({ logger });
    const handlers = Object.fromEntries(Object.keys(memory.MemoryServiceService).map((key) => [key, () => Promise.reject(new Error('unused'))]));
    memoryServer.addService(GRPC_SERVICES.memory, memory.MemoryServiceService, handlers as never);
    const memoryAddress = `127.0.0.1:${await memoryServer.listen('127.0.0.1', 0)}`;
    memoryServer.setServing(true);
    running = await startTelemetryService({
      settings: { name: 'telemetry', host: '127.0.0.1', port: 0, adminPort: 0, databaseUrl: 'pglite://memory', databasePoolSize: 1, logLevel: 'silent', shutdownGraceMs: 1000 },
      transport,
      logger,
      autoPoll: false,
      checkTimeoutMs: 1000,
      statusPort: 0,
      targets: {
        grpc: { memory: memoryAddress, consciousness: memoryAddress, soul: memoryAddress, audit: memoryAddress },
        // Nothing listens on port 9 (discard) on loopback: the gateway check fails fast.
        gatewayAdminUrl: 'http://127.0.0.1:9',
      },
    });
    url = `http://127.0.0.1:${running.statusPort}`;
  });

  afterAll(async () => {
    await running?.stop();
    await transport.close();
    await memoryServer?.shutdown(0);
  });

  it('answers the page and a JSON snapshot of what the health monitor knows', async () => {
    expect(running.statusPort).toBeGreaterThan(0);
    expect((await fetch(url)).headers.get('content-type')).toBe('text/html; charset=utf-8');
    const snapshot = (await (await fetch(`${url}/api/status`)).json()) as StatusSnapshotJson;
    expect(snapshot.services.map((s) => [s.service, s.status, s.detail])).toEqual([
      ['gateway', 'DEGRADED', 'not checked yet'],
      ['memory', 'DEGRADED', 'not checked yet'],
      ['consciousness', 'DEGRADED', 'not checked yet'],
      ['soul', 'DEGRADED', 'not checked yet'],
      ['audit', 'DEGRADED', 'not checked yet'],
      ['telemetry', 'SERVING', ''],
    ]);
  });

  it('pushes a snapshot over SSE after every polling round', async () => {
    const stream = await openEventStream(`${url}/api/events`);
    const next = async (): Promise<StatusSnapshotJson> => JSON.parse((await stream.next((e) => e.type === 'snapshot')).data) as StatusSnapshotJson;
    const statusOf = (snapshot: StatusSnapshotJson, service: string): string => snapshot.services.find((s) => s.service === service)!.status;
    try {
      await next();
      await running.pollOnce();
      let snapshot = await next();
      expect(statusOf(snapshot, 'memory')).toBe('SERVING');
      expect(statusOf(snapshot, 'gateway')).toBe('DOWN');

      memoryServer.setServing(false);
      await running.pollOnce();
      snapshot = await next();
      expect(statusOf(snapshot, 'memory')).toBe('DEGRADED');
      expect(snapshot.services.find((s) => s.service === 'memory')!.detail).toBe('not serving');
    } finally {
      await stream.close();
    }
  });

  it('ends open streams when the service stops', async () => {
    const stream = await openEventStream(`${url}/api/events`);
    await stream.next((e) => e.type === 'snapshot');
    await running.stop();
    await stream.ended();
    await expect(fetch(url)).rejects.toThrow();
  });
});
