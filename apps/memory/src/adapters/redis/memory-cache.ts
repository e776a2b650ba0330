import { createCache, createCacheMetrics, type RedisClient } from '@jamey/cache';
import type { Clock } from '@jamey/core';
import type { Logger, Registry } from '@jamey/telemetry';
import type { MemoryCache } from '../../domain/memory-service.js';
import type { Memory } from '../../domain/memory.js';
import { memoryCodec } from './memory-codec.js';

/** Sizes and lifetimes of the memory cache (`MEMORY_CACHE_*`). Times in ms. */
export interface MemoryCacheSettings {
  /** Most memories held in process. Default 10_000. */
  readonly l1MaxEntries: number;
  /** How long a memory stays in the in-process L1: the staleness bound when an invalidation is missed. Default 10_000. */
  readonly l1TtlMs: number;
  /** How long a memory stays in Redis: the staleness bound when an invalidation cannot reach Redis. Default 60_000. */
  readonly l2TtlMs: number;
}

/** The defaults of {@link MemoryCacheSettings}. */
export const DEFAULT_MEMORY_CACHE_SETTINGS: MemoryCacheSettings = Object.freeze({ l1MaxEntries: 10_000, l1TtlMs: 10_000, l2TtlMs: 60_000 });

/** Options of {@link createMemoryCache}. */
export interface MemoryCacheOptions {
  readonly settings: MemoryCacheSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where `jamey_cache_*` metrics go. */
  readonly metrics: Registry;
  /** L2; absent in embedded mode (L1 only). */
  readonly redis?: RedisClient | undefined;
}

/** The memory service's cache of memories by id, named `memory`, with its metrics. */
export function createMemoryCache(options: MemoryCacheOptions): MemoryCache & { close(): void } {
  const { settings, clock, logger, redis } = options;
  const cache = createCache<Memory>({
    name: 'memory',
    clock,
    logger,
    l1MaxEntries: settings.l1MaxEntries,
    l1TtlMs: settings.l1TtlMs,
    l2: redis ? { redis, codec: memoryCodec, ttlMs: settings.l2TtlMs } : undefined,
  });
  const stopMetrics = createCacheMetrics(options.metrics).observe(cache);
  return {
    get: (id, load, signal) => cache.get(id, load, signal),
    invalidate: (id) => cache.invalidate(id),
    close() {
      stopMetrics();
      cache.close();
    },
  };
}
