import type { RedisClient } from '@jamey/cache';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import LocalStore from '@fastify/rate-limit/store/LocalStore.js';
import RedisStore from '@fastify/rate-limit/store/RedisStore.js';

/** Options of {@link createRateLimitStore}. */
export interface RateLimitStoreOptions {
  /** Shared counters for every replica. Absent: counters are kept in this process only. */
  readonly redis?: RedisClient | undefined;
  /** Prefix of every Redis key. Default `jamey:ratelimit:`. */
  readonly keyPrefix?: string;
  /** Keys the in-memory counters remember (least recently used go first). Default 10_000. */
  readonly localKeys?: number;
}

/**
 * What @fastify/rate-limit passes a store's constructor and `child`: the plugin's options merged
 * with the route's, and `routeInfo` (the route) for a child. Its typings say `child` receives
 * the route options themselves, which is not what index.js passes.
 */
type StoreCallback = Parameters<FastifyRateLimitStore['incr']>[1];

interface StoreParams {
  readonly continueExceeding?: boolean;
  readonly exponentialBackoff?: boolean;
  readonly routeInfo?: { readonly method?: string | readonly string[]; readonly url?: string };
}

/**
 * The gateway's rate-limit store for @fastify/rate-limit. With Redis, counters live there so a
 * limit holds across replicas, and every count runs through the Redis client's `redis` breaker
 * and command timeout. When that fails (Redis unreachable, slow, or the breaker open) the count
 * is taken by an in-memory store instead, at once: the limit then holds per replica, and a
 * request never waits on, or fails because of, Redis. Without Redis, the in-memory store is
 * the only one (embedded mode).
 *
 * Routes with their own `config.rateLimit` get a child store whose keys include the route, so
 * their counters are separate from the global ones.
 */
export function createRateLimitStore(options: RateLimitStoreOptions = {}): FastifyRateLimitStoreCtor {
  const { redis } = options;
  const localKeys = options.localKeys ?? 10_000;

  class JameyRateLimitStore {
    private readonly local: LocalStore;
    private shared: RedisStore | undefined;

    constructor(
      private readonly params: StoreParams,
      private readonly keyPrefix = options.keyPrefix ?? 'jamey:ratelimit:',
    ) {
      this.local = new LocalStore(params.continueExceeding === true, params.exponentialBackoff === true, localKeys);
    }

    incr(key: string, callback: StoreCallback, timeWindow: number, max: number): void {
      if (!redis) {
        this.local.incr(key, callback, timeWindow, max);
        return;
      }
      redis
        .run(
          (client) =>
            new Promise<{ current: number; ttl: number }>((resolve, reject) => {
              this.shared ??= new RedisStore(this.params.continueExceeding === true, this.params.exponentialBackoff === true, client, this.keyPrefix);
              this.shared.incr(key, (error, result) => (error || !result ? reject(error ?? new Error('no result')) : resolve(result)), timeWindow, max);
            }),
        )
        .then(
          (result) => callback(null, result),
          // The client has logged the outage (once); count here instead.
          () => this.local.incr(key, callback, timeWindow, max),
        );
    }

    child(routeOptions: StoreParams): JameyRateLimitStore {
      const { method, url } = routeOptions.routeInfo ?? {};
      const route = `${Array.isArray(method) ? method.join(',') : (method ?? '')}${url ?? ''}`;
      return new JameyRateLimitStore(routeOptions, `${this.keyPrefix}${route}:`);
    }
  }

  // Structurally the plugin's store; only `child`'s parameter type differs (see StoreParams).
  return JameyRateLimitStore as unknown as FastifyRateLimitStoreCtor;
}
