/**
 * Every route's happy path, through `inject()` and real gRPC to fake downstreams: the JSON the
 * caller gets and the request the service received.
 */
import { memory as pb, soul, consciousness, telemetry } from '@jamey/proto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createTestGateway, type TestGateway } from './testing/test-gateway.js';

let fakes: FakeDownstreams;
let gateway: TestGateway;

beforeAll(async () => {
  fakes = await startFakeDownstreams();
  gateway = createTestGateway({ addresses: fakes.addresses });
});
afterAll(async () => {
  await gateway?.close();
  await fakes?.close();
});
beforeEach(() => fakes.reset());

const lastCall = () => fakes.calls.at(-1);
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('memories', () => {
  it('POST /v1/memories stores a memory: 201, Location, the memory as JSON', async () => {
    const response = await gateway.inject({
      method: 'POST',
      url: '/v1/memories',
      payload: { content: 'the sky was red', layer: 'semantic', tags: ['sky'], importance: 0.8 },
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json();
    expect(body).toEqual({
      id: expect.any(String),
      content: 'the sky was red',
      layer: 'semantic',
      tags: ['sky'],
      importance: 0.8,
      createTime: expect.stringMatching(ISO_UTC),
    });
    expect(response.headers.location).toBe(`/v1/memories/${body.id}`);
    expect(lastCall()).toMatchObject({
      service: 'memory',
      method: 'storeMemory',
      request: { content: 'the sky was red', layer: pb.MemoryLayer.MEMORY_LAYER_SEMANTIC, tags: ['sky'], importance: 0.8 },
    });
  });

  it('GET /v1/memories/{id} reads it back; DELETE removes it; GET is then 404', async () => {
    const created = (await gateway.inject({ method: 'POST', url: '/v1/memories', payload: { content: 'kept' } })).json();
    const read = await gateway.inject({ method: 'GET', url: `/v1/memories/${created.id}` });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(created);

    const deleted = await gateway.inject({ method: 'DELETE', url: `/v1/memories/${created.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect(lastCall()).toMatchObject({ method: 'deleteMemory', request: { id: created.id } });

    const gone = await gateway.inject({ method: 'GET', url: `/v1/memories/${created.id}` });
    expect(gone.statusCode).toBe(404);
  });

  it('GET /v1/memories searches with coerced query parameters', async () => {
    await gateway.inject({ method: 'POST', url: '/v1/memories', payload: { content: 'a red sky', layer: 'episodic' } });
    const response = await gateway.inject({
      method: 'GET',
      url: '/v1/memories',
      query: { query: 'red', layer: 'episodic', pageSize: '10', pageToken: 'cursor-1' },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ memory: { content: 'a red sky', layer: 'episodic' }, rank: 0.5 });
    expect(body).not.toHaveProperty('nextPageToken');
    expect(lastCall()).toMatchObject({
      method: 'searchMemories',
      request: { query: 'red', layer: pb.MemoryLayer.MEMORY_LAYER_EPISODIC, page: { pageSize: 10, pageToken: 'cursor-1' } },
    });
  });

  it('passes the next page token through', async () => {
    fakes.handlers.memory.searchMemories = async () => ({ hits: [], page: { nextPageToken: 'page-2' } });
    const response = await gateway.inject({ method: 'GET', url: '/v1/memories?query=x' });
    expect(response.json()).toEqual({ items: [], nextPageToken: 'page-2' });
  });
});

describe('consciousness', () => {
  it('POST /v1/perceptions perceives: 201 with perception, focus, context, trust and degraded', async () => {
    const response = await gateway.inject({
      method: 'POST',
      url: '/v1/perceptions',
      payload: { input: 'hello', source: 'chat', salience: 0.7, entityId: 'user:ada' },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({
      perception: {
        id: expect.any(String),
        input: 'hello',
        source: 'chat',
        salience: 0.7,
        entityId: 'user:ada',
        perceiveTime: expect.stringMatching(ISO_UTC),
      },
      focus: expect.objectContaining({ input: 'hello' }),
      focusChanged: true,
      context: [{ memoryId: expect.any(String), content: 'the sky was red', rank: 0.25 }],
      sourceTrust: 0.5,
      degraded: [],
    });
    expect(lastCall()).toMatchObject({ method: 'perceive', request: { input: 'hello', source: 'chat', salience: 0.7, entityId: 'user:ada' } });
  });

  it('reports degraded dependencies and leaves out unknown trust', async () => {
    fakes.handlers.consciousness.perceive = async (request) => ({
      perception: { id: 'p', input: request.input, source: request.source, salience: request.salience, entityId: '', perceiveTime: new Date(0) },
      focus: undefined,
      focusChanged: false,
      context: [],
      sourceTrust: undefined,
      degradedDependencies: ['memory', 'soul'],
    });
    const body = (await gateway.inject({ method: 'POST', url: '/v1/perceptions', payload: { input: 'x', source: 's', salience: 0 } })).json();
    expect(body.degraded).toEqual(['memory', 'soul']);
    expect(body).not.toHaveProperty('sourceTrust');
    expect(body).not.toHaveProperty('focus');
    expect(body.perception).not.toHaveProperty('entityId');
  });

  it('GET /v1/consciousness/state reads the workspace', async () => {
    const empty = await gateway.inject({ method: 'GET', url: '/v1/consciousness/state' });
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ recent: [], version: 0, perceptionCount: 0 });

    const focus: consciousness.Perception = { id: 'p1', input: 'hi', source: 'chat', salience: 0.9, entityId: '', perceiveTime: new Date(0) };
    fakes.handlers.consciousness.getState = async () => ({
      state: { focus, recent: [focus], version: 4, perceptionCount: 2, updateTime: new Date(Date.UTC(2026, 0, 1)) },
    });
    const later = (await gateway.inject({ method: 'GET', url: '/v1/consciousness/state' })).json();
    expect(later).toMatchObject({ focus: { id: 'p1' }, version: 4, perceptionCount: 2, updateTime: '2026-01-01T00:00:00.000Z' });
  });

  it('GET /v1/consciousness/integration returns Φ and its bipartition, or why it is not defined', async () => {
    const response = await gateway.inject({ method: 'GET', url: '/v1/consciousness/integration' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      defined: true,
      phiBits: 0.42,
      elements: ['vision', 'speech'],
      partitionA: ['vision'],
      partitionB: ['speech'],
      samplePairs: 255,
      version: 512,
      historyLimit: 256,
    });
    expect(lastCall()).toMatchObject({ service: 'consciousness', method: 'getIntegration', request: {} });

    fakes.handlers.consciousness.getIntegration = async () => ({
      integration: {
        defined: false,
        phiBits: 0,
        elements: ['vision'],
        partitionA: [],
        partitionB: [],
        samplePairs: 3,
        gap: consciousness.IntegrationGap.INTEGRATION_GAP_TOO_FEW_ELEMENTS,
        version: 7,
        historyLimit: 256,
      },
    });
    const undefinedPhi = await gateway.inject({ method: 'GET', url: '/v1/consciousness/integration' });
    expect(undefinedPhi.json()).toMatchObject({ defined: false, phiBits: 0, gap: 'too-few-elements', samplePairs: 3 });
    // Query parameters are not part of this operation.
    expect((await gateway.inject({ method: 'GET', url: '/v1/consciousness/integration?window=5' })).statusCode).toBe(400);
  });
});

describe('entities', () => {
  it('PUT /v1/entities/{id} creates (201 + Location) then renames (200)', async () => {
    const created = await gateway.inject({ method: 'PUT', url: '/v1/entities/user:ada', payload: { name: 'Ada' } });
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/v1/entities/user%3Aada');
    expect(created.json()).toEqual({
      id: 'user:ada',
      name: 'Ada',
      trust: 0.5,
      interactionCount: 0,
      createTime: expect.stringMatching(ISO_UTC),
      updateTime: expect.stringMatching(ISO_UTC),
    });
    expect(lastCall()).toMatchObject({ service: 'soul', method: 'upsertEntity', request: { id: 'user:ada', name: 'Ada' } });

    const renamed = await gateway.inject({ method: 'PUT', url: '/v1/entities/user:ada', payload: { name: 'Ada L.' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.headers.location).toBeUndefined();
    expect(renamed.json()).toMatchObject({ id: 'user:ada', name: 'Ada L.' });

    const read = await gateway.inject({ method: 'GET', url: '/v1/entities/user:ada' });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: 'user:ada', name: 'Ada L.' });
  });

  it('POST /v1/entities/{id}/interactions records one: 201 with entity and interaction', async () => {
    await gateway.inject({ method: 'PUT', url: '/v1/entities/bob', payload: { name: 'Bob' } });
    const response = await gateway.inject({ method: 'POST', url: '/v1/entities/bob/interactions', payload: { valence: 1, note: 'kind' } });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.entity).toMatchObject({ id: 'bob', interactionCount: 1, trust: 0.6 });
    expect(body.interaction).toEqual({
      id: expect.any(String),
      entityId: 'bob',
      valence: 1,
      note: 'kind',
      trustBefore: 0.5,
      trustAfter: 0.6,
      createTime: expect.stringMatching(ISO_UTC),
    });
    expect(lastCall()).toMatchObject({ method: 'recordInteraction', request: { entityId: 'bob', valence: 1, note: 'kind' } satisfies Partial<soul.RecordInteractionRequest> });
  });
});

describe('audit', () => {
  it('GET /v1/audit/records lists records with filters, times and page', async () => {
    const response = await gateway.inject({
      method: 'GET',
      url: '/v1/audit/records',
      query: { type: 'memory.encoded', source: 'memory', subject: 's-1', startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-03T00:00:00.000Z', pageSize: '500', pageToken: 'c' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      items: [
        {
          sequence: 1,
          eventId: expect.any(String),
          type: 'memory.encoded',
          source: 'memory',
          subject: expect.any(String),
          eventTime: '2026-01-02T03:04:05.678Z',
          recordTime: '2026-01-02T03:04:05.678Z',
          dataSchema: 'jamey.memory.v1.MemoryEncoded',
          data: { memory: { id: expect.any(String) } },
          topic: 'jamey.memory.events.v1',
        },
      ],
      nextPageToken: 'next-1',
    });
    const call = lastCall();
    expect(call).toMatchObject({ service: 'audit', request: { type: 'memory.encoded', source: 'memory', subject: 's-1', page: { pageSize: 500, pageToken: 'c' } } });
    const request = call?.request as { startTime: Date; endTime: Date };
    expect(request.startTime.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(request.endTime.toISOString()).toBe('2026-01-03T00:00:00.000Z');
  });
});

describe('audit log', () => {
  const get = (url: string, query: Record<string, string> = {}) => gateway.inject({ method: 'GET', url, query });
  it('GET /v1/audit/log/... returns the independent verifier’s JSON shapes, bytes in base64', async () => {
    expect((await get('/v1/audit/log/info')).json()).toEqual({ verifierKey: 'jamey.io/audit+00000000+AQ==', origin: 'jamey.io/audit' });
    const checkpoint = await get('/v1/audit/log/checkpoint', { treeSize: '5' });
    expect(checkpoint.json()).toMatchObject({ treeSize: 5, rootHash: Buffer.alloc(32, 1).toString('base64'), checkpoint: expect.stringContaining('jamey.io/audit\n') });
    expect(lastCall()).toMatchObject({ method: 'getCheckpoint', request: { treeSize: 5 } });
    expect((await get('/v1/audit/log/inclusion-proof', { sequence: '3' })).json()).toEqual({
      leafIndex: 2,
      treeSize: 8,
      entry: Buffer.from('entry').toString('base64'),
      proof: [Buffer.alloc(32, 2).toString('base64')],
    });
    expect(lastCall()).toMatchObject({ request: { leaf: { $case: 'sequence', value: 3 }, treeSize: 0 } });
    await get('/v1/audit/log/inclusion-proof', { leafIndex: '0', treeSize: '4' });
    expect(lastCall()).toMatchObject({ request: { leaf: { $case: 'leafIndex', value: 0 }, treeSize: 4 } });
    expect((await get('/v1/audit/log/consistency-proof', { fromSize: '2' })).json()).toEqual({ fromSize: 2, toSize: 8, proof: [Buffer.alloc(32, 3).toString('base64')] });
    expect((await get('/v1/audit/log/verify')).json()).toEqual({ ok: false, treeSize: 8, checkedTreeSize: 8, badIndex: 6, problem: 'changed', detail: 'record 7 does not match its leaf hash' });
  });

  it('rejects an inclusion proof query without exactly one of sequence and leafIndex, and a negative size', async () => {
    for (const query of [{}, { sequence: '1', leafIndex: '0' }] as Record<string, string>[]) {
      const response = await get('/v1/audit/log/inclusion-proof', query);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await get('/v1/audit/log/consistency-proof', { fromSize: '-1' })).statusCode).toBe(400);
    expect((await get('/v1/audit/log/consistency-proof')).statusCode).toBe(400);
  });
});

describe('system', () => {
  it('GET /v1/system/health returns telemetry’s view', async () => {
    const response = await gateway.inject({ method: 'GET', url: '/v1/system/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'serving',
      services: [{ service: 'memory', target: '127.0.0.1:50051', status: 'serving', latencyMs: 1.5, checkTime: expect.stringMatching(ISO_UTC) }],
      checkTime: expect.stringMatching(ISO_UTC),
    });
  });

  it('GET /v1/system/alerts lists telemetry’s alerts, passing the states asked for', async () => {
    fakes.handlers.telemetry.listAlerts = async () => ({
      alerts: [
        {
          id: '0190a0b0-c0d0-7e00-8f00-000000000009',
          fingerprint: 'f1',
          rule: 'JameyServiceNotReady',
          severity: telemetry.AlertSeverity.ALERT_SEVERITY_CRITICAL,
          state: telemetry.AlertState.ALERT_STATE_FIRING,
          labels: { service: 'memory' },
          value: 0,
          summary: 'memory is not ready',
          description: 'd',
          activeTime: new Date(0),
          fireTime: new Date(1000),
          resolveTime: undefined,
        },
      ],
    });
    const response = await gateway.inject({ method: 'GET', url: '/v1/system/alerts?state=firing&state=resolved&pageSize=5' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      alerts: [
        {
          id: '0190a0b0-c0d0-7e00-8f00-000000000009',
          fingerprint: 'f1',
          rule: 'JameyServiceNotReady',
          severity: 'critical',
          state: 'firing',
          labels: { service: 'memory' },
          value: 0,
          summary: 'memory is not ready',
          description: 'd',
          activeTime: '1970-01-01T00:00:00.000Z',
          fireTime: '1970-01-01T00:00:01.000Z',
        },
      ],
    });
    expect(lastCall()).toMatchObject({ method: 'listAlerts', request: { states: [telemetry.AlertState.ALERT_STATE_FIRING, telemetry.AlertState.ALERT_STATE_RESOLVED], pageSize: 5 } });
    expect((await gateway.inject({ method: 'GET', url: '/v1/system/alerts?state=exploded' })).statusCode).toBe(400);
  });
});
