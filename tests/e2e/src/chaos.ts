import { expect } from 'vitest';
import { waitFor } from '@jamey/data/testing';
import { expectAuditedOnce } from './audit.js';
import type { JameySystem } from './system.js';

interface Dependency {
  name: string;
  level: string;
  circuit: string;
  retryAfterMs: number;
}

async function memoryBreaker(system: JameySystem): Promise<Dependency> {
  const response = await fetch(`${system.gatewayUrl}/v1/system/degradation`, { headers: { authorization: system.authorization }, signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { dependencies: Dependency[] };
  return body.dependencies.find((d) => d.name === 'memory')!;
}

/**
 * Load through the gateway while memory is SIGKILLed and restarted: the gateway's breaker for
 * memory opens, fails fast, perceptions are served degraded (never 500), and the breaker closes
 * again once memory is back.
 */
export async function runMemoryChaos(system: JameySystem): Promise<void> {
  const statuses = new Map<string, number[]>();
  const record = (route: string, status: number): void => {
    statuses.set(route, [...(statuses.get(route) ?? []), status]);
  };
  let running = true;
  const degradedPerceptions: string[][] = [];

  // Two workers of steady load, bounded in time by `running` and each request's timeout.
  const worker = async (id: number): Promise<void> => {
    for (let i = 0; running && i < 10_000; i += 1) {
      const perceive = await fetch(`${system.gatewayUrl}/v1/perceptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: system.authorization },
        body: JSON.stringify({ input: `chaos load ${id} ${i}`, source: 'chaos', salience: 0.1 }),
        signal: AbortSignal.timeout(10_000),
      });
      record('perceive', perceive.status);
      if (perceive.status === 201) degradedPerceptions.push(((await perceive.json()) as { degraded: string[] }).degraded);
      else await perceive.arrayBuffer();
      const search = await fetch(`${system.gatewayUrl}/v1/memories?query=chaos`, { headers: { authorization: system.authorization }, signal: AbortSignal.timeout(10_000) });
      record('search', search.status);
      await search.arrayBuffer();
    }
  };
  const load = Promise.all([worker(1), worker(2)]);
  // Set while memory is down, so a failure on the way still brings it back for the next test.
  let killed = false;

  try {
    await waitFor(async () => (statuses.get('search')?.length ?? 0) >= 5, { timeoutMs: 30_000, message: 'load to start' });
    expect((await memoryBreaker(system)).circuit).toBe('closed');

    await system.killService('memory');
    killed = true;
    // The breaker opens once its minimum throughput of failures is reached under load.
    await waitFor(async () => (await memoryBreaker(system)).circuit === 'open', {
      timeoutMs: 30_000,
      intervalMs: 50,
      message: "the gateway's memory breaker to open",
    });

    // Fast-fail: the open breaker answers without a network call. Take the best of a few, so
    // scheduling noise on a loaded two-core machine does not decide the result. The answer still
    // waits for its access record's commit (one INSERT on the gateway's Postgres, which the load
    // also writes to), never for memory or a retry's backoff.
    const latencies: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const started = performance.now();
      const response = await fetch(`${system.gatewayUrl}/v1/memories/01a20982-9c25-7109-8f4f-5bc956be8f36`, { headers: { authorization: system.authorization } });
      latencies.push(performance.now() - started);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).not.toBeNull();
      expect(await response.json()).toMatchObject({ dependency: 'memory' });
    }
    // Generous for a loaded CI machine, yet far below a retried call's backoff or deadline.
    expect(Math.min(...latencies)).toBeLessThan(100);

    // Perceptions keep working without memory context, and say so.
    await waitFor(() => degradedPerceptions.some((d) => d.includes('memory')), {
      timeoutMs: 30_000,
      message: 'a perception served degraded without memory',
    });

    const beforeRestart = await memoryBreaker(system);
    const restartedAt = Date.now();
    await system.restartService('memory');
    killed = false;
    // Closed again within the remaining break duration plus one probe round.
    await waitFor(async () => (await memoryBreaker(system)).circuit === 'closed', {
      timeoutMs: beforeRestart.retryAfterMs + 15_000,
      intervalMs: 100,
      message: "the gateway's memory breaker to close after memory came back",
    });
    expect(Date.now() - restartedAt).toBeLessThan(beforeRestart.retryAfterMs + 15_000);
    const closedSearches = (statuses.get('search') ?? []).length;
    await waitFor(() => (statuses.get('search') ?? []).slice(closedSearches).includes(200), {
      timeoutMs: 30_000,
      message: 'searches to succeed again',
    });
  } finally {
    running = false;
    await load;
    if (killed) await system.restartService('memory');
  }

  // Degraded or unavailable, never an internal error.
  for (const [route, codes] of statuses) {
    expect(codes.filter((code) => code >= 500 && code !== 503 && code !== 504), `${route} answered with a 5xx other than 503/504`).toEqual(
      [],
    );
  }
  expect(statuses.get('perceive')?.filter((code) => code !== 201) ?? [], 'perceptions must not fail while memory is down').toEqual([]);
  expect(system.output()).not.toMatch(/unhandled ?rejection/i);
}

/**
 * Runs `during` with one infrastructure component stopped (`stop`), then starts it again
 * (`start`), also when `during` fails, so one failed chaos test never leaves the next without it.
 */
export async function withComponentStopped<T>(stop: () => Promise<unknown>, start: () => Promise<unknown>, during: () => Promise<T>): Promise<T> {
  await stop();
  let result: T;
  try {
    result = await during();
  } catch (error) {
    await start();
    throw error;
  }
  await start();
  return result;
}

/** Stores a memory through the gateway: its id when acknowledged (201), else the status. */
async function storeMemory(system: JameySystem, content: string, tag: string): Promise<{ id?: string; status: number }> {
  const reply = await fetch(`${system.gatewayUrl}/v1/memories`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: system.authorization },
    body: JSON.stringify({ content, tags: [tag] }),
    signal: AbortSignal.timeout(10_000),
  });
  if (reply.status !== 201) {
    await reply.arrayBuffer();
    return { status: reply.status };
  }
  return { id: ((await reply.json()) as { id: string }).id, status: reply.status };
}

/** The pause between a load worker's rounds: the pacing of the load, not a wait for a result. */
const pace = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops the Kafka broker for `outageMs` while memories keep being stored through the gateway,
 * then starts it again: every acknowledged memory's event still reaches audit, exactly once.
 * The outbox holds the events while the broker is away; nothing is lost.
 */
export async function runKafkaOutage(system: JameySystem, stopKafka: () => Promise<unknown>, startKafka: () => Promise<unknown>, outageMs = 30_000): Promise<void> {
  const since = new Date(Date.now() - 1000).toISOString();
  const acknowledged: string[] = [];
  const failures: number[] = [];
  await withComponentStopped(stopKafka, startKafka, async () => {
    // Steady writes for the whole outage: the outage's length is the scenario, not a wait.
    const outageEnds = Date.now() + outageMs;
    for (let i = 0; Date.now() < outageEnds; i += 1) {
      const { id, status } = await storeMemory(system, `written while kafka is down ${i}`, 'kafka-outage');
      if (id) acknowledged.push(id);
      else failures.push(status);
      await pace(100);
    }
  });
  expect(failures, 'memory writes do not need the broker').toEqual([]);
  expect(acknowledged.length).toBeGreaterThan(10);
  await expectAuditedOnce(system, 'memory.encoded', acknowledged, since, 180_000);
}

interface DependencyView {
  name: string;
  level: string;
  circuit: string;
}

async function gatewayDependency(system: JameySystem, name: string): Promise<DependencyView | undefined> {
  const response = await fetch(`${system.gatewayUrl}/v1/system/degradation`, { headers: { authorization: system.authorization }, signal: AbortSignal.timeout(5000) });
  return ((await response.json()) as { dependencies: DependencyView[] }).dependencies.find((d) => d.name === name);
}

/** One sample (the first) of a metric on a process's /metrics whose labels match `labels`, or 0. */
async function metricValue(system: JameySystem, process: 'memory' | 'gateway', metric: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${system.adminUrl(process)}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/**
 * Stops Redis for `outageMs` under load through the gateway (memories written and read by id),
 * then starts it again. Caching and rate limiting degrade, requests do not: every response is a
 * success, and every written memory's event reaches audit exactly once. While Redis is down the
 * gateway reports `redis` degraded; once it is back, memory's `redis` breaker closes and its
 * reads are answered from L2 again.
 */
export async function runRedisOutage(system: JameySystem, stopRedis: () => Promise<unknown>, startRedis: () => Promise<unknown>, outageMs = 30_000): Promise<void> {
  const since = new Date(Date.now() - 1000).toISOString();
  const acknowledged: string[] = [];
  const failures: string[] = [];
  let running = true;
  let rounds = 0;
  // Two workers, each round: one write and two reads of memories written so far.
  const worker = async (id: number): Promise<void> => {
    for (let i = 0; running; i += 1) {
      const stored = await storeMemory(system, `written around a redis outage ${id} ${i}`, 'redis-outage');
      if (stored.id) acknowledged.push(stored.id);
      else failures.push(`POST /v1/memories ${stored.status}`);
      for (let r = 0; r < 2 && acknowledged.length > 0; r += 1) {
        const memoryId = acknowledged[Math.floor(Math.random() * acknowledged.length)]!;
        const read = await fetch(`${system.gatewayUrl}/v1/memories/${memoryId}`, { headers: { authorization: system.authorization }, signal: AbortSignal.timeout(10_000) });
        await read.arrayBuffer();
        if (read.status !== 200) failures.push(`GET /v1/memories/${memoryId} ${read.status}`);
      }
      rounds += 1;
      await pace(100);
    }
  };
  const load = Promise.all([worker(1), worker(2)]);
  const l2Hits = () => metricValue(system, 'memory', 'jamey_cache_requests_total', { cache: 'memory', level: 'l2', result: 'hit' });
  const redisBreakerClosed = async () => (await metricValue(system, 'memory', 'jamey_circuit_breaker_state', { dependency: 'redis', state: 'closed' })) === 1;

  try {
    await waitFor(() => rounds >= 10, { timeoutMs: 30_000, message: 'load to start' });
    expect(await gatewayDependency(system, 'redis')).toMatchObject({ level: 'full', circuit: 'closed' });
    await waitFor(async () => (await l2Hits()) > 0, { timeoutMs: 30_000, message: 'memory reads to hit L2 before the outage' });

    await withComponentStopped(stopRedis, startRedis, async () => {
      const outageEnds = Date.now() + outageMs;
      await waitFor(
        async () => {
          const redis = await gatewayDependency(system, 'redis');
          return redis?.circuit === 'open' && redis.level !== 'full';
        },
        { timeoutMs: outageMs, intervalMs: 100, message: 'the gateway to report redis degraded' },
      );
      await waitFor(async () => !(await redisBreakerClosed()), { timeoutMs: outageMs, intervalMs: 100, message: "memory's redis breaker to open" });
      // The outage's length is the scenario: the load keeps running through all of it.
      await waitFor(() => Date.now() >= outageEnds, { timeoutMs: outageMs + 1000, intervalMs: 250, message: 'the end of the outage' });
    });

    await waitFor(redisBreakerClosed, { timeoutMs: 30_000, intervalMs: 250, message: "memory's redis breaker to close" });
    const hitsBack = await l2Hits();
    await waitFor(async () => (await l2Hits()) > hitsBack, { timeoutMs: 30_000, intervalMs: 250, message: 'memory reads to hit L2 again' });
    await waitFor(async () => (await gatewayDependency(system, 'redis'))?.circuit === 'closed', {
      timeoutMs: 30_000,
      intervalMs: 250,
      message: "the gateway's redis breaker to close",
    });
  } finally {
    running = false;
    await load;
  }

  expect(failures, 'every request succeeds while caching and rate limiting degrade').toEqual([]);
  expect(acknowledged.length).toBeGreaterThan(50);
  await expectAuditedOnce(system, 'memory.encoded', acknowledged, since, 180_000);
  // Each process warned once for the outage, not once per failed call.
  const output = system.output();
  expect(output.match(/redis unavailable: memory reads/g) ?? []).toHaveLength(1);
  expect(output.match(/redis unavailable: rate limits/g) ?? []).toHaveLength(1);
  expect(output).not.toMatch(/unhandled ?rejection/i);
}
