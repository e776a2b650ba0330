/** Server and client call records (the RED metrics' source) over real gRPC. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createSeededRandom, invalidArgument, notFound, systemClock, type JameyError } from '@jamey/core';
import { memory as pb } from '@jamey/proto';
import { edgePolicy } from '@jamey/topology';
import {
  checkHealth,
  createEdgePolicies,
  createRpcClient,
  createRpcServer,
  type RpcCallRecord,
  type RpcClientCallRecord,
  type RpcServer,
} from './index.js';

const silent = { error: () => undefined };
const STORE = '/jamey.memory.v1.MemoryService/StoreMemory';
const GET = '/jamey.memory.v1.MemoryService/GetMemory';

describe('call records', () => {
  const served: RpcCallRecord[] = [];
  let server: RpcServer;
  let address: string;
  let entered: () => void = () => undefined;

  beforeAll(async () => {
    server = createRpcServer({ logger: silent, observer: (call) => served.push(call) });
    server.addService<pb.MemoryServiceServer>('jamey.memory.v1.MemoryService', pb.MemoryServiceService, {
      async storeMemory(request, context) {
        if (request.content === 'invalid') throw invalidArgument('content', 'content is invalid');
        if (request.content === 'hang') {
          entered();
          await new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        }
        return { memory: { id: 'm1', content: request.content, layer: 3, tags: [], importance: 0.5, createTime: new Date(0) } };
      },
      async getMemory(request) {
        throw notFound('memory', request.id);
      },
      async searchMemories(request, context) {
        if (request.query === 'hang') {
          await new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        }
        return { hits: [], page: { nextPageToken: '' } };
      },
      async deleteMemory() {
        return {};
      },
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    server.setServing(true);
  });
  afterAll(async () => {
    await server.shutdown(1000);
  });

  const servedWith = (method: string, code: string) => served.filter((c) => c.method === method && c.code === code);

  it('the server records each unary call with its full method, status name and duration', async () => {
    const client = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock: systemClock });
    await client.storeMemory({ content: 'hello', layer: 3, tags: [] });
    await client.storeMemory({ content: 'invalid', layer: 3, tags: [] }).catch(() => undefined);
    await client.getMemory({ id: 'x' }).catch(() => undefined);
    client.close();
    await expect.poll(() => servedWith(GET, 'NOT_FOUND').length).toBe(1);
    expect(servedWith(STORE, 'OK')).toHaveLength(1);
    expect(servedWith(STORE, 'INVALID_ARGUMENT')).toHaveLength(1);
    expect(servedWith(STORE, 'OK')[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('records a call whose deadline passed as DEADLINE_EXCEEDED, and one the client cancelled as CANCELLED', async () => {
    const client = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock: systemClock });
    // The deadline passes while the handler runs (not before the call reaches the server, which a
    // loaded machine could otherwise make happen: then the server has nothing to record).
    const handling = new Promise<void>((resolve) => (entered = resolve));
    const late = client.storeMemory({ content: 'hang', layer: 3, tags: [] }, { deadline: Date.now() + 1000 }).catch(() => undefined);
    await handling;
    await late;
    await expect.poll(() => servedWith(STORE, 'DEADLINE_EXCEEDED').length, { timeout: 5000 }).toBe(1);

    const controller = new AbortController();
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const pending = client.storeMemory({ content: 'hang', layer: 3, tags: [] }, { signal: controller.signal }).catch(() => undefined);
    await inside;
    controller.abort();
    await pending;
    await expect.poll(() => servedWith(STORE, 'CANCELLED').length, { timeout: 5000 }).toBe(1);
    client.close();
  });

  it('never records a method the server does not serve, so clients cannot grow the label set', async () => {
    const before = served.length;
    const raw = new Client(address, credentials.createInsecure());
    const bogus = `/jamey.memory.v1.MemoryService/Nope-${Date.now()}`;
    const error = await new Promise<ServiceError>((resolve) =>
      raw.makeUnaryRequest(bogus, (v: Buffer) => v, (v: Buffer) => v, Buffer.alloc(0), new Metadata(), {}, (err) => resolve(err as ServiceError)),
    );
    raw.close();
    expect(error.code).toBe(12); // UNIMPLEMENTED
    // A call the server does serve still gets through, so the observer is demonstrably live.
    expect((await checkHealth(address, '', 1000)).status).toBe('SERVING');
    await expect.poll(() => served.some((c) => c.method === '/grpc.health.v1.Health/Check')).toBe(true);
    expect(served.slice(before).map((c) => c.method)).not.toContain(bogus);
    expect(served.every((c) => [STORE, GET, '/jamey.memory.v1.MemoryService/SearchMemories', '/grpc.health.v1.Health/Check'].includes(c.method))).toBe(true);
  });

  describe('the client', () => {
    const made: RpcClientCallRecord[] = [];
    const observer = (call: RpcClientCallRecord) => made.push(call);

    it('records every logical call with the dependency, method and final status', async () => {
      const client = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock: systemClock, observer });
      await client.storeMemory({ content: 'hello', layer: 3, tags: [] });
      await client.getMemory({ id: 'x' }).catch(() => undefined);
      const controller = new AbortController();
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const pending = client.storeMemory({ content: 'hang', layer: 3, tags: [] }, { signal: controller.signal }).catch(() => undefined);
      await inside;
      controller.abort();
      await pending;
      client.close();
      expect(made.map(({ dependency, method, code }) => `${dependency} ${method} ${code}`)).toEqual([
        `memory ${STORE} OK`,
        `memory ${GET} NOT_FOUND`,
        `memory ${STORE} CANCELLED`,
      ]);
    });

    it('counts failures made by the policies with their status: timeout, unreachable, open breaker', async () => {
      made.length = 0;
      const policies = createEdgePolicies({
        dependency: 'memory',
        policy: { ...edgePolicy({ from: 'gateway', to: 'memory' }), attemptTimeoutMs: 100, minimumThroughput: 2, failureRateThreshold: 0.5 },
        clock: systemClock,
        random: createSeededRandom(1),
        retries: false,
      });
      const client = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock: systemClock, observer, policies });
      // SearchMemories is idempotent, so it runs under the policy's per-attempt timeout (100 ms
      // here, well inside the call's own 5 s budget), which also tightens the wire deadline.
      const started = Date.now();
      const timedOut = await client.searchMemories({ query: 'hang', layer: 0 }).catch((e: unknown) => e);
      expect((timedOut as JameyError).code).toBe('DEADLINE_EXCEEDED');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(made.at(-1)).toMatchObject({ method: '/jamey.memory.v1.MemoryService/SearchMemories', code: 'DEADLINE_EXCEEDED' });

      const probe = createRpcServer({ logger: silent });
      const port = await probe.listen('127.0.0.1', 0);
      await probe.shutdown(0);
      const unreachable = createRpcClient(pb.MemoryServiceService, {
        dependency: 'memory',
        address: `127.0.0.1:${port}`,
        clock: systemClock,
        observer,
        policies,
      });
      await unreachable.getMemory({ id: 'x' }).catch(() => undefined);
      expect(made.at(-1)?.code).toBe('UNAVAILABLE');
      // Two failures out of two open the breaker: the next call fails fast, still as UNAVAILABLE.
      await expect.poll(() => policies.breaker.state).toBe('open');
      const error = await unreachable.getMemory({ id: 'x' }).catch((e: unknown) => e);
      expect(String(error)).toMatch(/circuit is open/);
      expect(made.at(-1)).toMatchObject({ dependency: 'memory', method: GET, code: 'UNAVAILABLE' });
      unreachable.close();
      client.close();
    });
  });
});
