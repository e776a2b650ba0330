import { Counter, Gauge, type Registry } from 'prom-client';
import type { Cache } from './cache.js';

/** Turns caches' events into Prometheus metrics on one registry. */
export interface CacheMetrics {
  /** Starts recording `cache` under its name. Returns a function that stops. */
  observe(cache: Cache<NonNullable<unknown>>): () => void;
}

/**
 * Registers the cache metrics on `registry` (once per registry). Labels stay low-cardinality:
 * the cache's name and closed sets of values.
 * - `jamey_cache_requests_total{cache,level,result}`: lookups by tier (`l1`, `l2`) and answer
 *   (`hit`, `miss`, `error`); an L1 miss is followed by an L2 lookup when the cache has L2.
 * - `jamey_cache_l1_entries{cache}`: entries in the in-process L1 now.
 */
export function createCacheMetrics(registry: Registry): CacheMetrics {
  const caches = new Map<string, Cache<NonNullable<unknown>>>();
  const registers = [registry];
  const requests = new Counter({
    name: 'jamey_cache_requests_total',
    help: 'Cache lookups by tier (l1, l2) and result (hit, miss, error).',
    labelNames: ['cache', 'level', 'result'] as const,
    registers,
  });
  new Gauge({
    name: 'jamey_cache_l1_entries',
    help: 'Entries in the in-process (L1) cache.',
    labelNames: ['cache'] as const,
    registers,
    collect() {
      this.reset();
      for (const [name, cache] of caches) this.set({ cache: name }, cache.l1Size);
    },
  });
  return {
    observe(cache) {
      caches.set(cache.name, cache);
      const stop = cache.events.on('OnCacheLookup', ({ cache: name, level, result }) => requests.inc({ cache: name, level, result }));
      return () => {
        stop();
        if (caches.get(cache.name) === cache) caches.delete(cache.name);
      };
    },
  };
}
