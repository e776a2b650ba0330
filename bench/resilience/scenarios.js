// The implementations compared, each in the same configuration for every library:
// breaker: consecutive failures (5; on the failure path never reached), 30 s break;
// retry: 3 retries, exponential backoff, only transient errors (the failure path's error is
// permanent, so it is rethrown at once); timeout: 1 s, cooperative;
// composition: retry(breaker(timeout)). opossum has no retry: its "composition" is breaker+timeout.
// cockatiel and opossum are imported only by the scenarios that use them.
import { cryptoRandom, systemClock } from '@jamey/core';
import {
  createCircuitBreaker,
  createRetry,
  createTimeout,
  exponentialBackoff,
  wrap as ourWrap,
} from '@jamey/resilience';

/** The failure path's error: permanent (gRPC INTERNAL), allocated once so no run pays for a stack. */
export const FAILURE = Object.assign(new Error('failed'), { code: 13 });

const clock = systemClock;
const random = cryptoRandom;
const NEVER = 1_000_000_000; // a threshold the failure path never reaches: it measures recording, not fast-fails

function ours(kind, path) {
  const breaker = () =>
    createCircuitBreaker({
      clock,
      random,
      breakDuration: 30_000,
      strategy: { kind: 'consecutive', threshold: path === 'failure' ? NEVER : 5 },
      // Like cockatiel's handleAll: every error counts against the breaker.
      outcomeOf: () => 'failure',
    });
  const retry = () => createRetry({ clock, random, maxRetries: 3, backoff: exponentialBackoff() });
  const timeout = () => createTimeout({ clock, timeoutMs: 1_000 });
  switch (kind) {
    case 'breaker':
      return breaker();
    case 'retry':
      return retry();
    case 'timeout':
      return timeout();
    case 'composition':
      return ourWrap(retry(), breaker(), timeout());
  }
  throw new Error(kind);
}

async function cockatiel(kind, path) {
  const {
    circuitBreaker,
    ConsecutiveBreaker,
    ExponentialBackoff,
    handleAll,
    handleWhen,
    retry: cockatielRetry,
    timeout: cockatielTimeout,
    TimeoutStrategy,
    wrap: cockatielWrap,
  } = await import('cockatiel');
  const breaker = () =>
    circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(path === 'failure' ? NEVER : 5) });
  const retry = () => cockatielRetry(handleWhen((error) => error !== FAILURE), { maxAttempts: 3, backoff: new ExponentialBackoff() });
  const timeout = () => cockatielTimeout(1_000, TimeoutStrategy.Cooperative);
  switch (kind) {
    case 'breaker':
      return breaker();
    case 'retry':
      return retry();
    case 'timeout':
      return timeout();
    case 'composition':
      return cockatielWrap(retry(), breaker(), timeout());
  }
  throw new Error(kind);
}

async function opossum(kind, path, fn) {
  const { default: OpossumBreaker } = await import('opossum');
  const breaker = new OpossumBreaker(fn, {
    timeout: kind === 'composition' ? 1_000 : false,
    resetTimeout: 30_000,
    errorThresholdPercentage: 50,
    volumeThreshold: path === 'failure' ? Number.MAX_SAFE_INTEGER : 5,
    // With opossum's default (true) every failure sorts all latencies in the rolling window, so a
    // failure costs O(calls in the last 10 s): 64 µs per call after 1,000 failures, 1 ms after 8,000.
    rollingPercentilesEnabled: false,
  });
  // Failures are the point of the failure path; opossum emits them as events too.
  breaker.on('failure', () => undefined);
  return { call: () => breaker.fire(), close: () => breaker.shutdown() };
}

/**
 * The call to measure for implementation `impl` on `path`, as `{ call, close? }`.
 * `call` returns a promise that settles like `await fn()` would.
 */
export async function build(impl, path) {
  const fn = path === 'success' ? async () => 1 : async () => Promise.reject(FAILURE);
  const readsSignal = path === 'success' ? async ({ signal }) => (signal.aborted ? 0 : 1) : async ({ signal }) => Promise.reject(signal.aborted ? signal.reason : FAILURE);
  const [library, kind] = impl.split(':');
  switch (library) {
    case 'bare':
      return { call: fn };
    case 'AbortSignal.timeout':
      // The platform alternative to a timer wheel: one timer and one signal per call.
      return { call: () => fn(AbortSignal.timeout(1_000)) };
    case 'ours': {
      if (kind === 'composition+signal') {
        const policy = ours('composition', path);
        return { call: () => policy.execute(readsSignal) };
      }
      const policy = ours(kind, path);
      return { call: () => policy.execute(fn) };
    }
    case 'cockatiel': {
      const policy = await cockatiel(kind, path);
      return { call: () => policy.execute(fn) };
    }
    case 'opossum':
      return opossum(kind, path, fn);
  }
  throw new Error(`unknown implementation ${impl}`);
}
