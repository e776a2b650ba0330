/**
 * The JWT attack suite, against a running gateway (startGateway, real HTTP) whose keys come
 * from a real JWKS endpoint on loopback. Every forged, stale or misdirected token gets exactly
 * its 401 (or 403), as problem+json, with the RFC 6750 challenge naming why, and an access
 * record (`gateway.request_completed`) through the gateway's outbox and relay saying so.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessOutcome } from '@jamey/events';
import { AUTH_ERROR_REASONS, type AuthErrorReason } from '@jamey/security';
import { createLogger } from '@jamey/telemetry';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';
import { startGateway, type RunningGateway } from './service.js';
import { startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createGatewayEvents, type GatewayEventsFixture } from './testing/gateway-events.js';

const ISSUER = 'https://idp.attack.test/';
const AUDIENCE = 'jamey-api';
const KID = 'rsa-2026-01';
const TOLERANCE_SEC = 5;

let fakes: FakeDownstreams;
let events: GatewayEventsFixture;
let jwks: Server;
let gateway: RunningGateway;
let privateKey: CryptoKey;
let publicPem: string;

beforeAll(async () => {
  fakes = await startFakeDownstreams();
  events = await createGatewayEvents();
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicPem = await exportSPKI(pair.publicKey);
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  jwks = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const config = loadGatewayConfig({
    ...events.env,
    JAMEY_BIND_HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    GATEWAY_ADMIN_PORT: '0',
    GATEWAY_AUTH_ISSUER: ISSUER,
    GATEWAY_AUTH_AUDIENCE: AUDIENCE,
    GATEWAY_AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
    GATEWAY_AUTH_CLOCK_TOLERANCE_SEC: String(TOLERANCE_SEC),
    ...Object.fromEntries(Object.entries(fakes.addresses).map(([name, address]) => [`${name.toUpperCase()}_ADDRESS`, address])),
  });
  gateway = await startGateway({ config, logger: createLogger({ service: 'gateway', level: 'silent' }), transport: events.transport, mode: 'infrastructure' });
});
afterAll(async () => {
  await gateway?.stop();
  await new Promise((resolve) => jwks?.close(resolve));
  await fakes?.close();
  await events?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'mallory',
  iat: now(),
  exp: now() + 300,
  scope: 'memory:read',
  ...overrides,
});
const sign = (payload: JWTPayload, header: Record<string, unknown> = {}) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: KID, ...header }).sign(privateKey);
const encode = (value: unknown) => base64url.encode(JSON.stringify(value));

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const call = (token: string, path = '/v1/memories?query=x') =>
  fetch(`http://127.0.0.1:${gateway.port}${path}`, {
    headers: { authorization: `Bearer ${token}`, 'user-agent': 'attack-suite/1', traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
  });

/** The access record the last request produced: actor `actor` (empty: anonymous), with every field. */
async function expectRecorded(expected: {
  outcome: AccessOutcome;
  status: number;
  reason: string;
  actor?: string;
  action?: string;
  resource?: string;
  missingScopes?: string[];
}): Promise<void> {
  const { actor = '', action = 'GET /v1/memories', resource = '/v1/memories', ...rest } = expected;
  const record = await events.log.next('gateway.request_completed', actor === '' ? 'anonymous' : actor);
  expect(record).toMatchObject({ actor, action, resource, ...rest, ip: '127.0.0.1', userAgent: 'attack-suite/1', traceId: TRACE_ID, count: 0 });
}

async function expectRefused(response: Response, reason: AuthErrorReason): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(await response.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', detail: AUTH_ERROR_REASONS[reason] });
  expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="jamey", error="invalid_token", error_description="${AUTH_ERROR_REASONS[reason]}"`);
  await expectRecorded({ outcome: AccessOutcome.ACCESS_OUTCOME_UNAUTHENTICATED, status: 401, reason });
}

describe('JWT attacks against the running gateway', () => {
  it('accepts an honest token (the baseline every attack departs from)', async () => {
    expect((await call(await sign(claims()))).status).toBe(200);
    await expectRecorded({ outcome: AccessOutcome.ACCESS_OUTCOME_ALLOWED, status: 200, reason: '', actor: 'mallory' });
  });

  it('alg none: refused before any key is looked up', async () => {
    await expectRefused(await call(`${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims())}.`), 'alg_not_allowed');
  });

  it('HS256 signed with the public key (key confusion)', async () => {
    const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: KID }).sign(new TextEncoder().encode(publicPem));
    await expectRefused(await call(forged), 'alg_not_allowed');
  });

  it('an expired token, past the tolerance', async () => {
    await expectRefused(await call(await sign(claims({ iat: now() - 600, exp: now() - TOLERANCE_SEC - 60 }))), 'expired');
  });

  it('a token whose nbf is in the future, past the tolerance', async () => {
    await expectRefused(await call(await sign(claims({ nbf: now() + TOLERANCE_SEC + 60 }))), 'not_yet_valid');
  });

  it('the wrong issuer', async () => {
    await expectRefused(await call(await sign(claims({ iss: 'https://evil.example.net/' }))), 'wrong_issuer');
  });

  it('the wrong audience', async () => {
    await expectRefused(await call(await sign(claims({ aud: 'another-api' }))), 'wrong_audience');
  });

  it('a missing scope → 403 insufficient_scope naming it', async () => {
    const response = await call(await sign(claims({ scope: 'memory:read' })), '/v1/consciousness/state');
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 403, code: 'PERMISSION_DENIED', detail: 'The token lacks a required scope: consciousness:read' });
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="jamey", error="insufficient_scope", error_description="The token lacks a required scope", scope="consciousness:read"',
    );
    await expectRecorded({
      outcome: AccessOutcome.ACCESS_OUTCOME_DENIED,
      status: 403,
      reason: 'insufficient_scope',
      actor: 'mallory',
      action: 'GET /v1/consciousness/state',
      resource: '/v1/consciousness/state',
      missingScopes: ['consciousness:read'],
    });
  });

  it('a tampered payload (more scopes, same signature)', async () => {
    const [header, , signature] = (await sign(claims())).split('.');
    const tampered = `${header}.${encode(claims({ scope: 'memory:read memory:write admin' }))}.${signature}`;
    await expectRefused(await call(tampered), 'bad_signature');
  });

  it('a truncated token: without its signature part, and with a cut signature', async () => {
    const token = await sign(claims());
    await expectRefused(await call(token.split('.').slice(0, 2).join('.')), 'malformed');
    await expectRefused(await call(token.slice(0, -12)), 'bad_signature');
  });

  it('an oversized token, refused before it is decoded', async () => {
    await expectRefused(await call(await sign(claims({ padding: 'x'.repeat(9000) }))), 'too_large');
  });

  it('a key id that is not in the JWKS', async () => {
    await expectRefused(await call(await sign(claims(), { kid: 'rsa-unknown' })), 'unknown_kid');
  });

  it('no record was left over: each request made exactly one', () => {
    expect(events.log.pending('gateway.request_completed')).toBe(0);
  });

  it('no attack reached a service', () => {
    // Only the honest baseline got through.
    expect(fakes.calls.filter((c) => c.method === 'searchMemories')).toHaveLength(1);
    expect(fakes.calls.filter((c) => c.method === 'getState')).toHaveLength(0);
  });
});
