/**
 * Authentication and authorization at the gateway, through `inject()` with real tokens: every
 * `/v1` route declares its scopes (walked from the registered routes, so none can be added
 * unprotected), and the refusals are 401/403/503 problems with their challenge.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServiceAuth, createUserAuth, generateServiceKeyring, SCOPE_NAMES, type Scope } from '@jamey/security';
import type { LightMyRequestResponse } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UndeclaredScopesError } from './auth.js';
import { startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createTestGateway, type TestGateway } from './testing/test-gateway.js';

/** Every `/v1` operation and the scopes docs/security.md gives it. */
const EXPECTED_SCOPES: Readonly<Record<string, readonly Scope[]>> = {
  'POST /v1/memories': ['memory:write'],
  'GET /v1/memories': ['memory:read'],
  'GET /v1/memories/:id': ['memory:read'],
  'DELETE /v1/memories/:id': ['memory:write'],
  'POST /v1/perceptions': ['consciousness:write'],
  'GET /v1/consciousness/state': ['consciousness:read'],
  'GET /v1/consciousness/integration': ['consciousness:read'],
  'PUT /v1/entities/:id': ['soul:write'],
  'GET /v1/entities/:id': ['soul:read'],
  'POST /v1/entities/:id/interactions': ['soul:write'],
  'GET /v1/audit/records': ['audit:read'],
  'GET /v1/audit/log/info': ['audit:read'],
  'GET /v1/audit/log/checkpoint': ['audit:read'],
  'GET /v1/audit/log/inclusion-proof': ['audit:read'],
  'GET /v1/audit/log/consistency-proof': ['audit:read'],
  'GET /v1/audit/log/verify': ['audit:read', 'admin'],
  'GET /v1/system/degradation': [],
  'GET /v1/system/health': [],
  'GET /v1/system/alerts': [],
};

let fakes: FakeDownstreams;
let gateway: TestGateway;
/** `METHOD /url` → `config.scopes` of every route Fastify registered (HEAD aside). */
const routes = new Map<string, unknown>();

beforeAll(async () => {
  const keyring = await generateServiceKeyring();
  fakes = await startFakeDownstreams(undefined, { keyring });
  gateway = createTestGateway({ addresses: fakes.addresses, serviceTokens: (await createServiceAuth('gateway', { keyring })).minter });
  gateway.app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.set(`${method} ${route.url}`, route.config?.scopes);
  });
  await gateway.app.ready();
});
afterAll(async () => {
  await gateway?.close();
  await fakes?.close();
});

const MEMORY_ID = '0190a0b0-c0d0-7e00-8f00-0000000000ff';
const concrete = (url: string) => url.replace(':id', url.includes('memories') ? MEMORY_ID : 'e1');

function expectProblem(response: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code, type: `https://jamey.io/problems/${code.toLowerCase().replaceAll('_', '-')}` });
  return body;
}

describe('scopes are declared beside every route', () => {
  it('every /v1 route declares its scopes, and they are the documented ones', () => {
    const api = [...routes].filter(([key]) => key.split(' ')[1]!.startsWith('/v1'));
    expect(api.length).toBeGreaterThan(0);
    for (const [key, scopes] of api) expect(Array.isArray(scopes), `${key} declares config.scopes`).toBe(true);
    expect(Object.fromEntries(api)).toEqual(EXPECTED_SCOPES);
  });

  it('a /v1 route without scopes fails the start', async () => {
    const other = createTestGateway({ addresses: fakes.addresses });
    other.app.register(async (api) => {
      api.get('/v1/forgotten', async () => ({ secret: true }));
    });
    await expect(other.app.ready()).rejects.toThrow(UndeclaredScopesError);
    await other.close().catch(() => undefined);
  });

  it('lists each operation’s scopes in the OpenAPI document, with its 401 and 403 answers', async () => {
    const document = (await gateway.app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenAPIV3_1.Document>();
    expect(document.components?.securitySchemes?.['bearerAuth']).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const [key, scopes] of Object.entries(EXPECTED_SCOPES)) {
      const [method, url] = key.split(' ') as [string, string];
      const operation = document.paths?.[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase() as 'get'];
      expect(operation?.security, key).toEqual([{ bearerAuth: [...scopes] }]);
      for (const status of ['401', '403']) expect((operation?.responses as Record<string, unknown>)[status], `${key} ${status}`).toBeDefined();
    }
  });
});

describe('authentication', () => {
  it('every /v1 route without a token → 401 problem with a bare Bearer challenge, before the downstream is called', async () => {
    for (const key of Object.keys(EXPECTED_SCOPES)) {
      const [method, url] = key.split(' ') as ['GET', string];
      const before = fakes.calls.length;
      const response = await gateway.app.inject({ method, url: concrete(url) });
      const body = expectProblem(response, 401, 'UNAUTHENTICATED');
      expect(body.detail, key).toBe('No token was presented');
      expect(response.headers['www-authenticate'], key).toBe('Bearer realm="jamey"');
      expect(fakes.calls.length, key).toBe(before);
    }
  });

  it('another scheme counts as no token; a malformed one is invalid_token', async () => {
    const basic = await gateway.app.inject({ method: 'GET', url: '/v1/system/health', headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } });
    expect(basic.statusCode).toBe(401);
    expect(basic.headers['www-authenticate']).toBe('Bearer realm="jamey"');
    const junk = await gateway.app.inject({ method: 'GET', url: '/v1/system/health', headers: { authorization: 'Bearer junk' } });
    expectProblem(junk, 401, 'UNAUTHENTICATED');
    expect(junk.headers['www-authenticate']).toBe('Bearer realm="jamey", error="invalid_token", error_description="The token is malformed"');
  });

  it('an unknown /v1 path needs a token too: 401 without, 404 with', async () => {
    expectProblem(await gateway.app.inject({ method: 'GET', url: '/v1/nothing-here' }), 401, 'UNAUTHENTICATED');
    expectProblem(await gateway.inject({ method: 'GET', url: '/v1/nothing-here' }), 404, 'NOT_FOUND');
  });

  it('needs a token however the path is spelled: percent-encoded, with a query', async () => {
    for (const url of ['/%76%31/memories?query=x', '/v1/memories%3Fquery=x', '/v1/memories/?query=x', '/v1/system/health?x=1']) {
      const response = await gateway.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(401);
    }
  });

  it('leaves the documentation and the OpenAPI document public', async () => {
    expect((await gateway.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
    expect((await gateway.app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
  });

  it('a key set that cannot be fetched → 503 dependency-unavailable, not 401 and never 500', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const auth = await createUserAuth(
      { issuer: 'https://idp.example.org/', audience: 'jamey-api', jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` },
      { mode: 'infrastructure' },
    );
    const unreachable = createTestGateway({ addresses: fakes.addresses, auth });
    try {
      const response = await unreachable.inject({ method: 'GET', url: '/v1/system/health' });
      const body = expectProblem(response, 503, 'DEPENDENCY_UNAVAILABLE');
      expect(body.dependency).toBe('user token keys');
      expect(response.headers['www-authenticate']).toBeUndefined();
      expect(response.headers['retry-after']).toBeDefined();
    } finally {
      await unreachable.close();
    }
  });
});

describe('authorization', () => {
  it('a token without the route’s scopes → 403 naming the missing ones; with exactly them → through', async () => {
    for (const [key, scopes] of Object.entries(EXPECTED_SCOPES)) {
      const [method, url] = key.split(' ') as ['GET', string];
      const others = SCOPE_NAMES.filter((scope) => !scopes.includes(scope));
      const denied = await gateway.inject({ method, url: concrete(url), headers: { authorization: `Bearer ${await gateway.token({ scopes: others })}` } });
      if (scopes.length === 0) {
        expect(denied.statusCode, key).not.toBe(403);
      } else {
        const body = expectProblem(denied, 403, 'PERMISSION_DENIED');
        expect(body.detail, key).toBe(`The token lacks a required scope: ${scopes.join(' ')}`);
        expect(denied.headers['www-authenticate'], key).toBe(
          `Bearer realm="jamey", error="insufficient_scope", error_description="The token lacks a required scope", scope="${scopes.join(' ')}"`,
        );
      }
      const allowed = await gateway.inject({ method, url: concrete(url), headers: { authorization: `Bearer ${await gateway.token({ scopes })}` } });
      expect([401, 403], `${key} with ${scopes.join(' ')}`).not.toContain(allowed.statusCode);
    }
  });

  it('names only the scopes that are missing', async () => {
    const response = await gateway.inject({
      method: 'GET',
      url: '/v1/audit/log/verify',
      headers: { authorization: `Bearer ${await gateway.token({ scopes: ['audit:read'] })}` },
    });
    expect(expectProblem(response, 403, 'PERMISSION_DENIED').detail).toBe('The token lacks a required scope: admin');
  });
});

describe('the end user reaches the services', () => {
  it('each downstream call carries a service token from the gateway naming the token’s subject', async () => {
    fakes.reset();
    const as = async (subject: string) => ({ authorization: `Bearer ${await gateway.token({ subject })}` });
    expect((await gateway.inject({ method: 'GET', url: '/v1/memories?query=x', headers: await as('alice') })).statusCode).toBe(200);
    expect((await gateway.inject({ method: 'GET', url: '/v1/consciousness/state', headers: await as('bob') })).statusCode).toBe(200);
    expect(fakes.calls.map((call) => [call.service, call.caller, call.userSubject])).toEqual([
      ['memory', 'gateway', 'alice'],
      ['consciousness', 'gateway', 'bob'],
    ]);
  });
});
