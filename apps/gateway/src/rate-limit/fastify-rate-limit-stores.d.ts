/**
 * Types of @fastify/rate-limit's built-in stores, which the package ships (`store/*.js`) but does
 * not type. Jamey's store composes them (see store.ts); the package is pinned to an exact
 * version, and the store's tests cover both.
 */
declare module '@fastify/rate-limit/store/LocalStore.js' {
  type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

  /** Fixed-window counters in an LRU map of `cache` keys (default 5000). */
  export default class LocalStore {
    constructor(continueExceeding: boolean, exponentialBackoff: boolean, cache?: number);
    incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  }
}

declare module '@fastify/rate-limit/store/RedisStore.js' {
  import type { RedisConnection } from '@jamey/cache';

  type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

  /** Fixed-window counters in Redis (one Lua script: INCR, then PEXPIRE on the first), keys `<key><name>`. */
  export default class RedisStore {
    constructor(continueExceeding: boolean, exponentialBackoff: boolean, redis: RedisConnection, key?: string);
    incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  }
}
