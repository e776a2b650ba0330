/** The gateway's rate limit in memory (embedded mode): headers, the 429 problem, keys, exemptions, windows. */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { problemType } from '../problem.js';
import { startFakeDownstreams, type FakeDownstreams } from '../testing/fake-downstreams.js';
import { createTestGateway, type TestGateway } from '../testing/test-gateway.js';

let fakes: FakeDownstreams;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  fakes = await startFakeDownstreams();
});
afterEach(async () => {
  vi.useRealTimers();
  for (const gateway of gateways.splice(0)) await gateway.close();
});
afterAll(async () => {
  await fakes?.close();
});

function gateway(max: number, windowMs = 60_000): TestGateway {
  const created = createTestGateway({ addresses: fakes.addresses, rateLimit: { max, windowMs } });
  gateways.push(created);
  return created;
}

const state = (g: TestGateway, remoteAddress = '203.0.113.7') => g.inject({ method: 'GET', url: '/v1/consciousness/state', remoteAddress });

describe('rate limit, in memory', () => {
  it('counts down RateLimit-Remaining, then answers 429 problem+json with Retry-After without calling the service', async () => {
    const g = gateway(3);
    for (const remaining of ['2', '1', '0']) {
      const response = await state(g);
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('3');
      expect(response.headers['ratelimit-remaining']).toBe(remaining);
      expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThan(0);
      expect(Number(response.headers['ratelimit-reset'])).toBeLessThanOrEqual(60);
    }
    const callsBefore = fakes.calls.length;

    const limited = await state(g);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json()).toEqual({
      type: problemType('TOO_MANY_REQUESTS'),
      title: 'Too many requests',
      status: 429,
      detail: expect.stringMatching(/more than 3 requests/),
      instance: '/v1/consciousness/state',
      code: 'TOO_MANY_REQUESTS',
    });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers['ratelimit-limit']).toBe('3');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBe(String(retryAfter));
    expect(fakes.calls.length).toBe(callsBefore);
  });

  it('counts each subject on its own, whatever address it comes from', async () => {
    const g = gateway(1);
    const as = async (subject: string, remoteAddress: string) =>
      g.inject({ method: 'GET', url: '/v1/consciousness/state', remoteAddress, headers: { authorization: `Bearer ${await g.token({ subject })}` } });
    expect((await as('alice', '198.51.100.1')).statusCode).toBe(200);
    expect((await as('alice', '198.51.100.2')).statusCode).toBe(429);
    expect((await as('bob', '198.51.100.1')).statusCode).toBe(200);
  });

  it('counts requests without a valid token by client address, an IPv6 /64 as one client, before refusing them', async () => {
    const g = gateway(1);
    const anonymous = (remoteAddress: string) => g.inject({ method: 'GET', url: '/v1/consciousness/state', remoteAddress, headers: { authorization: 'Bearer x.y.z' } });
    expect((await anonymous('198.51.100.1')).statusCode).toBe(401);
    expect((await anonymous('198.51.100.1')).statusCode).toBe(429);
    expect((await anonymous('198.51.100.2')).statusCode).toBe(401);
    expect((await anonymous('2001:db8::1')).statusCode).toBe(401);
    expect((await anonymous('2001:db8::2')).statusCode).toBe(429);
  });

  it('takes the client address from X-Forwarded-For only behind a trusted proxy', async () => {
    const direct = gateway(1);
    const forwarded = (g: TestGateway, client: string) =>
      g.inject({ method: 'GET', url: '/v1/consciousness/state', remoteAddress: '10.0.0.5', headers: { authorization: 'Bearer x.y.z', 'x-forwarded-for': client } });
    expect((await forwarded(direct, '198.51.100.1')).statusCode).toBe(401);
    // Untrusted: the header is ignored, both requests are the proxy's.
    expect((await forwarded(direct, '198.51.100.2')).statusCode).toBe(429);

    const behindProxy = createTestGateway({ addresses: fakes.addresses, rateLimit: { max: 1, windowMs: 60_000 }, trustProxy: ['10.0.0.0/8'] });
    gateways.push(behindProxy);
    expect((await forwarded(behindProxy, '198.51.100.1')).statusCode).toBe(401);
    expect((await forwarded(behindProxy, '198.51.100.2')).statusCode).toBe(401);
    expect((await forwarded(behindProxy, '198.51.100.1')).statusCode).toBe(429);
  });

  it('never limits the health, degradation, status and documentation endpoints', async () => {
    const g = gateway(1);
    await state(g);
    expect((await state(g)).statusCode).toBe(429);
    for (const url of ['/v1/system/health', '/v1/system/degradation', '/openapi.json', '/docs', '/docs/json']) {
      for (let i = 0; i < 3; i += 1) {
        const response = await g.inject({ method: 'GET', url, remoteAddress: '203.0.113.7' });
        expect(response.statusCode, url).toBeLessThan(400);
        expect(response.headers['ratelimit-limit'], url).toBeUndefined();
      }
    }
  });

  it('starts a new window once the old one is over', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const g = gateway(1, 10_000);
    expect((await state(g)).statusCode).toBe(200);
    expect((await state(g)).statusCode).toBe(429);
    vi.setSystemTime(Date.now() + 10_001);
    expect((await state(g)).statusCode).toBe(200);
  });

  it("lets a route set its own limit, counted apart from the global one (config.rateLimit)", async () => {
    const g = gateway(100);
    // Registered as a plugin, like every API route, so it loads after the rate-limit plugin.
    g.app.register(async (api) => {
      api.get('/v1/strict', { config: { scopes: [], rateLimit: { max: 1, timeWindow: 60_000 } } }, async () => ({ ok: true }));
    });
    const strict = () => g.inject({ method: 'GET', url: '/v1/strict', remoteAddress: '203.0.113.9' });
    expect((await strict()).statusCode).toBe(200);
    const second = await strict();
    expect(second.statusCode).toBe(429);
    expect(second.headers['ratelimit-limit']).toBe('1');
    expect((await state(g, '203.0.113.9')).headers['ratelimit-remaining']).toBe('99');
  });
});
