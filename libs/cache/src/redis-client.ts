import { type Clock, type RandomSource } from '@jamey/core';
import {
  createCircuitBreaker,
  createTimeout,
  exponentialBackoff,
  isCancellation,
  wrap,
  type CircuitBreaker,
  type TimeoutPolicy,
} from '@jamey/resilience';
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** Options of {@link createRedisClient}. */
export interface RedisClientOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  readonly url: string;
  readonly clock: Clock;
  /** Draws the jitter of reconnect delays and of the breaker. */
  readonly random: RandomSource;
  readonly logger: Logger;
  /** Shown in Redis `CLIENT LIST` as `jamey-<name>` and `jamey-<name>-sub`. */
  readonly name: string;
  /** What degrades while Redis is unreachable, for the one warning per outage, e.g. "caching falls back to L1". */
  readonly whenDown: string;
  /** Time allowed per command, in ms. Default {@link DEFAULT_REDIS_COMMAND_TIMEOUT_MS}. */
  readonly commandTimeoutMs?: number;
  /** How long the breaker stays open before a trial command, in ms. Default 1000. */
  readonly breakDurationMs?: number;
}

/** Default per-command timeout, in ms: a cache or rate limiter must not hold a request for long. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 250;

/** Reconnect delays: 50 ms doubling to 2 s, full jitter. */
const RECONNECT_BACKOFF = exponentialBackoff({ initialDelayMs: 50, maxDelayMs: 2_000 });

/** A pub/sub subscription's callbacks. */
export interface RedisSubscriber {
  /** A message published on the channel. */
  message(message: string): void;
  /**
   * The subscription became active on a (re)connected subscriber connection: messages
   * published while it was not connected were missed.
   */
  resubscribed(): void;
}

/**
 * Jamey's Redis connections: one for commands, one for pub/sub. Every command runs through a
 * circuit breaker named `redis` and a per-command timeout, and fails at once instead of queueing
 * while Redis is unreachable, so callers can fall back without waiting.
 */
export interface RedisClient {
  /** The policies every command passes; register them with `kit.addDependency('redis', …)`. */
  readonly policies: { readonly breaker: CircuitBreaker; readonly timeout: TimeoutPolicy };
  /**
   * Runs `command` on the command connection, through the breaker and the timeout. It fails
   * fast with `BrokenCircuitError` while the breaker is open, and with a `TimeoutError` when
   * Redis takes longer than the command timeout (the command itself is not cancellable).
   * The first failure of an outage is logged at warn; later ones are not.
   */
  run<T>(command: (redis: Redis) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /**
   * Resolves true once both connections are up and every subscription is active, or false
   * after `timeoutMs`. Never rejects: a service may start while Redis is down.
   */
  ready(timeoutMs: number): Promise<boolean>;
  /** Subscribes to `channel` (now, or as soon as the subscriber connection is ready). Returns an unsubscribe function. */
  subscribe(channel: string, subscriber: RedisSubscriber): () => void;
  /** Closes both connections. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Connects to Redis (in the background: a service starts and serves while Redis is down) and
 * returns the guarded client. ioredis is configured to fail fast: no offline queue, no retry of
 * commands on reconnect, a connect timeout and reconnects with capped, jittered backoff.
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const { clock, random, logger, name, whenDown } = options;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
  const breaker = createCircuitBreaker({
    name: 'redis',
    clock,
    random,
    // As for Postgres: half the calls of the last 10 s failing, with at least 5 calls, opens it.
    strategy: { kind: 'sampling', failureRateThreshold: 0.5, minimumThroughput: 5, window: { kind: 'time', durationMs: 10_000 } },
    breakDuration: options.breakDurationMs ?? 1_000,
  });
  // Aggressive: ioredis cannot cancel a command, so the caller stops waiting at the deadline.
  const timeout = createTimeout({ name: 'redis', clock, timeoutMs: commandTimeoutMs, strategy: 'aggressive' });
  const policy = wrap(breaker, timeout);

  let previousDelay = 0;
  const connectionOptions = {
    connectTimeout: Math.max(1_000, commandTimeoutMs),
    // A backstop for commands the policy has stopped waiting for; they are never resent.
    commandTimeout: Math.max(1_000, commandTimeoutMs * 4),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times: number) => (previousDelay = Math.max(1, RECONNECT_BACKOFF.next(times, previousDelay, random))),
    // After a failover the old primary answers READONLY: reconnect to find the new one.
    reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
  };
  const commands = new Redis(options.url, { ...connectionOptions, connectionName: `jamey-${name}` });
  // Subscriptions are made (again) by hand on every ready, so resubscription can be awaited.
  const subscriberConnection = new Redis(options.url, { ...connectionOptions, connectionName: `jamey-${name}-sub`, autoResubscribe: false });

  // One warning per outage: set on the first failure, cleared once a command succeeds again.
  let outage = false;
  const reportFailure = (error: unknown): void => {
    if (outage || isCancellation(error)) return;
    outage = true;
    logger.warn({ err: error, dependency: 'redis' }, `redis unavailable: ${whenDown}`);
  };
  const reportRecovery = (): void => {
    if (!outage) return;
    outage = false;
    logger.info({ dependency: 'redis' }, 'redis available again');
  };
  commands.on('error', reportFailure);
  // The outage ends with the first command that succeeds, not when a socket reconnects: a
  // connection that flaps while Redis comes back is still the same outage.
  commands.on('ready', () => (previousDelay = 0));
  subscriberConnection.on('error', reportFailure);

  const subscriptions = new Map<string, Set<RedisSubscriber>>();
  // Subscriptions confirmed on the current subscriber connection; reset when it drops.
  const active = new Set<string>();
  const readyWaiters = new Set<() => void>();
  const isReady = (): boolean =>
    commands.status === 'ready' && subscriberConnection.status === 'ready' && [...subscriptions.keys()].every((c) => active.has(c));
  const notify = (): void => {
    if (!isReady()) return;
    for (const wake of readyWaiters) wake();
    readyWaiters.clear();
  };
  commands.on('ready', notify);
  subscriberConnection.on('close', () => active.clear());
  subscriberConnection.on('message', (channel: string, message: string) => {
    for (const subscriber of subscriptions.get(channel) ?? []) subscriber.message(message);
  });
  subscriberConnection.on('ready', () => {
    const channels = [...subscriptions.keys()];
    if (channels.length === 0) {
      notify();
      return;
    }
    subscriberConnection.subscribe(...channels).then(
      () => {
        for (const channel of channels) active.add(channel);
        for (const channel of channels) for (const subscriber of subscriptions.get(channel) ?? []) subscriber.resubscribed();
        notify();
      },
      // The connection dropped again; the next ready subscribes again.
      (error: unknown) => reportFailure(error),
    );
  });

  let closing: Promise<void> | undefined;
  return {
    policies: { breaker, timeout },

    async run(command, signal) {
      try {
        const result = await policy.execute(() => command(commands), signal);
        reportRecovery();
        return result;
      } catch (error) {
        reportFailure(error);
        throw error;
      }
    },

    ready(timeoutMs) {
      if (isReady()) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          readyWaiters.delete(wake);
          resolve(false);
        }, timeoutMs);
        const wake = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        readyWaiters.add(wake);
      });
    },

    subscribe(channel, subscriber) {
      let set = subscriptions.get(channel);
      if (!set) {
        set = new Set();
        subscriptions.set(channel, set);
        // Before the first ready the ready handler subscribes; after a drop, the next ready does.
        if (subscriberConnection.status === 'ready') {
          subscriberConnection.subscribe(channel).then(() => {
            active.add(channel);
            notify();
          }, reportFailure);
        }
      }
      set.add(subscriber);
      return () => {
        set.delete(subscriber);
        if (set.size === 0 && subscriptions.get(channel) === set) {
          subscriptions.delete(channel);
          active.delete(channel);
          if (subscriberConnection.status === 'ready') subscriberConnection.unsubscribe(channel).catch(() => undefined);
        }
      };
    },

    close() {
      closing ??= Promise.all([commands, subscriberConnection].map((connection) => quit(connection))).then(() => undefined);
      return closing;
    },
  };
}

/** QUIT politely when connected; otherwise, or if that fails, drop the connection and stop reconnecting. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await connection.quit();
      return;
    } catch {
      // Fall through: disconnect.
    }
  }
  connection.disconnect();
}
