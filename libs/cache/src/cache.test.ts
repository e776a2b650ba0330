/** The cache without Redis (embedded mode): L1, single-flight, invalidation, cancellation, metrics. */
import { createManualClock } from '@jamey/core';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { createCache, type Cache, type CacheLookup } from './cache.js';
import { createCacheMetrics } from './cache-metrics.js';

const silent = { info: () => undefined, warn: () => undefined };

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(options: { l1MaxEntries?: number; l1TtlMs?: number } = {}) {
  const clock = createManualClock();
  const cache = createCache<{ n: number }>({ name: 'test', clock, logger: silent, ...options });
  const lookups: CacheLookup[] = [];
  cache.events.on('OnCacheLookup', (event) => lookups.push(event));
  return { clock, cache, lookups };
}

describe('createCache, L1 only', () => {
  it('loads a miss once, then answers from L1', async () => {
    const { cache, lookups } = setup();
    const loader = vi.fn(async () => ({ n: 1 }));
    expect(await cache.get('a', loader)).toEqual({ n: 1 });
    expect(await cache.get('a', loader)).toEqual({ n: 1 });
    expect(loader).toHaveBeenCalledTimes(1);
    expect(cache.l1Size).toBe(1);
    expect(lookups).toEqual([
      { cache: 'test', level: 'l1', result: 'miss' },
      { cache: 'test', level: 'l1', result: 'hit' },
    ]);
  });

  it('shares one load between concurrent misses of a key, not between keys', async () => {
    const { cache } = setup();
    const load = deferred<{ n: number }>();
    const loader = vi.fn(() => load.promise);
    const other = vi.fn(async () => ({ n: 2 }));
    const gets = [cache.get('a', loader), cache.get('a', loader), cache.get('a', loader), cache.get('b', other)];
    load.resolve({ n: 1 });
    expect(await Promise.all(gets)).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }, { n: 2 }]);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(other).toHaveBeenCalledTimes(1);
  });

  it('passes a loader error to every waiter and caches nothing', async () => {
    const { cache } = setup();
    const failure = new Error('not there');
    const loader = vi.fn(async () => {
      throw failure;
    });
    await expect(Promise.all([cache.get('a', loader), cache.get('a', loader)])).rejects.toBe(failure);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(cache.l1Size).toBe(0);
    await expect(cache.get('a', loader)).rejects.toBe(failure);
    expect(loader).toHaveBeenCalledTimes(2);
  });

  it('forgets an invalidated key', async () => {
    const { cache } = setup();
    await cache.get('a', async () => ({ n: 1 }));
    await cache.invalidate('a');
    expect(cache.l1Size).toBe(0);
    expect(await cache.get('a', async () => ({ n: 2 }))).toEqual({ n: 2 });
  });

  it('does not cache a load that an invalidation overtook, and starts a fresh load after it', async () => {
    const { cache } = setup();
    const old = deferred<{ n: number }>();
    const before = cache.get('a', () => old.promise);
    await Promise.resolve();
    await cache.invalidate('a');
    // A get after the invalidation must not join the load that may have read the old value.
    const after = cache.get('a', async () => ({ n: 2 }));
    old.resolve({ n: 1 });
    expect(await before).toEqual({ n: 1 });
    expect(await after).toEqual({ n: 2 });
    expect(await cache.get('a', async () => ({ n: 3 }))).toEqual({ n: 2 });
  });

  it('expires entries after the L1 TTL, by the injected clock', async () => {
    const { cache, clock } = setup({ l1TtlMs: 1000 });
    await cache.get('a', async () => ({ n: 1 }));
    clock.advance(999);
    expect(await cache.get('a', async () => ({ n: 2 }))).toEqual({ n: 1 });
    clock.advance(2);
    expect(await cache.get('a', async () => ({ n: 2 }))).toEqual({ n: 2 });
  });

  it('holds at most l1MaxEntries, dropping the least recently used', async () => {
    const { cache } = setup({ l1MaxEntries: 2 });
    await cache.get('a', async () => ({ n: 1 }));
    await cache.get('b', async () => ({ n: 2 }));
    await cache.get('a', async () => ({ n: 0 })); // a is now the most recently used
    await cache.get('c', async () => ({ n: 3 }));
    expect(cache.l1Size).toBe(2);
    expect(await cache.get('a', async () => ({ n: 9 }))).toEqual({ n: 1 });
    expect(await cache.get('b', async () => ({ n: 9 }))).toEqual({ n: 9 });
  });

  describe('cancellation', () => {
    it('rejects at once with the reason of an already aborted signal, without loading', async () => {
      const { cache } = setup();
      const loader = vi.fn(async () => ({ n: 1 }));
      const reason = new Error('gone');
      await expect(cache.get('a', loader, AbortSignal.abort(reason))).rejects.toBe(reason);
      expect(loader).not.toHaveBeenCalled();
    });

    it('lets one waiter give up while the shared load goes on for the others', async () => {
      const { cache } = setup();
      const load = deferred<{ n: number }>();
      let loadSignal: AbortSignal | undefined;
      const loader = (signal: AbortSignal) => {
        loadSignal = signal;
        return load.promise;
      };
      const impatient = new AbortController();
      const first = cache.get('a', loader, impatient.signal);
      const second = cache.get('a', loader, new AbortController().signal);
      const third = cache.get('a', loader);
      await Promise.resolve();
      impatient.abort(new Error('client went away'));
      await expect(first).rejects.toThrow('client went away');
      expect(loadSignal?.aborted).toBe(false);
      load.resolve({ n: 1 });
      expect(await Promise.all([second, third])).toEqual([{ n: 1 }, { n: 1 }]);
    });

    it('aborts the load when its only waiter aborts, and the next get loads afresh', async () => {
      const { cache } = setup();
      const controller = new AbortController();
      let loadSignal: AbortSignal | undefined;
      const pending = cache.get(
        'a',
        (signal) => {
          loadSignal = signal;
          return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        },
        controller.signal,
      );
      await vi.waitFor(() => expect(loadSignal).toBeDefined());
      const reason = new Error('deadline');
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
      expect(loadSignal?.aborted).toBe(true);
      expect(await cache.get('a', async () => ({ n: 2 }))).toEqual({ n: 2 });
    });
  });

  it('rejects a name that cannot be part of a Redis key or metric label value safely', () => {
    expect(() => createCache({ name: 'Bad Name', clock: createManualClock(), logger: silent })).toThrow(RangeError);
  });
});

describe('createCacheMetrics', () => {
  it('counts lookups by cache, level and result, and reports the L1 size', async () => {
    const registry = new Registry();
    const { cache } = setup();
    const stop = createCacheMetrics(registry).observe(cache as Cache<NonNullable<unknown>>);
    await cache.get('a', async () => ({ n: 1 }));
    await cache.get('a', async () => ({ n: 1 }));
    await cache.get('a', async () => ({ n: 1 }));
    const text = await registry.metrics();
    expect(text).toMatch(/^jamey_cache_requests_total\{cache="test",level="l1",result="miss"\} 1$/m);
    expect(text).toMatch(/^jamey_cache_requests_total\{cache="test",level="l1",result="hit"\} 2$/m);
    expect(text).toMatch(/^jamey_cache_l1_entries\{cache="test"\} 1$/m);
    stop();
    await cache.get('b', async () => ({ n: 1 }));
    expect(await registry.metrics()).not.toMatch(/jamey_cache_l1_entries\{/);
  });
});
