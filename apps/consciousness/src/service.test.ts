import { JameyError, isJameyError, notFound, systemClock, type ErrorCode } from '@jamey/core';
import { describeOnEachDatabase } from '@jamey/data/testing';
import { createInProcessTransport, decodeEnvelope, decodeEventData, type EventTransport } from '@jamey/events';
import { consciousness as pb, common, memory as memoryPb, soul as soulPb } from '@jamey/proto';
import { createRpcClient, createRpcServer, type PromiseClient, type RpcServer, type ServiceHandlers } from '@jamey/rpc';
import type { RunningService } from '@jamey/service';
import { GRPC_SERVICES } from '@jamey/topology';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { selectFocus } from './domain/workspace.js';
import { startConsciousnessService } from './service.js';

// Longer than the short caller deadline below, so a fresh (budget-only) deadline would be caught.
const BUDGET_MS = 1500;
const TOPIC = 'jamey.consciousness.events.v1';
const silent = { error: () => undefined };

/** A small real memory gRPC server answering SearchMemories with canned hits. */
async function startFakeMemory() {
  const fake = {
    calls: [] as { query: string; pageSize: number; deadline: number | undefined }[],
    /** When true, SearchMemories never answers; the caller's deadline has to end it. */
    hang: false,
    address: '',
    server: createRpcServer({ logger: silent }) as RpcServer,
  };
  const unused = async (): Promise<never> => {
    throw new JameyError('INTERNAL', 'not used by consciousness');
  };
  const handlers: ServiceHandlers<
    Pick<memoryPb.MemoryServiceServer, 'storeMemory' | 'getMemory' | 'searchMemories' | 'deleteMemory'>
  > = {
    storeMemory: unused,
    getMemory: unused,
    deleteMemory: unused,
    async searchMemories(request, { deadline, signal }) {
      fake.calls.push({ query: request.query, pageSize: request.page?.pageSize ?? 0, deadline });
      if (fake.hang) {
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true }));
      }
      const memory = (id: string, content: string): memoryPb.Memory => ({
        id,
        content,
        layer: memoryPb.MemoryLayer.MEMORY_LAYER_EPISODIC,
        tags: [],
        importance: 0.5,
        createTime: new Date(),
      });
      return {
        hits: [
          { memory: memory('m-1', `about ${request.query}`), rank: 0.9 },
          { memory: memory('m-2', 'something older'), rank: 0.4 },
        ],
        page: { nextPageToken: '' },
      };
    },
  };
  fake.server.addService(GRPC_SERVICES.memory, memoryPb.MemoryServiceService, handlers);
  fake.address = `127.0.0.1:${await fake.server.listen('127.0.0.1', 0)}`;
  fake.server.setServing(true);
  return fake;
}

/** A small real soul gRPC server that knows one entity. */
async function startFakeSoul() {
  const fake = {
    calls: [] as { id: string; deadline: number | undefined }[],
    address: '',
    server: createRpcServer({ logger: silent }) as RpcServer,
  };
  const unused = async (): Promise<never> => {
    throw new JameyError('INTERNAL', 'not used by consciousness');
  };
  const handlers: ServiceHandlers<Pick<soulPb.SoulServiceServer, 'upsertEntity' | 'recordInteraction' | 'getEntity'>> = {
    upsertEntity: unused,
    recordInteraction: unused,
    async getEntity(request, { deadline }) {
      fake.calls.push({ id: request.id, deadline });
      if (request.id !== 'user:ada') throw notFound('entity', request.id);
      return { entity: { id: 'user:ada', name: 'Ada', trust: 0.83, interactionCount: 4 } };
    },
  };
  fake.server.addService(GRPC_SERVICES.soul, soulPb.SoulServiceService, handlers);
  fake.address = `127.0.0.1:${await fake.server.listen('127.0.0.1', 0)}`;
  fake.server.setServing(true);
  return fake;
}

/** Collects the consciousness events published through the outbox relay. */
async function collectEvents(transport: EventTransport) {
  const received: { type: string; key: string; data: unknown }[] = [];
  const waiters = new Set<() => void>();
  const subscription = await transport.subscribe({
    groupId: 'consciousness-service-test',
    topics: [TOPIC],
    handler: async (message) => {
      const envelope: common.EventEnvelope = decodeEnvelope(message.value);
      received.push({ type: envelope.type, key: message.key, data: decodeEventData(envelope).data });
      for (const wake of waiters) wake();
    },
  });
  return {
    received,
    stop: () => subscription.stop(),
    /** Resolves with the first event of `type` whose payload matches `predicate`. */
    async next(type: string, predicate: (data: never) => boolean) {
      for (;;) {
        const found = received.find((event) => event.type === type && predicate(event.data as never));
        if (found) return found;
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
        });
      }
    },
  };
}

async function errorOf(call: Promise<unknown>): Promise<{ code: ErrorCode; field: string | undefined }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isJameyError(error)) throw new Error(`expected a JameyError, got ${String(error)}`);
  return { code: error.code, field: error.details.field };
}

/** The service suite, run once per database driver. */
function consciousnessServiceSuite(database: () => Promise<{ url: string; cleanup: () => Promise<void> }>): void {
  let running: RunningService | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  let memory: Awaited<ReturnType<typeof startFakeMemory>>;
  let soul: Awaited<ReturnType<typeof startFakeSoul>>;
  let transport: EventTransport;
  let events: Awaited<ReturnType<typeof collectEvents>>;
  let client: PromiseClient<typeof pb.ConsciousnessServiceService>;

  const perceive = (request: Partial<pb.PerceiveRequest>, deadline = Date.now() + 10_000) =>
    client.perceive({ input: 'hello', source: 'chat', salience: 0.5, entityId: '', ...request }, { deadline });
  const state = async () => (await client.getState({})).state!;
  /** `jamey_consciousness_phi_bits{stream="workspace"}` from the admin server, undefined when absent. */
  const phiMetric = async (): Promise<number | undefined> => {
    const text = await (await fetch(`http://127.0.0.1:${running!.adminPort}/metrics`)).text();
    const match = /^jamey_consciousness_phi_bits\{stream="workspace",service="consciousness"\} (\S+)$/m.exec(text);
    return match ? Number(match[1]) : undefined;
  };

  beforeAll(async () => {
    const db = await database();
    cleanup = db.cleanup;
    [memory, soul] = await Promise.all([startFakeMemory(), startFakeSoul()]);
    transport = createInProcessTransport();
    events = await collectEvents(transport);
    running = await startConsciousnessService({
      settings: {
        name: 'consciousness',
        host: '127.0.0.1',
        port: 0,
        adminPort: 0,
        databaseUrl: db.url,
        databasePoolSize: 10,
        logLevel: 'silent',
        shutdownGraceMs: 1000,
      },
      transport,
      memoryAddress: memory.address,
      soulAddress: soul.address,
      dependencyBudgetMs: BUDGET_MS,
      phiIntervalMs: 50,
    });
    client = createRpcClient(pb.ConsciousnessServiceService, {
      dependency: 'consciousness',
      address: `127.0.0.1:${running.port}`,
      clock: systemClock,
      defaultTimeoutMs: 20_000,
    });
  });

  afterAll(async () => {
    client?.close();
    await running?.stop();
    await events?.stop();
    await transport?.close();
    await Promise.all([memory?.server.shutdown(0), soul?.server.shutdown(0)]);
    await cleanup?.();
  });

  it('starts with an empty workspace', async () => {
    expect(await state()).toMatchObject({ focus: undefined, recent: [], version: 0, perceptionCount: 0 });
  });

  it('moves the focus with salience and reports when it changed', async () => {
    const low = await perceive({ input: 'a quiet hum', salience: 0.3 });
    expect(low.focusChanged).toBe(true);
    expect(low.focus?.id).toBe(low.perception?.id);
    expect(low.perception).toMatchObject({ input: 'a quiet hum', source: 'chat', salience: 0.3, entityId: '' });

    const loud = await perceive({ input: '  a loud bang  ', salience: 0.9 });
    expect(loud.focusChanged).toBe(true);
    expect(loud.focus?.id).toBe(loud.perception?.id);
    expect(loud.perception?.input).toBe('a loud bang');

    const mild = await perceive({ input: 'a mild breeze', salience: 0.5 });
    expect(mild.focusChanged).toBe(false);
    expect(mild.focus?.id).toBe(loud.perception?.id);

    const read = await state();
    expect(read.focus?.id).toBe(loud.perception?.id);
    expect(read.recent.map((p) => p.id)).toEqual([mild.perception?.id, loud.perception?.id, low.perception?.id]);
    expect(read).toMatchObject({ version: 5, perceptionCount: 3 });
    expect(read.updateTime).toBeInstanceOf(Date);
  });

  it('publishes consciousness.perceived and consciousness.focus_changed keyed by the workspace', async () => {
    const response = await perceive({ input: 'a flash of light', salience: 1 });
    const id = response.perception!.id;
    const perceived = await events.next('consciousness.perceived', (d: { perception?: pb.Perception }) => d.perception?.id === id);
    expect(perceived.key).toBe('workspace');
    const changed = await events.next('consciousness.focus_changed', (d: { focus?: pb.Perception }) => d.focus?.id === id);
    expect(changed.key).toBe('workspace');
    expect((changed.data as { previous?: pb.Perception }).previous?.input).toBe('a loud bang');
    // Per key, the perception is published before the focus change it caused.
    expect(events.received.indexOf(perceived)).toBeLessThan(events.received.indexOf(changed));
  });

  it('returns memory context for the input', async () => {
    const response = await perceive({ input: 'the old garden' });
    expect(response.context).toEqual([
      { memoryId: 'm-1', content: 'about the or old or garden', rank: 0.9 },
      { memoryId: 'm-2', content: 'something older', rank: 0.4 },
    ]);
    expect(memory.calls.at(-1)).toMatchObject({ query: 'the or old or garden', pageSize: 3 });
    expect(response.degradedDependencies).toEqual([]);
  });

  it('returns trust in a known entity, and none for an unknown one without degrading', async () => {
    const known = await perceive({ entityId: 'user:ada' });
    expect(known.sourceTrust).toBe(0.83);
    expect(known.perception?.entityId).toBe('user:ada');
    const unknown = await perceive({ entityId: 'user:stranger' });
    expect(unknown.sourceTrust).toBeUndefined();
    expect(unknown.degradedDependencies).toEqual([]);
    expect(soul.calls.map((call) => call.id)).toEqual(['user:ada', 'user:stranger']);
  });

  it('propagates the caller deadline to memory and soul, never a fresh one', async () => {
    const callerDeadline = Date.now() + 1000;
    await perceive({ entityId: 'user:ada' }, callerDeadline);
    const memoryDeadline = memory.calls.at(-1)?.deadline;
    const soulDeadline = soul.calls.at(-1)?.deadline;
    expect(memoryDeadline).toBeDefined();
    expect(memoryDeadline!).toBeLessThanOrEqual(callerDeadline);
    expect(soulDeadline!).toBeLessThanOrEqual(callerDeadline);

    // A generous caller deadline is still capped by the dependency budget.
    const before = Date.now();
    await perceive({}, before + 10_000);
    expect(memory.calls.at(-1)!.deadline!).toBeLessThanOrEqual(Date.now() + BUDGET_MS + 50);
  });

  it.each([
    ['input', { input: '   ' }],
    ['input', { input: 'x'.repeat(10_001) }],
    ['source', { source: '' }],
    ['source', { source: 's'.repeat(201) }],
    ['salience', { salience: 1.5 }],
    ['salience', { salience: Number.NaN }],
    ['entity_id', { entityId: 'no spaces allowed' }],
  ] as const)('rejects a bad %s with INVALID_ARGUMENT naming the field', async (field, request) => {
    const before = (await state()).perceptionCount;
    expect(await errorOf(perceive(request))).toEqual({ code: 'INVALID_ARGUMENT', field });
    expect((await state()).perceptionCount).toBe(before);
  });

  it('keeps the focus rule under concurrent perceptions', async () => {
    const before = await state();
    const saliences = [0.2, 0.95, 0.4, 0.95, 0.1, 0.6, 0.3, 0.8, 0.05, 0.7];
    const responses = await Promise.all(saliences.map((salience, i) => perceive({ input: `burst ${i}`, salience })));
    const after = await state();
    expect(after.perceptionCount).toBe(before.perceptionCount + saliences.length);
    expect(after.version).toBeGreaterThanOrEqual(before.version + saliences.length);
    expect(after.recent).toHaveLength(7);
    expect(after.focus?.id).toBe(selectFocus(after.recent.map((p) => ({ ...p, perceivedAt: p.perceiveTime! })))?.id);
    expect(new Set(responses.map((r) => r.perception?.id)).size).toBe(saliences.length);
  });

  it('estimates Φ from the recorded perceptions, over gRPC and as a metric', async () => {
    // So far every perception came from `chat`: one element, nothing to integrate.
    const single = (await client.getIntegration({})).integration!;
    expect(single).toMatchObject({ defined: false, gap: pb.IntegrationGap.INTEGRATION_GAP_TOO_FEW_ELEMENTS, elements: ['chat'], historyLimit: 256 });
    expect(await phiMetric()).toBeUndefined();

    // Two sources take turns, and `speech` echoes the salience `vision` had one turn before.
    let previous = 0.5;
    for (let turn = 0; turn < 60; turn += 1) {
      const vision = ((turn * 37) % 100) / 100;
      await perceive({ input: `sight ${turn}`, source: 'vision', salience: vision });
      await perceive({ input: `word ${turn}`, source: 'speech', salience: previous });
      previous = vision;
    }
    const { version } = await state();
    const integration = (await client.getIntegration({})).integration!;
    expect(integration).toMatchObject({ defined: true, gap: pb.IntegrationGap.INTEGRATION_GAP_UNSPECIFIED, version });
    expect(integration.phiBits).toBeGreaterThan(0);
    expect(integration.elements).toEqual(expect.arrayContaining(['vision', 'speech']));
    expect([...integration.partitionA, ...integration.partitionB].sort()).toEqual([...integration.elements].sort());
    expect(integration.samplePairs).toBeGreaterThanOrEqual(10 * integration.elements.length);
    // The monitor exports the same estimate once it has run after the last perception.
    for (;;) {
      const exported = await phiMetric();
      if (exported !== undefined && Math.abs(exported - integration.phiBits) < 1e-12) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });

  it('records the perception without context when memory times out', async () => {
    memory.hang = true;
    try {
      const before = (await state()).perceptionCount;
      const response = await perceive({ input: 'slow memory', entityId: 'user:ada' });
      expect(response.degradedDependencies).toEqual(['memory']);
      expect(response.context).toEqual([]);
      expect(response.sourceTrust).toBe(0.83);
      expect((await state()).perceptionCount).toBe(before + 1);
    } finally {
      memory.hang = false;
    }
  });

  it('records the perception when memory is down, naming memory as degraded', async () => {
    await memory.server.shutdown(0);
    const before = (await state()).perceptionCount;
    const response = await perceive({ input: 'memory is gone' });
    expect(response.degradedDependencies).toEqual(['memory']);
    expect(response.context).toEqual([]);
    const after = await state();
    expect(after.perceptionCount).toBe(before + 1);
    expect(after.recent[0]?.id).toBe(response.perception?.id);
    const id = response.perception!.id;
    await events.next('consciousness.perceived', (d: { perception?: pb.Perception }) => d.perception?.id === id);
  });

  it('names both dependencies when soul is down too', async () => {
    await soul.server.shutdown(0);
    const response = await perceive({ input: 'alone', entityId: 'user:ada' });
    expect(response.degradedDependencies).toEqual(['memory', 'soul']);
    expect(response.sourceTrust).toBeUndefined();
  });
}

describeOnEachDatabase('consciousness service', 'CONSCIOUSNESS_DATABASE_URL', consciousnessServiceSuite);
