import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, createSeededRandom, dependencyUnavailable, isJameyError, notFound, type JameyError } from '@jamey/core';
import { memory as pb } from '@jamey/proto';
import { edgePolicy } from '@jamey/topology';
import { createEdgePolicies, createRpcClient, createRpcServer, type RpcServer } from './index.js';

const silent = { error: () => undefined };
const policy = { ...edgePolicy({ from: 'gateway', to: 'memory' }), minimumThroughput: 4, breakDurationMs: 1000 };

interface Fake {
  server: RpcServer;
  address: string;
  calls: { get: number; store: number };
  failNext: number;
}

async function startFake(port = 0): Promise<Fake> {
  const fake = { calls: { get: 0, store: 0 }, failNext: 0 } as Fake;
  fake.server = createRpcServer({ logger: silent });
  fake.server.addService<pb.MemoryServiceServer>('jamey.memory.v1.MemoryService', pb.MemoryServiceService, {
    async storeMemory() {
      fake.calls.store += 1;
      if (fake.failNext-- > 0) throw dependencyUnavailable('postgres');
      return {};
    },
    async getMemory(request) {
      fake.calls.get += 1;
      if (fake.failNext-- > 0) throw dependencyUnavailable('postgres');
      return { memory: { id: request.id, content: 'x', layer: 3, tags: [], importance: 0.5, createTime: new Date(0) } };
    },
    async searchMemories() {
      return { hits: [], page: { nextPageToken: '' } };
    },
    async deleteMemory(request) {
      throw notFound('memory', request.id);
    },
  });
  fake.address = `127.0.0.1:${await fake.server.listen('127.0.0.1', port)}`;
  fake.server.setServing(true);
  return fake;
}

describe('edge policies on a real gRPC client', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  function client(address: string, overrides: Partial<typeof policy> = {}, clock = createManualClock(Date.now())) {
    const policies = createEdgePolicies({ dependency: 'memory', policy: { ...policy, ...overrides }, clock, random: createSeededRandom(1) });
    const c = createRpcClient(pb.MemoryServiceService, { dependency: 'memory', address, clock, policies });
    cleanup.push(() => c.close());
    return { client: c, policies, clock };
  }

  it('retries an idempotent method on a transient failure, within the attempt limit', async () => {
    const fake = await startFake();
    cleanup.push(() => fake.server.shutdown(0));
    // A high minimum throughput keeps the breaker out of this test: it is about retries.
    const { client: c } = client(fake.address, { minimumThroughput: 100 });
    fake.failNext = 2;
    const response = await c.getMemory({ id: 'a' });
    expect(response.memory?.id).toBe('a');
    expect(fake.calls.get).toBe(3);
    fake.failNext = 3;
    await expect(c.getMemory({ id: 'b' })).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(fake.calls.get).toBe(6);
  });

  it('never retries a method that is not idempotent', async () => {
    const fake = await startFake();
    cleanup.push(() => fake.server.shutdown(0));
    const { client: c } = client(fake.address);
    fake.failNext = 1;
    await expect(c.storeMemory({ content: 'x', layer: 3, tags: [] })).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(fake.calls.store).toBe(1);
  });

  it('opens when the callee dies, fails fast naming it with a retry time, then probes and closes', async () => {
    const fake = await startFake();
    const { client: c, policies, clock } = client(fake.address);
    const port = Number(fake.address.split(':')[1]);
    await c.getMemory({ id: 'warm' });
    await fake.server.shutdown(0);

    for (let i = 0; i < policy.minimumThroughput && policies.breaker.state === 'closed'; i += 1) {
      await c.storeMemory({ content: 'x', layer: 3, tags: [] }).catch(() => undefined);
    }
    expect(policies.breaker.state).toBe('open');

    const started = performance.now();
    const error = (await c.getMemory({ id: 'fast' }).catch((e: unknown) => e)) as JameyError;
    const elapsedMs = performance.now() - started;
    expect(isJameyError(error)).toBe(true);
    expect(error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(error.details.dependency).toBe('memory');
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(elapsedMs).toBeLessThan(5);

    const revived = await startFake(port);
    cleanup.push(() => revived.server.shutdown(0));
    expect(policies.breaker.retryAfterMs).toBeGreaterThanOrEqual(policy.breakDurationMs);
    // Each round lets the break elapse and sends one trial call. The first trials may still
    // meet the channel reconnecting to the new server; the breaker closes once one succeeds.
    await expect
      .poll(
        async () => {
          clock.advance(policies.breaker.retryAfterMs);
          await c.getMemory({ id: 'probe' }).catch(() => undefined);
          return policies.breaker.state;
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe('closed');
    expect(revived.calls.get).toBeGreaterThanOrEqual(1);
  });

  it('does not count answers such as NOT_FOUND against the callee', async () => {
    const fake = await startFake();
    cleanup.push(() => fake.server.shutdown(0));
    const { client: c, policies } = client(fake.address);
    for (let i = 0; i < 10; i += 1) {
      await expect(c.deleteMemory({ id: `gone-${i}` })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(policies.breaker.state).toBe('closed');
  });
});
