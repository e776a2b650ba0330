import { randomBytes } from 'node:crypto';
import type { Clock } from '@jamey/core';
import { EventEmitter } from '@jamey/resilience';
import { LRUCache } from 'lru-cache';
import type { CacheCodec } from './codec.js';
import type { Logger } from './logger.js';
import type { RedisClient } from './redis-client.js';
import { SingleFlight, type Flight } from './single-flight.js';

/** Options of {@link createCache}. Times are in ms. */
export interface CacheOptions<V> {
  /** Names the cache in Redis keys, its invalidation channel and metrics: `[a-z0-9-]+`. */
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Most entries the in-process L1 holds (least recently used go first). Default 10_000. */
  readonly l1MaxEntries?: number;
  /** How long an L1 entry lives. Bounds staleness when an invalidation is missed. Default 10_000. */
  readonly l1TtlMs?: number;
  /** The L2 tier. Without it the cache is L1 only (embedded mode). */
  readonly l2?: {
    readonly redis: RedisClient;
    /** How values are written to Redis. */
    readonly codec: CacheCodec<V>;
    /** How long an L2 entry lives. Bounds staleness when an invalidation could not reach Redis. Default 60_000. */
    readonly ttlMs?: number;
    /** Part of every key: change it when the codec's format changes. Default `v1`. */
    readonly version?: string;
    /**
     * How long an invalidation's tombstone blocks writes of the key, so a load that read the old
     * value before the invalidation cannot put it back. Default 10_000; loads that take longer
     * than half of it are not written to L2.
     */
    readonly tombstoneTtlMs?: number;
    /** Invalidations kept while Redis is unreachable and replayed when it is back. Default 10_000. */
    readonly maxPendingInvalidations?: number;
  };
}

/** What a lookup found: `level` is the tier asked, `result` its answer. */
export interface CacheLookup {
  readonly cache: string;
  readonly level: 'l1' | 'l2';
  readonly result: 'hit' | 'miss' | 'error';
}

/** Events of a {@link Cache}. */
export interface CacheEvents {
  OnCacheLookup: CacheLookup;
}

/** A read-through cache: L1 in process, optionally L2 in Redis, in front of a loader. */
export interface Cache<V extends NonNullable<unknown>> {
  readonly name: string;
  readonly events: EventEmitter<CacheEvents>;
  /** Entries in L1 now. */
  readonly l1Size: number;
  /**
   * The value of `key`: from L1, else from L2, else from `loader` (then written to both).
   * Concurrent misses of one key share one L2 read and one load. Redis failures are never
   * the caller's: they fall through to the loader. A loader's error is passed on and nothing
   * is cached. Rejects with `signal`'s reason when it aborts.
   */
  get(key: string, loader: (signal: AbortSignal) => Promise<V>, signal?: AbortSignal): Promise<V>;
  /**
   * Forgets `key` everywhere: this L1 at once, L2 (a short tombstone) and every other replica's
   * L1 (pub/sub). Call it after the change committed. It never fails: while Redis is
   * unreachable the invalidation is kept and replayed when Redis is back.
   */
  invalidate(key: string): Promise<void>;
  /** Stops listening for invalidations. */
  close(): void;
}

const NAME = /^[a-z0-9-]+$/;
const VALUE = 'v';
const TOMBSTONE = 'x';
/** How often invalidations that could not reach Redis are retried, in ms. */
const FLUSH_RETRY_MS = 1_000;

/** The Redis key prefix and pub/sub channel of a cache (for tests and operators). */
export function cacheRedisNames(name: string, version = 'v1'): { keyPrefix: string; channel: string } {
  return { keyPrefix: `jamey:cache:${name}:${version}:`, channel: `jamey:cache:${name}:invalidations` };
}

/** Creates a {@link Cache}. See docs/resilience.md for how it degrades and how stale it can be. */
export function createCache<V extends NonNullable<unknown>>(options: CacheOptions<V>): Cache<V> {
  const { name, clock, logger, l2 } = options;
  if (!NAME.test(name)) throw new RangeError(`cache name must match ${NAME}, got ${JSON.stringify(name)}`);
  const events = new EventEmitter<CacheEvents>();
  const lookup = (level: CacheLookup['level'], result: CacheLookup['result']): void => {
    if (events.has('OnCacheLookup')) events.emit('OnCacheLookup', { cache: name, level, result });
  };
  const l1 = new LRUCache<string, V>({
    max: options.l1MaxEntries ?? 10_000,
    ttl: options.l1TtlMs ?? 10_000,
    // lru-cache reads time through `perf`, so an injected clock drives expiry too; resolution 0
    // makes it ask the clock on every check instead of caching the time on a real timer.
    perf: { now: () => clock.now() },
    ttlResolution: 0,
  });
  const flights = new SingleFlight<V>();
  const tier = l2 ? createL2(name, l2, { clock, logger, lookup, l1, flights }) : undefined;

  return {
    name,
    events,
    get l1Size() {
      return l1.size;
    },

    async get(key, loader, signal) {
      signal?.throwIfAborted();
      const cached = l1.get(key);
      if (cached !== undefined) {
        lookup('l1', 'hit');
        return cached;
      }
      lookup('l1', 'miss');
      return flights.run(key, (flight, loadSignal) => load(key, flight, loader, loadSignal), signal);
    },

    async invalidate(key) {
      l1.delete(key);
      flights.invalidate(key);
      await tier?.invalidate(key);
    },

    close() {
      tier?.close();
    },
  };

  async function load(key: string, flight: Flight<V>, loader: (signal: AbortSignal) => Promise<V>, signal: AbortSignal): Promise<V> {
    const startedAt = clock.now();
    const stored = await tier?.read(key, signal);
    if (stored?.found) {
      if (!flight.stale) l1.set(key, stored.value);
      return stored.value;
    }
    const value = await loader(signal);
    if (!flight.stale) {
      l1.set(key, value);
      // After a failed read Redis is most likely unreachable: do not queue a write behind it.
      if (stored?.writable) tier?.write(key, value, startedAt);
    }
    return value;
  }
}

type L2Read<V> = { readonly found: true; readonly value: V } | { readonly found: false; readonly writable: boolean };

interface L2Context<V extends NonNullable<unknown>> {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly lookup: (level: CacheLookup['level'], result: CacheLookup['result']) => void;
  readonly l1: LRUCache<string, V>;
  readonly flights: SingleFlight<V>;
}

/** The Redis tier: reads, tombstoning writes, pub/sub invalidation and the replay of missed ones. */
function createL2<V extends NonNullable<unknown>>(name: string, options: NonNullable<CacheOptions<V>['l2']>, context: L2Context<V>) {
  const { redis, codec } = options;
  const { clock, logger, lookup, l1, flights } = context;
  const ttlMs = options.ttlMs ?? 60_000;
  const tombstoneTtlMs = options.tombstoneTtlMs ?? 10_000;
  const maxPending = options.maxPendingInvalidations ?? 10_000;
  const { keyPrefix, channel } = cacheRedisNames(name, options.version);
  // Messages carry the sender's id, so a replica skips its own invalidations.
  const origin = randomBytes(8).toString('hex');
  const pending = new Set<string>();
  let flushing = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let overflowLogged = false;
  let decodeErrorLogged = false;

  const forgetLocally = (key: string): void => {
    l1.delete(key);
    flights.invalidate(key);
  };

  const unsubscribe = redis.subscribe(channel, {
    message(message) {
      const space = message.indexOf(' ');
      if (space < 0 || message.slice(0, space) === origin) return;
      forgetLocally(message.slice(space + 1));
    },
    resubscribed() {
      // Invalidations published while the subscription was down were missed.
      l1.clear();
      flights.invalidateAll();
      void flush();
    },
  });

  /** Tombstones `key` and tells the other replicas, in one round trip. Throws when Redis fails. */
  async function tombstone(key: string): Promise<void> {
    const replies = await redis.run((client) =>
      client.multi().set(keyPrefix + key, TOMBSTONE, 'PX', tombstoneTtlMs).publish(channel, `${origin} ${key}`).exec(),
    );
    const failed = replies?.find(([error]) => error);
    if (!replies || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
  }

  /**
   * Replays invalidations Redis missed, oldest first, until one fails; then tries again after
   * {@link FLUSH_RETRY_MS} (and at once on the next resubscription or successful read).
   */
  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      for (const key of pending) {
        await tombstone(key);
        pending.delete(key);
      }
    } catch {
      scheduleFlush();
    } finally {
      flushing = false;
    }
  }

  function scheduleFlush(): void {
    if (retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      void flush();
    }, FLUSH_RETRY_MS);
    // The retry must not keep a stopping process alive; what it would replay is bounded by the L2 TTL.
    retry.unref?.();
  }

  return {
    /** The value in Redis, if any; `writable` says whether a loaded value may be written back. */
    async read(key: string, signal: AbortSignal): Promise<L2Read<V>> {
      // A key whose invalidation has not reached Redis yet may be stale there.
      if (pending.has(key)) return { found: false, writable: false };
      let raw: string | null;
      try {
        raw = await redis.run((client) => client.get(keyPrefix + key), signal);
      } catch {
        lookup('l2', 'error');
        return { found: false, writable: false };
      }
      if (pending.size > 0) void flush();
      if (raw === null || raw === TOMBSTONE) {
        lookup('l2', 'miss');
        return { found: false, writable: true };
      }
      try {
        if (!raw.startsWith(VALUE)) throw new Error('not a cache entry');
        const value = codec.decode(raw.slice(VALUE.length));
        lookup('l2', 'hit');
        return { found: true, value };
      } catch (error) {
        lookup('l2', 'error');
        if (!decodeErrorLogged) {
          decodeErrorLogged = true;
          logger.warn({ err: error, cache: name }, 'cache entry in redis could not be decoded; loading instead');
        }
        // NX would not replace it anyway; the entry goes when its TTL ends.
        return { found: false, writable: false };
      }
    },

    /** Writes a loaded value, unless a tombstone or a too-slow load says it may be stale. Never throws. */
    write(key: string, value: V, loadStartedAt: number): void {
      if (pending.has(key) || clock.now() - loadStartedAt >= tombstoneTtlMs / 2) return;
      // NX: a tombstone written since the load began wins.
      redis.run((client) => client.set(keyPrefix + key, VALUE + codec.encode(value), 'PX', ttlMs, 'NX')).catch(() => undefined);
    },

    async invalidate(key: string): Promise<void> {
      if (pending.size >= maxPending && !pending.has(key)) {
        if (!overflowLogged) {
          overflowLogged = true;
          logger.warn({ cache: name, maxPending }, `too many invalidations waiting for redis; L2 entries may stay stale for up to ${ttlMs} ms`);
        }
        return;
      }
      pending.add(key);
      try {
        await tombstone(key);
        pending.delete(key);
        overflowLogged = false;
      } catch {
        // Kept in `pending`: replayed when Redis answers again. The client logged the outage.
        scheduleFlush();
      }
    },

    close(): void {
      unsubscribe();
      if (retry !== undefined) clearTimeout(retry);
    },
  };
}
