/**
 * Two memory replicas on one Postgres schema and one Redis: reads by id go through L1 and the
 * shared L2, a delete on one replica reaches the other's L1, and a replica whose Redis is
 * unreachable still serves every call.
 */
import { startTcpProxy, type TcpProxy } from '@jamey/cache/testing';
import { systemClock } from '@jamey/core';
import { createTestSchema, describeWithInfra, waitFor, type TestSchema } from '@jamey/data/testing';
import { createEventLog, type EventLog } from '@jamey/events/testing';
import { memory as pb } from '@jamey/proto';
import { createRpcClient, type PromiseClient } from '@jamey/rpc';
import { expectRpcError } from '@jamey/rpc/testing';
import type { RunningService } from '@jamey/service';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMemoryService } from './service.js';

interface Replica {
  running: RunningService;
  client: PromiseClient<typeof pb.MemoryServiceService>;
  events: EventLog<'memory'>;
  /** The replica's /metrics text. */
  metrics(): Promise<string>;
}

describeWithInfra(['MEMORY_DATABASE_URL', 'REDIS_URL'], 'memory service replicas sharing Postgres and Redis', (env) => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  const replicas: Replica[] = [];

  async function startReplica(redisUrl: string): Promise<Replica> {
    const { transport, log } = await createEventLog({ source: 'memory' });
    const running = await startMemoryService({
      settings: {
        name: 'memory',
        host: '127.0.0.1',
        port: 0,
        adminPort: 0,
        databaseUrl: schema.url,
        databasePoolSize: 4,
        redisUrl,
        logLevel: 'silent',
        shutdownGraceMs: 1000,
      },
      transport,
    });
    const client = createRpcClient(pb.MemoryServiceService, {
      dependency: 'memory',
      address: `127.0.0.1:${running.port}`,
      clock: systemClock,
      defaultTimeoutMs: 20_000,
    });
    const replica = {
      running,
      client,
      events: log,
      metrics: async () => (await fetch(`http://127.0.0.1:${running.adminPort}/metrics`)).text(),
    };
    replicas.push(replica);
    return replica;
  }

  let a: Replica;
  let b: Replica;
  let cut: Replica;

  beforeAll(async () => {
    schema = await createTestSchema(env['MEMORY_DATABASE_URL']!, 'memory_redis');
    proxy = await startTcpProxy(new URL(env['REDIS_URL']!).host);
    a = await startReplica(env['REDIS_URL']!);
    b = await startReplica(env['REDIS_URL']!);
    // The third replica reaches Redis only through a proxy the tests cut.
    const viaProxy = new URL(env['REDIS_URL']!);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    cut = await startReplica(viaProxy.toString());
  });

  afterAll(async () => {
    for (const replica of replicas) {
      replica.client.close();
      await replica.running.stop();
      await replica.events.close();
    }
    await proxy?.close();
    await schema?.drop();
  });

  const counter = (text: string, level: string, result: string): number =>
    Number(new RegExp(`^jamey_cache_requests_total\\{[^}]*cache="memory",level="${level}",result="${result}"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

  const store = async (content: string): Promise<pb.Memory> =>
    (await a.client.storeMemory({ content, layer: pb.MemoryLayer.MEMORY_LAYER_UNSPECIFIED, tags: ['cache'] })).memory!;

  it('serves a memory one replica read from Redis on the other, with its time intact', async () => {
    const memory = await store('read on A, then on B');
    expect((await a.client.getMemory({ id: memory.id })).memory).toEqual(memory);
    // A writes L2 in the background; B finds it there once it has landed.
    await waitFor(async () => {
      const hitsBefore = counter(await b.metrics(), 'l2', 'hit');
      const { memory: read } = await b.client.getMemory({ id: memory.id });
      expect(read).toEqual(memory);
      expect(read?.createTime).toBeInstanceOf(Date);
      return counter(await b.metrics(), 'l2', 'hit') > hitsBefore;
    }, { message: "B's read to hit L2" });

    const text = await b.metrics();
    expect(text).toMatch(/^jamey_circuit_breaker_state\{[^}]*dependency="redis"[^}]*state="closed"[^}]*\} 1$/m);
    expect(text).toMatch(/^jamey_degradation_level\{[^}]*dependency="redis"[^}]*\} 0$/m);
    expect(text).toMatch(/^jamey_cache_l1_entries\{[^}]*cache="memory"[^}]*\} [1-9]/m);
  });

  it("drops a deleted memory from every replica's cache", async () => {
    const memory = await store('deleted on A while cached on B');
    expect((await b.client.getMemory({ id: memory.id })).memory).toEqual(memory);
    expect((await b.client.getMemory({ id: memory.id })).memory).toEqual(memory); // now in B's L1

    await a.client.deleteMemory({ id: memory.id });
    await expectRpcError(a.client.getMemory({ id: memory.id }), 'NOT_FOUND');
    // The invalidation reaches B over pub/sub, a moment after A's delete returned.
    await waitFor(
      async () => {
        try {
          await b.client.getMemory({ id: memory.id });
          return false;
        } catch (error) {
          return (error as { code?: unknown }).code === 'NOT_FOUND';
        }
      },
      { message: 'B to answer NOT_FOUND' },
    );
  });

  it('keeps serving reads and deletes while its Redis is unreachable, and tells the others once it is back', async () => {
    const kept = await store('read while redis is away');
    const deleted = await store('deleted while redis is away');
    expect((await b.client.getMemory({ id: deleted.id })).memory).toEqual(deleted); // in B's L1
    await proxy.cut();
    try {
      for (let i = 0; i < 10; i += 1) expect((await cut.client.getMemory({ id: kept.id })).memory).toEqual(kept);
      expect((await cut.client.getMemory({ id: deleted.id })).memory).toEqual(deleted);
      expect(await cut.client.deleteMemory({ id: deleted.id })).toEqual({});
      await expectRpcError(cut.client.getMemory({ id: deleted.id }), 'NOT_FOUND');
      expect(counter(await cut.metrics(), 'l2', 'error')).toBeGreaterThan(0);
      // The invalidation cannot leave the cut replica: B serves its L1 copy (for at most the L1 TTL).
      expect((await b.client.getMemory({ id: deleted.id })).memory).toEqual(deleted);
    } finally {
      await proxy.restore();
    }
    // Once Redis is back, the cut replica replays the invalidation and B drops its copy.
    await waitFor(
      async () => {
        try {
          await b.client.getMemory({ id: deleted.id });
          return false;
        } catch (error) {
          return (error as { code?: unknown }).code === 'NOT_FOUND';
        }
      },
      { timeoutMs: 8_000, message: "the cut replica's invalidation to reach B" },
    );
    // The breaker has no timers: reads that miss L1 are what probe it.
    await waitFor(
      async () => {
        await cut.client.getMemory({ id: (await store('probes the breaker')).id });
        return /dependency="redis"[^}]*state="closed"[^}]*\} 1$/m.test(await cut.metrics());
      },
      { timeoutMs: 15_000, intervalMs: 100, message: "the cut replica's redis breaker to close" },
    );
  }, 30_000);
});
