/** grpc.health.v1 follows readiness (not just start-up), and shutdown reports NOT_SERVING first. */
import { afterEach, describe, expect, it } from 'vitest';
import { credentials, makeGenericClientConstructor, Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { memory as pb } from '@jamey/proto';
import { checkHealth, createRpcServer, type RpcServer } from './index.js';

const silent = { error: () => undefined };
const MEMORY = 'jamey.memory.v1.MemoryService';
const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');

const handlers = {
  storeMemory: () => new Promise<never>(() => undefined),
  getMemory: () => new Promise<never>(() => undefined),
  searchMemories: () => new Promise<never>(() => undefined),
  deleteMemory: () => new Promise<never>(() => undefined),
};

let server: RpcServer | undefined;
afterEach(async () => {
  await server?.shutdown(0);
  server = undefined;
});

async function start(options: { readiness?: () => Promise<boolean>; healthWatchRefreshMs?: number }): Promise<string> {
  server = createRpcServer({ logger: silent, ...options });
  server.addService<pb.MemoryServiceServer>(MEMORY, pb.MemoryServiceService, handlers);
  return `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
}

/** Opens a Watch stream and collects the statuses it receives, and whether it ended. */
function watch(address: string, service: string) {
  const client = new HealthClient(address, credentials.createInsecure());
  const statuses: string[] = [];
  let ended = false;
  const stream = client.makeServerStreamRequest(
    '/grpc.health.v1.Health/Watch',
    healthService['Watch']!.requestSerialize,
    healthService['Watch']!.responseDeserialize,
    { service },
    new Metadata(),
    {},
  ) as ClientReadableStream<{ status: string }>;
  stream.on('data', (message) => statuses.push(message.status));
  stream.on('error', () => undefined);
  stream.on('close', () => (ended = true));
  return { statuses, ended: () => ended, close: () => (stream.cancel(), client.close()) };
}

describe('grpc.health.v1 follows readiness', () => {
  it('answers NOT_SERVING while not ready and SERVING again once ready, for the server and each service', async () => {
    let ready = true;
    const address = await start({ readiness: async () => ready });
    expect((await checkHealth(address, '', 1000)).status).toBe('NOT_SERVING'); // not started yet
    server!.setServing(true);
    expect((await checkHealth(address, '', 1000)).status).toBe('SERVING');
    ready = false;
    expect((await checkHealth(address, '', 1000)).status).toBe('NOT_SERVING');
    expect((await checkHealth(address, MEMORY, 1000)).status).toBe('NOT_SERVING');
    ready = true;
    expect((await checkHealth(address, MEMORY, 1000)).status).toBe('SERVING');
    expect((await checkHealth(address, 'no.such.Service', 1000)).status).toBe('SERVICE_UNKNOWN');
  });

  it('treats a readiness that throws as not ready', async () => {
    const address = await start({ readiness: () => Promise.reject(new Error('boom')) });
    server!.setServing(true);
    expect((await checkHealth(address, '', 1000)).status).toBe('NOT_SERVING');
  });

  it('tells Watch streams every change, re-evaluating readiness while they are open', async () => {
    let ready = true;
    const address = await start({ readiness: async () => ready, healthWatchRefreshMs: 50 });
    server!.setServing(true);
    const watcher = watch(address, MEMORY);
    await expect.poll(() => watcher.statuses).toEqual(['SERVING']);
    ready = false;
    await expect.poll(() => watcher.statuses).toEqual(['SERVING', 'NOT_SERVING']);
    ready = true;
    await expect.poll(() => watcher.statuses).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
    watcher.close();
  });

  it('on shutdown tells watchers NOT_SERVING and ends their streams, instead of waiting out the grace period', async () => {
    const address = await start({ readiness: async () => true });
    server!.setServing(true);
    const watcher = watch(address, '');
    await expect.poll(() => watcher.statuses).toEqual(['SERVING']);
    const started = Date.now();
    const stopping = server!.shutdown(10_000);
    server = undefined;
    await stopping;
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect.poll(() => watcher.statuses).toEqual(['SERVING', 'NOT_SERVING']);
    await expect.poll(() => watcher.ended()).toBe(true);
    watcher.close();
  });
});
