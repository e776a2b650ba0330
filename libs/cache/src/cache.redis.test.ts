/**
 * The cache on real Redis: replicas share L2 and invalidate each other's L1 over pub/sub, and
 * every Redis fault (down, hung, breaker open) degrades to L1 and the loader, never to an error.
 * Faults come from a TCP proxy in front of the shared Redis, so other suites are unaffected.
 */
import { randomBytes } from 'node:crypto';
import { cryptoRandom, systemClock } from '@jamey/core';
import { describeWithInfra, waitFor } from '@jamey/data/testing';
import { Redis } from 'ioredis';
import { afterEach, expect, it, vi } from 'vitest';
import { cacheRedisNames, createCache, type Cache, type CacheLookup } from './cache.js';
import { jsonCodec } from './codec.js';
import { createRedisClient, type RedisClient } from './redis-client.js';
import { startTcpProxy, type TcpProxy } from './testing.js';

interface Value {
  v: string;
}

interface Replica {
  cache: Cache<Value>;
  redis: RedisClient;
  lookups: CacheLookup[];
  warnings: string[];
  infos: string[];
}

describeWithInfra(['REDIS_URL'], 'cache on real Redis', (env) => {
  const redisUrl = env['REDIS_URL']!;
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const uniqueCacheName = (): string => `test-${randomBytes(6).toString('hex')}`;

  /** A replica whose connections are up and subscribed (unless its Redis is unreachable on purpose). */
  async function replica(name: string, options: { url?: string; commandTimeoutMs?: number; breakDurationMs?: number } = {}): Promise<Replica> {
    const warnings: string[] = [];
    const infos: string[] = [];
    const logger = { warn: (_: object, message: string) => warnings.push(message), info: (_: object, message: string) => infos.push(message) };
    const redis = createRedisClient({
      url: options.url ?? redisUrl,
      clock: systemClock,
      random: cryptoRandom,
      logger,
      name: 'cache-test',
      whenDown: 'caching falls back to L1',
      ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
      ...(options.breakDurationMs === undefined ? {} : { breakDurationMs: options.breakDurationMs }),
    });
    const cache = createCache<Value>({ name, clock: systemClock, logger, l2: { redis, codec: jsonCodec() } });
    expect(await redis.ready(5000)).toBe(true);
    const lookups: CacheLookup[] = [];
    cache.events.on('OnCacheLookup', (event) => lookups.push(event));
    cleanups.push(async () => {
      cache.close();
      await redis.close();
    });
    return { cache, redis, lookups, warnings, infos };
  }

  async function proxy(): Promise<TcpProxy> {
    const started = await startTcpProxy(new URL(redisUrl).host);
    cleanups.push(() => started.close());
    return started;
  }

  /** A Redis URL through `via`. */
  const through = (via: TcpProxy): string => {
    const url = new URL(redisUrl);
    url.host = `127.0.0.1:${via.port}`;
    return url.toString();
  };

  const value = (v: string) => async (): Promise<Value> => ({ v });
  const l2 = (lookups: CacheLookup[]) => lookups.filter((lookup) => lookup.level === 'l2').map((lookup) => lookup.result);

  it('shares L2 between replicas: a value one replica loaded is a hit for the other', async () => {
    const name = uniqueCacheName();
    const [a, b] = [await replica(name), await replica(name)];
    expect(await a.cache.get('k', value('one'))).toEqual({ v: 'one' });
    const loader = vi.fn(value('other'));
    expect(await b.cache.get('k', loader)).toEqual({ v: 'one' });
    expect(loader).not.toHaveBeenCalled();
    expect(l2(a.lookups)).toEqual(['miss']);
    expect(l2(b.lookups)).toEqual(['hit']);
  });

  it("invalidates every replica's L1 over pub/sub, and L2 with it", async () => {
    const name = uniqueCacheName();
    const [a, b] = [await replica(name), await replica(name)];
    await a.cache.get('k', value('old'));
    expect(await b.cache.get('k', value('unused'))).toEqual({ v: 'old' });

    await a.cache.invalidate('k');
    // B still answers from its L1 until the message arrives; then it loads the new value.
    await waitFor(async () => (await b.cache.get('k', value('new'))).v === 'new', { message: "B's L1 to drop the invalidated key" });
    // L2 holds the invalidation's tombstone: A loads too, and no replica may write the key back yet.
    const loader = vi.fn(value('new'));
    expect(await a.cache.get('k', loader)).toEqual({ v: 'new' });
    expect(loader).toHaveBeenCalledTimes(1);
    expect(l2(a.lookups)).toEqual(['miss', 'miss']);
  });

  it('keeps a load that began before an invalidation from writing its old value back to L2', async () => {
    const name = uniqueCacheName();
    const [a, b, c] = [await replica(name), await replica(name), await replica(name)];
    let release!: (value: Value) => void;
    const slow = a.cache.get('k', () => new Promise<Value>((resolve) => (release = resolve)));
    await waitFor(() => release !== undefined, { message: 'the slow load to start' });
    await b.cache.invalidate('k');
    release({ v: 'read before the change' });
    expect(await slow).toEqual({ v: 'read before the change' });
    // Whatever A tried to write is blocked by the tombstone: a fresh replica loads the new value.
    await waitFor(async () => (await c.cache.get('k', value('after the change'))).v === 'after the change', {
      message: 'a fresh replica to load the new value',
    });
    expect(l2(c.lookups)).toEqual(['miss']);
  });

  it('treats an entry it cannot decode as a miss, and warns once', async () => {
    const name = uniqueCacheName();
    const raw = new Redis(redisUrl);
    cleanups.push(() => void raw.disconnect());
    const a = await replica(name);
    const { keyPrefix } = cacheRedisNames(name);
    await raw.set(`${keyPrefix}k1`, 'v{not json', 'PX', 60_000);
    await raw.set(`${keyPrefix}k2`, 'garbage', 'PX', 60_000);
    expect(await a.cache.get('k1', value('loaded'))).toEqual({ v: 'loaded' });
    expect(await a.cache.get('k2', value('loaded'))).toEqual({ v: 'loaded' });
    expect(l2(a.lookups)).toEqual(['error', 'error']);
    expect(a.warnings.filter((w) => w.includes('could not be decoded'))).toHaveLength(1);
  });

  it('serves while Redis is unreachable, warns once, and when Redis is back replays missed invalidations and drops L1', async () => {
    const name = uniqueCacheName();
    const via = await proxy();
    const a = await replica(name);
    const b = await replica(name, { url: through(via) });
    await b.cache.get('deleted-by-b', value('old'));
    await b.cache.get('deleted-by-a', value('old'));

    await via.cut();
    // Reads keep working from the loader and L1, and invalidation still clears this L1.
    for (let i = 0; i < 20; i += 1) expect(await b.cache.get(`new-${i % 4}`, value(`n${i % 4}`))).toEqual({ v: `n${i % 4}` });
    await b.cache.invalidate('deleted-by-b');
    expect(await b.cache.get('deleted-by-b', value('fresh'))).toEqual({ v: 'fresh' });
    // A's invalidation cannot reach B now; B's L1 still has the old value (bounded by its TTL).
    await a.cache.invalidate('deleted-by-a');
    expect(await b.cache.get('deleted-by-a', value('unused'))).toEqual({ v: 'old' });
    // B's invalidation did not reach L2 either: A still sees the old value there.
    expect(await a.cache.get('deleted-by-b', value('unused'))).toEqual({ v: 'old' });
    expect(l2(b.lookups).filter((result) => result === 'error').length).toBeGreaterThan(0);
    expect(b.warnings.filter((w) => w.startsWith('redis unavailable'))).toHaveLength(1);

    await via.restore();
    // B replays its invalidation (A's L1 and L2 drop the key) and clears its own L1.
    await waitFor(async () => (await a.cache.get('deleted-by-b', value('fresh'))).v === 'fresh', {
      timeoutMs: 15_000,
      message: "B's missed invalidation to reach A",
    });
    await waitFor(async () => (await b.cache.get('deleted-by-a', value('fresh'))).v === 'fresh', {
      timeoutMs: 15_000,
      message: 'B to drop its L1 after resubscribing',
    });
    // L2 is in use again: what B loads now, A finds in Redis.
    // The breaker has no timers: lookups that miss L1 are what probe it.
    let probe = 0;
    await waitFor(
      async () => {
        await b.cache.get(`probe-${probe++}`, value('p'));
        return b.redis.policies.breaker.state === 'closed';
      },
      { message: "B's breaker to close" },
    );
    await b.cache.get('after', value('shared'));
    // The write to L2 does not hold up the read that loaded it: wait for it to land.
    const raw = new Redis(redisUrl);
    cleanups.push(() => void raw.disconnect());
    await waitFor(async () => (await raw.exists(`${cacheRedisNames(name).keyPrefix}after`)) === 1, { message: "B's write to L2" });
    expect(await a.cache.get('after', value('unused'))).toEqual({ v: 'shared' });
    expect(b.warnings.filter((w) => w.startsWith('redis unavailable'))).toHaveLength(1);
    expect(b.infos).toContain('redis available again');
  }, 60_000);

  it('opens the breaker when Redis hangs, then makes no Redis calls at all while it is open', async () => {
    const name = uniqueCacheName();
    const via = await proxy();
    const b = await replica(name, { url: through(via), commandTimeoutMs: 50, breakDurationMs: 60_000 });
    const breaker = b.redis.policies.breaker;
    await b.cache.get('warm', value('w'));

    via.stall();
    let i = 0;
    while (breaker.state !== 'open' && i < 50) {
      expect(await b.cache.get(`slow-${i}`, value('loaded'))).toEqual({ v: 'loaded' });
      i += 1;
    }
    expect(breaker.state).toBe('open');

    const bytes = via.bytesFromClients;
    const connections = via.connections;
    const rejected: unknown[] = [];
    breaker.events.on('OnCircuitRejected', (event) => rejected.push(event));
    for (let j = 0; j < 20; j += 1) {
      expect(await b.cache.get(`open-${j}`, value('loaded'))).toEqual({ v: 'loaded' });
      await b.cache.invalidate(`open-${j}`);
    }
    // Each get's L2 read and each invalidation's tombstone fail fast; no write follows a failed read.
    expect(rejected).toHaveLength(40);
    expect(via.bytesFromClients).toBe(bytes);
    expect(via.connections).toBe(connections);
    via.unstall();
  });
});
