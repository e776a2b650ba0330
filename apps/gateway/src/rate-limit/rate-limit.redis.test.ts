/**
 * The gateway's rate limit on real Redis: counters shared by replicas, and, when Redis fails,
 * per-replica counting at once instead of errors or waiting. Faults come from a TCP proxy in
 * front of the shared Redis.
 */
import { randomBytes } from 'node:crypto';
import { createRedisClient, type RedisClient } from '@jamey/cache';
import { startTcpProxy, type TcpProxy } from '@jamey/cache/testing';
import { cryptoRandom, systemClock } from '@jamey/core';
import { describeWithInfra, waitFor } from '@jamey/data/testing';
import { createLogger } from '@jamey/telemetry';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { loadGatewayConfig } from '../config.js';
import { startGateway } from '../service.js';
import { startFakeDownstreams, type FakeDownstreams } from '../testing/fake-downstreams.js';
import { createGatewayEvents, type GatewayEventsFixture } from '../testing/gateway-events.js';
import { createTestGateway, type TestGateway } from '../testing/test-gateway.js';
import { bearer, TEST_ISSUER, testAuthEnv } from '../testing/test-tokens.js';

describeWithInfra(['REDIS_URL'], 'rate limit on real Redis', (env) => {
  const redisUrl = env['REDIS_URL']!;
  let fakes: FakeDownstreams;
  let events: GatewayEventsFixture;
  let raw: Redis;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    fakes = await startFakeDownstreams();
    events = await createGatewayEvents();
    raw = new Redis(redisUrl);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    raw?.disconnect();
    await fakes?.close();
    await events?.close();
  });

  async function proxy(): Promise<TcpProxy> {
    const started = await startTcpProxy(new URL(redisUrl).host);
    cleanups.push(() => started.close());
    return started;
  }

  const through = (via: TcpProxy): string => {
    const url = new URL(redisUrl);
    url.host = `127.0.0.1:${via.port}`;
    return url.toString();
  };

  async function redisClient(url = redisUrl, warnings: string[] = []): Promise<RedisClient> {
    const client = createRedisClient({
      url,
      clock: systemClock,
      random: cryptoRandom,
      logger: { warn: (_: object, message: string) => void warnings.push(message), info: () => undefined },
      name: 'gateway-test',
      whenDown: 'rate limits are counted per replica',
    });
    cleanups.push(() => client.close());
    await client.ready(2000);
    return client;
  }

  /** A gateway replica counting in Redis under `keyPrefix` (unique per test, so runs never share counters). */
  function replica(redis: RedisClient, keyPrefix: string, max: number): TestGateway {
    const gateway = createTestGateway({ addresses: fakes.addresses, rateLimit: { max, windowMs: 60_000, redis, keyPrefix } });
    cleanups.push(() => gateway.close());
    return gateway;
  }

  const uniquePrefix = (): string => `jamey:test:ratelimit:${randomBytes(6).toString('hex')}:`;
  /** A request by `subject` (default alice), from one address. */
  const state = async (g: TestGateway, subject = 'alice', remoteAddress = '203.0.113.7') =>
    g.inject({ method: 'GET', url: '/v1/consciousness/state', remoteAddress, headers: { authorization: `Bearer ${await g.token({ subject })}` } });
  /** The Redis key of a subject's counter under `prefix`. */
  const subjectKey = (prefix: string, subject = 'alice') => `${prefix}sub:${TEST_ISSUER} ${subject}`;

  it('answers 429 problem+json with Retry-After and RateLimit-* headers, counting in Redis', async () => {
    const prefix = uniquePrefix();
    const g = replica(await redisClient(), prefix, 2);
    expect((await state(g)).statusCode).toBe(200);
    expect((await state(g)).headers['ratelimit-remaining']).toBe('0');
    const limited = await state(g);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json()).toMatchObject({ type: 'https://jamey.io/problems/too-many-requests', status: 429, code: 'TOO_MANY_REQUESTS' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['ratelimit-limit']).toBe('2');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBe(limited.headers['retry-after']);
    // The counter is Redis's, keyed by the token's subject, with the window as its expiry.
    expect(await raw.get(subjectKey(prefix))).toBe('3');
    expect(await raw.pttl(subjectKey(prefix))).toBeGreaterThan(50_000);
  });

  it('holds one limit per subject across two gateway replicas sharing Redis, whatever the address', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [replica(await redisClient(), prefix, 4), replica(await redisClient(), prefix, 4)];
    const remaining = [];
    // Alice moves between replicas and addresses: one count.
    for (const [g, address] of [[a, '203.0.113.7'], [b, '198.51.100.1'], [a, '198.51.100.2'], [b, '203.0.113.7']] as const) {
      remaining.push((await state(g, 'alice', address)).headers['ratelimit-remaining']);
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);
    expect((await state(b)).statusCode).toBe(429);
    expect((await state(a, 'alice', '192.0.2.1')).statusCode).toBe(429);
    // Bob, from Alice's address, on both replicas, has his own limit.
    expect((await state(a, 'bob')).headers['ratelimit-remaining']).toBe('3');
    expect((await state(b, 'bob')).headers['ratelimit-remaining']).toBe('2');
    expect(await raw.get(subjectKey(prefix, 'alice'))).toBe('6');
    expect(await raw.get(subjectKey(prefix, 'bob'))).toBe('2');
  });

  it('limits requests without a valid token by address across replicas, before answering 401', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [replica(await redisClient(), prefix, 2), replica(await redisClient(), prefix, 2)];
    const guess = (g: TestGateway, remoteAddress = '203.0.113.50') =>
      g.inject({ method: 'GET', url: '/v1/consciousness/state', remoteAddress, headers: { authorization: 'Bearer not.a.token' } });
    expect((await guess(a)).statusCode).toBe(401);
    expect((await guess(b)).statusCode).toBe(401);
    const limited = await guess(a);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(await raw.get(`${prefix}ip:203.0.113.50`)).toBe('3');
    expect((await guess(b, '203.0.113.51')).statusCode).toBe(401);
  });

  it('counts per replica at once when Redis is unreachable, warns once, and shares counters again when it is back', async () => {
    const prefix = uniquePrefix();
    const via = await proxy();
    const warnings: string[] = [];
    const redis = await redisClient(through(via), warnings);
    const a = replica(redis, prefix, 3);
    const b = replica(await redisClient(through(via)), prefix, 3);
    expect((await state(a)).headers['ratelimit-remaining']).toBe('2');

    await via.cut();
    // Each replica now counts alone, from zero: never a 5xx. A request waits on Redis at most
    // the command timeout (250 ms: a command sent just as the connection died), never for the
    // outage; once the breaker is open, not at all.
    const statuses: number[] = [];
    for (const g of [a, a, a, a, b, b, b, b]) {
      const started = performance.now();
      statuses.push((await state(g)).statusCode);
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 200, 200, 200, 429]);
    expect(redis.policies.breaker.state).toBe('open');
    const latencies: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      expect((await state(a)).statusCode).toBe(429);
      latencies.push(performance.now() - started);
    }
    expect(Math.min(...latencies)).toBeLessThan(20);
    expect(warnings.filter((w) => w.startsWith('redis unavailable'))).toHaveLength(1);

    await via.restore();
    // Requests probe the breaker; once it closes, the count is Redis's again.
    await waitFor(
      async () => {
        await state(a);
        return redis.policies.breaker.state === 'closed';
      },
      { timeoutMs: 15_000, intervalMs: 200, message: 'the redis breaker to close' },
    );
    // One request before the outage and at least the probe after it; the next count continues from there.
    const counted = Number(await raw.get(subjectKey(prefix)));
    expect(counted).toBeGreaterThanOrEqual(2);
    expect((await state(a)).headers['ratelimit-remaining']).toBe(String(Math.max(0, 3 - (counted + 1))));
    expect(Number(await raw.get(subjectKey(prefix)))).toBe(counted + 1);
    expect(warnings.filter((w) => w.startsWith('redis unavailable'))).toHaveLength(1);
  }, 30_000);

  it("shows redis in /v1/system/degradation: full while it answers, degraded with an open breaker while it does not", async () => {
    const via = await proxy();
    const config = loadGatewayConfig({
      ...(await testAuthEnv()),
      ...events.env,
      JAMEY_BIND_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      GATEWAY_ADMIN_PORT: '0',
      REDIS_URL: through(via),
      JAMEY_RATE_LIMIT_MAX: '1000',
      ...Object.fromEntries(Object.entries(fakes.addresses).map(([name, address]) => [`${name.toUpperCase()}_ADDRESS`, address])),
    });
    const gateway = await startGateway({ config, logger: createLogger({ service: 'gateway', level: 'silent' }), transport: events.transport, mode: 'infrastructure' });
    cleanups.push(() => gateway.stop());
    const base = `http://127.0.0.1:${gateway.port}`;
    const redisView = async () =>
      ((await (await fetch(`${base}/v1/system/degradation`, { headers: await bearer() })).json()) as { dependencies: { name: string; level: string; circuit: string }[] }).dependencies.find(
        (d) => d.name === 'redis',
      );

    expect(await redisView()).toEqual({ name: 'redis', level: 'full', circuit: 'closed', retryAfterMs: 0 });
    await via.cut();
    const headers = await bearer();
    for (let i = 0; i < 10; i += 1) expect((await fetch(`${base}/v1/consciousness/state`, { headers })).status).toBe(200);
    const degraded = await redisView();
    expect(degraded?.circuit).toBe('open');
    expect(degraded?.level).not.toBe('full');
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    expect(metrics).toMatch(/^jamey_circuit_breaker_state\{[^}]*dependency="redis"[^}]*state="open"[^}]*\} 1$/m);
  });
});
