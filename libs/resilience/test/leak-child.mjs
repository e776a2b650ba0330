// Child process of src/leak.test.ts: 1,000,000 calls through retry(breaker(bulkhead(timeout)))
// on ONE long-lived AbortSignal, every call reading its context signal. Prints one JSON line of
// measurements and then must exit by itself: nothing here calls process.exit.
import { getEventListeners, setMaxListeners } from 'node:events';
import { systemClock, createSeededRandom } from '@jamey/core';
import {
  constantBackoff,
  createBulkhead,
  createCircuitBreaker,
  createRetry,
  createTimeout,
  systemScheduler,
  wrap,
} from '@jamey/resilience';

const CALLS = Number(process.env.LEAK_CALLS ?? 1_000_000);
const IN_FLIGHT = 16;
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with --expose-gc');

// The system timers, counting the ones alive (set, not yet fired or cleared).
let liveTimers = 0;
const live = new Set();
const scheduler = {
  setTimeout(callback, ms) {
    const handle = systemScheduler.setTimeout(() => {
      live.delete(handle);
      liveTimers = live.size;
      callback();
    }, ms);
    live.add(handle);
    liveTimers = live.size;
    return handle;
  },
  clearTimeout(handle) {
    live.delete(handle);
    liveTimers = live.size;
    systemScheduler.clearTimeout(handle);
  },
};

const clock = systemClock;
const random = createSeededRandom(42);
const retry = createRetry({ clock, random, scheduler, maxRetries: 2, backoff: constantBackoff(0) });
const breaker = createCircuitBreaker({ clock, random, strategy: { kind: 'sampling', window: { kind: 'time', durationMs: 1_000 } } });
const bulkhead = createBulkhead({ maxConcurrent: 8, maxQueue: IN_FLIGHT });
const timeout = createTimeout({ clock, scheduler, timeoutMs: 30_000 });
const policy = wrap(retry, breaker, bulkhead, timeout);

const caller = new AbortController();
const signal = caller.signal;
// Each call in flight that reads its signal listens on the caller's: up to IN_FLIGHT at once.
setMaxListeners(IN_FLIGHT * 2, signal);
const transient = Object.assign(new Error('unavailable'), { code: 14 });

let started = 0;
let succeeded = 0;
let maxListeners = 0;
const samples = [];

async function work({ signal: attemptSignal, attempt }) {
  if (attemptSignal.aborted) throw attemptSignal.reason;
  const listeners = getEventListeners(signal, 'abort').length;
  if (listeners > maxListeners) maxListeners = listeners;
  // One call in a thousand fails once and succeeds on its retry.
  if (attempt === 0 && started % 1_000 === 0) throw transient;
  await null;
  return attempt;
}

function measure(label) {
  gc();
  gc();
  samples.push({
    label,
    calls: succeeded,
    heapUsed: process.memoryUsage().heapUsed,
    listeners: getEventListeners(signal, 'abort').length,
    liveTimers,
    refTimers: process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length,
    pending: timeout.pending,
    active: bulkhead.active,
    queued: bulkhead.queued,
  });
}

async function lane() {
  while (started < CALLS) {
    started++;
    await policy.execute(work, signal);
    succeeded++;
    if (succeeded % 100_000 === 0) {
      const l = getEventListeners(signal, 'abort').length;
      if (l > maxListeners) maxListeners = l;
    }
  }
}

const begin = process.hrtime.bigint();
// Warm up (JIT, heap shape) before the baseline.
const warmup = Math.min(100_000, CALLS / 10);
while (started < warmup) {
  started++;
  await policy.execute(work, signal);
  succeeded++;
}
measure('baseline');
await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
measure('end');
const elapsedMs = Number(process.hrtime.bigint() - begin) / 1e6;
console.log(JSON.stringify({ samples, succeeded, maxListeners, breakerState: breaker.state, elapsedMs }));
