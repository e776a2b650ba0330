/** The OpenAPI 3.1 document at /openapi.json is valid and describes every route. */
import { compileErrors, validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createTestGateway, type TestGateway } from './testing/test-gateway.js';

let fakes: FakeDownstreams;
let gateway: TestGateway;
let document: OpenAPIV3_1.Document;
/** `METHOD /path/{param}` of every public route Fastify registered. */
const registered: string[] = [];

beforeAll(async () => {
  fakes = await startFakeDownstreams();
  gateway = createTestGateway({ addresses: fakes.addresses });
  gateway.app.addHook('onRoute', (route) => {
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true || route.url.startsWith('/docs');
    for (const method of [route.method].flat()) {
      if (!hidden && method !== 'HEAD') registered.push(`${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    }
  });
  const response = await gateway.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(response.statusCode).toBe(200);
  document = response.json();
});
afterAll(async () => {
  await gateway?.close();
  await fakes?.close();
});

const operations = (doc: OpenAPIV3_1.Document) =>
  Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    (['get', 'put', 'post', 'delete', 'patch'] as const)
      .filter((method) => item?.[method] !== undefined)
      .map((method) => ({ key: `${method.toUpperCase()} ${path}`, operation: item![method]! })),
  );

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: 'Jamey API', version: '0.0.0-test' });
    const result = await validate(structuredClone(document) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('describes exactly the registered routes', () => {
    expect(registered.length).toBeGreaterThan(0);
    expect(operations(document).map((o) => o.key).sort()).toEqual([...registered].sort());
    expect([...registered].sort()).toEqual(
      [
        'POST /v1/memories',
        'GET /v1/memories',
        'GET /v1/memories/{id}',
        'DELETE /v1/memories/{id}',
        'POST /v1/perceptions',
        'GET /v1/consciousness/state',
        'GET /v1/consciousness/integration',
        'PUT /v1/entities/{id}',
        'GET /v1/entities/{id}',
        'POST /v1/entities/{id}/interactions',
        'GET /v1/audit/records',
        'GET /v1/audit/log/info',
        'GET /v1/audit/log/checkpoint',
        'GET /v1/audit/log/inclusion-proof',
        'GET /v1/audit/log/consistency-proof',
        'GET /v1/audit/log/verify',
        'GET /v1/system/degradation',
        'GET /v1/system/health',
        'GET /v1/system/alerts',
      ].sort(),
    );
  });

  it('gives every operation an id, a success schema and problem+json error responses', () => {
    expect(document.components?.schemas?.['Problem']).toMatchObject({ type: 'object', required: expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance', 'code']) });
    for (const { key, operation } of operations(document)) {
      expect(operation.operationId, key).toBeTruthy();
      const responses = operation.responses as Record<string, OpenAPIV3_1.ResponseObject>;
      const success = Object.keys(responses).filter((status) => status.startsWith('2'));
      expect(success.length, key).toBeGreaterThan(0);
      for (const status of success) {
        if (status !== '204') expect(responses[status]?.content?.['application/json']?.schema, `${key} ${status}`).toBeDefined();
      }
      const withBody = operation.requestBody !== undefined;
      const addressesOne = ['getMemory', 'deleteMemory', 'getEntity', 'recordInteraction'].includes(operation.operationId ?? '');
      const errors = ['400', '500', '503', '504', ...(withBody ? ['413', '415'] : []), ...(addressesOne ? ['404'] : [])];
      for (const status of errors) {
        expect(responses[status]?.content?.['application/problem+json']?.schema, `${key} ${status}`).toEqual({
          $ref: '#/components/schemas/Problem',
        });
      }
    }
  });

  it('documents the Location header of creations', () => {
    const created = document.paths?.['/v1/memories']?.post?.responses?.['201'] as OpenAPIV3_1.ResponseObject;
    expect(created.headers).toHaveProperty('location');
  });

  it('is served with a docs UI at /docs', async () => {
    const ui = await gateway.app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBeLessThan(400);
    const page = await gateway.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
  });
});
