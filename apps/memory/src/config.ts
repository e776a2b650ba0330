import { loadConfig, millis, z, type Env } from '@jamey/config';
import { kafkaEnvShape, serviceEnvShape, toServiceSettings, type ServiceSettings } from '@jamey/service';
import { DEFAULT_MEMORY_CACHE_SETTINGS, type MemoryCacheSettings } from './adapters/redis/memory-cache.js';

/** The memory service's configuration. */
export interface MemoryConfig {
  readonly service: ServiceSettings;
  readonly kafkaBrokers: readonly string[];
  /** `MEMORY_CACHE_L1_MAX_ENTRIES`, `MEMORY_CACHE_L1_TTL_MS`, `MEMORY_CACHE_L2_TTL_MS`. */
  readonly cache: MemoryCacheSettings;
}

const cacheEnvShape = {
  MEMORY_CACHE_L1_MAX_ENTRIES: z.coerce.number().int().min(1).max(10_000_000).default(DEFAULT_MEMORY_CACHE_SETTINGS.l1MaxEntries),
  MEMORY_CACHE_L1_TTL_MS: millis(DEFAULT_MEMORY_CACHE_SETTINGS.l1TtlMs),
  MEMORY_CACHE_L2_TTL_MS: millis(DEFAULT_MEMORY_CACHE_SETTINGS.l2TtlMs),
} as const;

/** Reads, validates and freezes the memory service's configuration. @throws ConfigError */
export function loadMemoryConfig(env: Env): MemoryConfig {
  const parsed = loadConfig(z.object({ ...serviceEnvShape('memory'), ...kafkaEnvShape, ...cacheEnvShape }), env);
  return Object.freeze({
    service: toServiceSettings('memory', parsed),
    kafkaBrokers: parsed.KAFKA_BROKERS,
    cache: Object.freeze({
      l1MaxEntries: parsed.MEMORY_CACHE_L1_MAX_ENTRIES,
      l1TtlMs: parsed.MEMORY_CACHE_L1_TTL_MS,
      l2TtlMs: parsed.MEMORY_CACHE_L2_TTL_MS,
    }),
  });
}
