/**
 * Every error response is RFC 9457 problem+json from the one handler: bad input, downstream
 * errors, unknown errors, and HTTP-level failures.
 */
import { connect, type AddressInfo } from 'node:net';
import { dependencyUnavailable, invalidArgument, JameyError } from '@jamey/core';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDownstreams, sampleMemory, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createTestGateway, type TestGateway } from './testing/test-gateway.js';

let fakes: FakeDownstreams;
let gateway: TestGateway;
const BODY_LIMIT = 4096;
const MEMORY_ID = '0190a0b0-c0d0-7e00-8f00-0000000000ff';

beforeAll(async () => {
  fakes = await startFakeDownstreams();
  gateway = createTestGateway({ addresses: fakes.addresses, bodyLimitBytes: BODY_LIMIT });
});
afterAll(async () => {
  await gateway?.close();
  await fakes?.close();
});
beforeEach(() => {
  fakes.reset();
  gateway.logs.length = 0;
});

/** Asserts the standard problem members and returns the body. */
function expectProblem(response: LightMyRequestResponse, status: number, code: string, instance: string): Record<string, unknown> {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Record<string, unknown>>();
  expect(body).toMatchObject({
    type: `https://jamey.io/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: expect.any(String),
    status,
    detail: expect.any(String),
    instance,
    code,
  });
  return body;
}

describe('request validation → 400 invalid-argument naming the field', () => {
  const cases: { name: string; method: 'GET' | 'POST' | 'PUT'; url: string; payload?: unknown; field: string }[] = [
    { name: 'unknown body member', method: 'POST', url: '/v1/memories', payload: { content: 'x', colour: 'red' }, field: 'body.colour' },
    { name: 'missing required member', method: 'POST', url: '/v1/memories', payload: { layer: 'episodic' }, field: 'body.content' },
    { name: 'empty content', method: 'POST', url: '/v1/memories', payload: { content: '' }, field: 'body.content' },
    { name: 'unknown layer', method: 'POST', url: '/v1/memories', payload: { content: 'x', layer: 'EPISODIC' }, field: 'body.layer' },
    { name: 'importance above 1', method: 'POST', url: '/v1/memories', payload: { content: 'x', importance: 1.5 }, field: 'body.importance' },
    { name: 'too long tag', method: 'POST', url: '/v1/memories', payload: { content: 'x', tags: ['ok', 'y'.repeat(65)] }, field: 'body.tags.1' },
    { name: 'salience above 1', method: 'POST', url: '/v1/perceptions', payload: { input: 'i', source: 's', salience: 1.01 }, field: 'body.salience' },
    { name: 'salience as a string is not coerced', method: 'POST', url: '/v1/perceptions', payload: { input: 'i', source: 's', salience: '0.5' }, field: 'body.salience' },
    { name: 'bad entity id in body', method: 'POST', url: '/v1/perceptions', payload: { input: 'i', source: 's', salience: 0.5, entityId: 'a b' }, field: 'body.entityId' },
    { name: 'valence below -1', method: 'POST', url: '/v1/entities/e/interactions', payload: { valence: -1.5 }, field: 'body.valence' },
    { name: 'unknown interaction member', method: 'POST', url: '/v1/entities/e/interactions', payload: { valence: 0, mood: 'x' }, field: 'body.mood' },
    { name: 'empty name', method: 'PUT', url: '/v1/entities/e', payload: { name: '' }, field: 'body.name' },
    { name: 'body that is not an object', method: 'PUT', url: '/v1/entities/e', payload: [1, 2], field: 'body' },
    { name: 'memory id that is not a UUID', method: 'GET', url: '/v1/memories/not-a-uuid', field: 'path.id' },
    { name: 'entity id with a bad character', method: 'GET', url: '/v1/entities/a%20b', field: 'path.id' },
    { name: 'entity id of 129 characters', method: 'GET', url: `/v1/entities/${'a'.repeat(129)}`, field: 'path.id' },
    { name: 'unknown query parameter', method: 'GET', url: '/v1/memories?query=x&sort=asc', field: 'query.sort' },
    { name: 'missing search query', method: 'GET', url: '/v1/memories', field: 'query.query' },
    { name: 'memory pageSize above 100', method: 'GET', url: '/v1/memories?query=x&pageSize=101', field: 'query.pageSize' },
    { name: 'pageSize that is not a number', method: 'GET', url: '/v1/memories?query=x&pageSize=ten', field: 'query.pageSize' },
    { name: 'audit pageSize above 500', method: 'GET', url: '/v1/audit/records?pageSize=501', field: 'query.pageSize' },
    { name: 'audit time that is not ISO-8601', method: 'GET', url: '/v1/audit/records?startTime=yesterday', field: 'query.startTime' },
    { name: 'audit time before year 1 once its offset applies', method: 'GET', url: '/v1/audit/records?endTime=0001-01-01T00%3A00%3A00%2B00%3A03', field: 'query.endTime' },
    { name: 'audit outcome that is not one of the six', method: 'GET', url: '/v1/audit/records?outcome=maybe', field: 'query.outcome' },
    { name: 'query on a route without one', method: 'GET', url: '/v1/system/health?verbose=1', field: 'query.verbose' },
  ];

  it.each(cases)('$name → $field', async ({ method, url, payload, field }) => {
    const before = fakes.calls.length;
    const response = await gateway.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
    const body = expectProblem(response, 400, 'INVALID_ARGUMENT', url.split('?')[0]!);
    expect(body.field).toBe(field);
    expect(body.errors).toEqual([{ field, message: expect.any(String) }]);
    expect(body.detail).toContain(field);
    // Bad input never reaches a service.
    expect(fakes.calls.length).toBe(before);
  });

  it('accepts the bounds themselves', async () => {
    const ok = [
      await gateway.inject({ method: 'POST', url: '/v1/perceptions', payload: { input: 'i', source: 's', salience: 1 } }),
      await gateway.inject({ method: 'POST', url: '/v1/perceptions', payload: { input: 'i', source: 's', salience: 0 } }),
      await gateway.inject({ method: 'GET', url: '/v1/memories?query=x&pageSize=100' }),
      await gateway.inject({ method: 'GET', url: '/v1/memories?query=x&pageSize=0' }),
      await gateway.inject({ method: 'GET', url: '/v1/audit/records?pageSize=500' }),
      await gateway.inject({ method: 'GET', url: `/v1/entities/${'a'.repeat(128)}` }),
    ];
    expect(ok.map((r) => r.statusCode)).toEqual([201, 201, 200, 200, 200, 404]);
  });
});

describe('downstream errors', () => {
  it('NOT_FOUND → 404 not-found with the resource kind', async () => {
    const response = await gateway.inject({ method: 'GET', url: `/v1/memories/${MEMORY_ID}` });
    const body = expectProblem(response, 404, 'NOT_FOUND', `/v1/memories/${MEMORY_ID}`);
    expect(body.detail).toBe(`memory ${MEMORY_ID} was not found`);
    expect(body.resource).toBe('memory');
  });

  it('INVALID_ARGUMENT with a field → 400 naming that field in the gateway convention', async () => {
    fakes.handlers.consciousness.perceive = async () => {
      throw invalidArgument('salience', 'salience must be between 0 and 1');
    };
    fakes.handlers.memory.searchMemories = async () => {
      throw invalidArgument('page_token', 'page_token is not a token this service issued');
    };
    fakes.handlers.soul.recordInteraction = async () => {
      throw invalidArgument('entity_id', 'entity_id is malformed');
    };
    const perceive = await gateway.inject({ method: 'POST', url: '/v1/perceptions', payload: { input: 'i', source: 's', salience: 0.5 } });
    expect(expectProblem(perceive, 400, 'INVALID_ARGUMENT', '/v1/perceptions')).toMatchObject({
      field: 'body.salience',
      detail: 'salience must be between 0 and 1',
      errors: [{ field: 'body.salience', message: 'salience must be between 0 and 1' }],
    });
    const search = await gateway.inject({ method: 'GET', url: '/v1/memories?query=x&pageToken=forged' });
    expect(expectProblem(search, 400, 'INVALID_ARGUMENT', '/v1/memories').field).toBe('query.pageToken');
    const interaction = await gateway.inject({ method: 'POST', url: '/v1/entities/e/interactions', payload: { valence: 0 } });
    expect(expectProblem(interaction, 400, 'INVALID_ARGUMENT', '/v1/entities/e/interactions').field).toBe('path.id');
  });

  it('DEPENDENCY_UNAVAILABLE → 503 naming the service called, with Retry-After from retryAfterMs', async () => {
    fakes.handlers.consciousness.perceive = async () => {
      throw dependencyUnavailable('soul', undefined, 2500);
    };
    const response = await gateway.inject({ method: 'POST', url: '/v1/perceptions', payload: { input: 'i', source: 's', salience: 0.5 } });
    const body = expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE', '/v1/perceptions');
    expect(body.dependency).toBe('consciousness');
    expect(response.headers['retry-after']).toBe('3');
  });

  it('other service codes keep their status from ERROR_CODES', async () => {
    fakes.handlers.soul.upsertEntity = async () => {
      throw new JameyError('CONFLICT', 'entity e was renamed concurrently');
    };
    const response = await gateway.inject({ method: 'PUT', url: '/v1/entities/e', payload: { name: 'E' } });
    expect(expectProblem(response, 409, 'CONFLICT', '/v1/entities/e').detail).toBe('entity e was renamed concurrently');
  });

  it('an unknown error in a service → 500 with a generic detail, leaking nothing', async () => {
    fakes.handlers.memory.getMemory = async () => {
      throw new Error('password=hunter2 at db.internal:5432');
    };
    const response = await gateway.inject({ method: 'GET', url: `/v1/memories/${MEMORY_ID}` });
    const body = expectProblem(response, 500, 'INTERNAL', `/v1/memories/${MEMORY_ID}`);
    expect(body.detail).toBe('An unexpected error occurred. It has been logged.');
    expect(response.body).not.toMatch(/hunter2|db\.internal|memory failed|stack|at /);
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'instance', 'status', 'title', 'type']);
    expect(gateway.logs.some((line) => line.level === 'error')).toBe(true);
  });

  it('an unexpected error in the gateway itself → 500, logged in full', async () => {
    // The downstream breaks its contract: a memory without create_time.
    fakes.handlers.memory.getMemory = async () => ({ memory: sampleMemory({ createTime: undefined }) });
    const response = await gateway.inject({ method: 'GET', url: `/v1/memories/${MEMORY_ID}` });
    const body = expectProblem(response, 500, 'INTERNAL', `/v1/memories/${MEMORY_ID}`);
    expect(response.body).not.toContain('create_time');
    expect(body.detail).toBe('An unexpected error occurred. It has been logged.');
    const logged = gateway.logs.find((line) => line.level === 'error');
    expect(logged).toMatchObject({ msg: 'unhandled error', err: { message: 'downstream response lacks memory.create_time', stack: expect.any(String) } });
  });
});

describe('a stopped downstream', () => {
  let own: FakeDownstreams;
  let isolated: TestGateway;
  beforeAll(async () => {
    own = await startFakeDownstreams();
    isolated = createTestGateway({ addresses: own.addresses });
    await own.stop('memory');
  });
  afterAll(async () => {
    await isolated?.close();
    await own?.close();
  });

  it('→ 503 dependency-unavailable naming it, with Retry-After', async () => {
    const response = await isolated.inject({ method: 'GET', url: `/v1/memories/${MEMORY_ID}` });
    const body = expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE', `/v1/memories/${MEMORY_ID}`);
    expect(body.dependency).toBe('memory');
    expect(body.detail).toBe('memory is unavailable');
    expect(response.headers['retry-after']).toBe('1');
  });

  it('leaves the other downstreams reachable', async () => {
    const response = await isolated.inject({ method: 'GET', url: '/v1/system/health' });
    expect(response.statusCode).toBe(200);
  });
});

describe('HTTP-level failures', () => {
  it('a method no route has (QUERY, with or without a body) → 405 with Allow, or 404 on an unknown path; never a body error', async () => {
    const query = await gateway.inject({ method: 'QUERY' as 'GET', url: '/v1/memories' });
    expectProblem(query, 405, 'METHOD_NOT_ALLOWED', '/v1/memories');
    expect(query.headers.allow).toBe('GET, HEAD, POST');
    const withBody = await gateway.inject({ method: 'QUERY' as 'GET', url: '/openapi.json', headers: { 'content-type': 'text/plain' }, payload: 'x' });
    expectProblem(withBody, 405, 'METHOD_NOT_ALLOWED', '/openapi.json');
    expectProblem(await gateway.inject({ method: 'QUERY' as 'GET', url: '/v1/nothing-here' }), 404, 'NOT_FOUND', '/v1/nothing-here');
  });

  it('malformed JSON → 400 invalid-argument on `body`', async () => {
    const response = await gateway.inject({
      method: 'POST',
      url: '/v1/memories',
      headers: { 'content-type': 'application/json' },
      payload: '{"content": "x",',
    });
    const body = expectProblem(response, 400, 'INVALID_ARGUMENT', '/v1/memories');
    expect(body.field).toBe('body');
  });

  it('an empty JSON body → 400', async () => {
    const response = await gateway.inject({ method: 'POST', url: '/v1/memories', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(expectProblem(response, 400, 'INVALID_ARGUMENT', '/v1/memories').field).toBe('body');
  });

  it('prototype poisoning → 400, not 500', async () => {
    const response = await gateway.inject({
      method: 'POST',
      url: '/v1/memories',
      headers: { 'content-type': 'application/json' },
      payload: '{"content":"x","__proto__":{"admin":true}}',
    });
    expectProblem(response, 400, 'INVALID_ARGUMENT', '/v1/memories');
  });

  it('a body over the limit → 413 payload-too-large', async () => {
    const response = await gateway.inject({ method: 'POST', url: '/v1/memories', payload: { content: 'x'.repeat(BODY_LIMIT) } });
    expect(expectProblem(response, 413, 'PAYLOAD_TOO_LARGE', '/v1/memories').detail).toContain(String(BODY_LIMIT));
  });

  it.each(['text/plain', 'application/xml', 'application/x-www-form-urlencoded'])('a %s body → 415 unsupported-media-type', async (type) => {
    const response = await gateway.inject({ method: 'POST', url: '/v1/memories', headers: { 'content-type': type }, payload: 'content=x' });
    expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE', '/v1/memories');
  });

  it('an unknown route → 404 not-found', async () => {
    const response = await gateway.inject({ method: 'GET', url: '/v1/nothing-here?x=1' });
    expect(expectProblem(response, 404, 'NOT_FOUND', '/v1/nothing-here').detail).toBe('no route GET /v1/nothing-here');
  });

  it('a known path with the wrong method → 405 with Allow', async () => {
    const response = await gateway.inject({ method: 'PATCH', url: `/v1/memories/${MEMORY_ID}` });
    expectProblem(response, 405, 'METHOD_NOT_ALLOWED', `/v1/memories/${MEMORY_ID}`);
    expect(response.headers.allow).toBe('DELETE, GET, HEAD');
    const post = await gateway.inject({ method: 'DELETE', url: '/v1/perceptions' });
    expectProblem(post, 405, 'METHOD_NOT_ALLOWED', '/v1/perceptions');
    expect(post.headers.allow).toBe('POST');
  });

  it('a path parameter beyond the router limit → 400, not a bare error', async () => {
    const url = `/v1/entities/${'a'.repeat(600)}`;
    expectProblem(await gateway.inject({ method: 'GET', url }), 400, 'INVALID_ARGUMENT', url);
  });

  it('a malformed percent-encoding in the path → 400', async () => {
    const response = await gateway.inject({ method: 'GET', url: '/v1/entities/%E0%A4%A' });
    expectProblem(response, 400, 'INVALID_ARGUMENT', '/v1/entities/%E0%A4%A');
  });

  it('a request Node refuses before routing (headers over 16 KiB, a broken request line) → problem+json, not Fastify\'s own body', async () => {
    const listening = createTestGateway({ addresses: fakes.addresses, bodyLimitBytes: BODY_LIMIT });
    try {
      await listening.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = listening.app.server.address() as AddressInfo;
      const raw = (request: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(request));
          let answer = '';
          socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
          socket.on('end', () => resolve(answer));
          socket.on('error', reject);
        });
      for (const [request, status, code] of [
        [`GET /v1/memories?query=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
        ['NOT HTTP AT ALL\r\n\r\n', 400, 'INVALID_ARGUMENT'],
      ] as const) {
        const answer = await raw(request);
        const [head = '', body = ''] = answer.split('\r\n\r\n');
        expect(head.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${status === 431 ? 'Request header fields too large' : 'Invalid argument'}`);
        expect(head).toMatch(/content-type: application\/problem\+json/i);
        expect(JSON.parse(body)).toMatchObject({ status, code, type: `https://jamey.io/problems/${code.toLowerCase().replaceAll('_', '-')}`, instance: '' });
      }
    } finally {
      await listening.close();
    }
  });
});
