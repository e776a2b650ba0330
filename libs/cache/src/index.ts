export { type Cache, type CacheOptions, type CacheEvents, type CacheLookup, createCache, cacheRedisNames } from './cache.js';
export { type CacheCodec, jsonCodec } from './codec.js';
export { type CacheMetrics, createCacheMetrics } from './cache-metrics.js';
export {
  type RedisClient,
  type RedisClientOptions,
  type RedisSubscriber,
  createRedisClient,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
} from './redis-client.js';
export type { Logger } from './logger.js';
/** The ioredis connection {@link RedisClient.run} hands its command. */
export type { Redis as RedisConnection } from 'ioredis';
