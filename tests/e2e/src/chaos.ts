import { expect } from 'vitest';
import { waitFor } from '@jamey/data/testing';
import type { JameySystem } from './system.js';

interface Dependency {
  name: string;
  level: string;
  circuit: string;
  retryAfterMs: number;
}

async function memoryBreaker(system: JameySystem): Promise<Dependency> {
  const response = await fetch(`${system.gatewayUrl}/v1/system/degradation`, { signal: AbortSignal.timeout(5000) });
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
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: `chaos load ${id} ${i}`, source: 'chaos', salience: 0.1 }),
        signal: AbortSignal.timeout(10_000),
      });
      record('perceive', perceive.status);
      if (perceive.status === 201) degradedPerceptions.push(((await perceive.json()) as { degraded: string[] }).degraded);
      else await perceive.arrayBuffer();
      const search = await fetch(`${system.gatewayUrl}/v1/memories?query=chaos`, { signal: AbortSignal.timeout(10_000) });
      record('search', search.status);
      await search.arrayBuffer();
    }
  };
  const load = Promise.all([worker(1), worker(2)]);

  try {
    await waitFor(async () => (statuses.get('search')?.length ?? 0) >= 5, { timeoutMs: 30_000, message: 'load to start' });
    expect((await memoryBreaker(system)).circuit).toBe('closed');

    await system.killService('memory');
    // The breaker opens once its minimum throughput of failures is reached under load.
    await waitFor(async () => (await memoryBreaker(system)).circuit === 'open', {
      timeoutMs: 30_000,
      intervalMs: 50,
      message: "the gateway's memory breaker to open",
    });

    // Fast-fail: the open breaker answers without a network call. Take the best of a few, so
    // scheduling noise on a loaded two-core machine does not decide the result.
    const latencies: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const started = performance.now();
      const response = await fetch(`${system.gatewayUrl}/v1/memories/01a20982-9c25-7109-8f4f-5bc956be8f36`);
      latencies.push(performance.now() - started);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).not.toBeNull();
      expect(await response.json()).toMatchObject({ dependency: 'memory' });
    }
    expect(Math.min(...latencies)).toBeLessThan(5);

    // Perceptions keep working without memory context, and say so.
    await waitFor(() => degradedPerceptions.some((d) => d.includes('memory')), {
      timeoutMs: 30_000,
      message: 'a perception served degraded without memory',
    });

    const beforeRestart = await memoryBreaker(system);
    const restartedAt = Date.now();
    await system.restartService('memory');
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
 * Stops the Kafka broker for `outageMs` while memories keep being stored through the gateway,
 * then starts it again: every acknowledged memory's event still reaches audit, exactly once.
 * The outbox holds the events while the broker is away; nothing is lost.
 */
export async function runKafkaOutage(system: JameySystem, stopKafka: () => Promise<unknown>, startKafka: () => Promise<unknown>, outageMs = 30_000): Promise<void> {
  const since = new Date(Date.now() - 1000).toISOString();
  const acknowledged: string[] = [];
  const failures: number[] = [];
  await stopKafka();
  let kafkaDown = true;
  try {
    // Steady writes for the whole outage: the outage's length is the scenario, not a wait.
    const outageEnds = Date.now() + outageMs;
    for (let i = 0; Date.now() < outageEnds; i += 1) {
      const reply = await fetch(`${system.gatewayUrl}/v1/memories`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: `written while kafka is down ${i}`, tags: ['kafka-outage'] }),
        signal: AbortSignal.timeout(10_000),
      });
      if (reply.status === 201) acknowledged.push(((await reply.json()) as { id: string }).id);
      else failures.push(reply.status);
      await new Promise((resolve) => setTimeout(resolve, 100)); // pacing of the load, not a wait for a result
    }
    await startKafka();
    kafkaDown = false;
  } finally {
    if (kafkaDown) await startKafka();
  }
  expect(failures, 'memory writes do not need the broker').toEqual([]);
  expect(acknowledged.length).toBeGreaterThan(10);

  const counts = new Map<string, number>();
  await waitFor(
    async () => {
      counts.clear();
      let pageToken = '';
      do {
        const query = new URLSearchParams({ type: 'memory.encoded', startTime: since, pageSize: '500' });
        if (pageToken) query.set('pageToken', pageToken);
        const page = (await (await fetch(`${system.gatewayUrl}/v1/audit/records?${query}`)).json()) as {
          items?: { subject: string }[];
          nextPageToken?: string;
        };
        for (const record of page.items ?? []) counts.set(record.subject, (counts.get(record.subject) ?? 0) + 1);
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      return acknowledged.every((id) => counts.has(id));
    },
    { timeoutMs: 180_000, intervalMs: 500, message: `audit to hold all ${acknowledged.length} events written during the outage` },
  );
  for (const id of acknowledged) expect(counts.get(id), `memory.encoded for ${id}`).toBe(1);
}
