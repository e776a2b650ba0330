import { getEventListeners } from 'node:events';
import { createSeededRandom } from '@jamey/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from './errors.js';
import type { Scheduler } from './scheduler.js';
import { systemScheduler } from './scheduler.js';
import { defer, flush, useFakeTime } from './test-support/fake-time.js';
import { createTimeout } from './timeout.js';
import { wrap } from './wrap.js';

afterEach(() => {
  vi.useRealTimers();
});

/** The system scheduler, counting the timers it creates. */
function countingScheduler(): Scheduler & { created: number } {
  const scheduler = {
    created: 0,
    setTimeout: (callback: () => void, ms: number) => {
      scheduler.created++;
      return systemScheduler.setTimeout(callback, ms);
    },
    clearTimeout: (handle: unknown) => systemScheduler.clearTimeout(handle),
  };
  return scheduler;
}

const waitForAbort = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

describe('timeout (cooperative)', () => {
  it('aborts the signal at the timeout and rejects with a TimeoutError', async () => {
    const time = useFakeTime();
    const timeout = createTimeout({ name: 'memory', timeoutMs: 1_000, clock: time.clock });
    const onTimeout = vi.fn();
    timeout.events.on('OnTimeout', onTimeout);
    let seen: AbortSignal | undefined;
    const result = timeout.execute(({ signal }) => {
      seen = signal;
      return waitForAbort(signal);
    });
    const settled = expect(result).rejects.toBeInstanceOf(TimeoutError);
    await time.advance(999);
    expect(seen?.aborted).toBe(false);
    await time.advance(1);
    await settled;
    expect(seen?.reason).toBeInstanceOf(TimeoutError);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    expect(onTimeout).toHaveBeenCalledWith({ name: 'memory', timeoutMs: 1_000, byDeadline: false });
    expect(timeout.pending).toBe(0);
  });

  it('turns a late error into a TimeoutError but returns a late result', async () => {
    const time = useFakeTime();
    const timeout = createTimeout({ timeoutMs: 100, clock: time.clock });
    const late = defer<string>();
    const result = timeout.execute(() => late.promise);
    await time.advance(150);
    late.resolve('late but fine');
    await expect(result).resolves.toBe('late but fine');

    const failing = defer<string>();
    const failed = timeout.execute(() => failing.promise);
    await time.advance(150);
    failing.reject(new Error('socket closed'));
    await expect(failed).rejects.toBeInstanceOf(TimeoutError);
  });

  it('never allows past the caller deadline, and fails at once when it has passed', async () => {
    const time = useFakeTime();
    const timeout = createTimeout({ timeoutMs: 10_000, clock: time.clock });
    const onTimeout = vi.fn();
    timeout.events.on('OnTimeout', onTimeout);
    const start = time.clock.now();
    const result = timeout.execute(({ signal, deadline }) => {
      expect(deadline).toBe(start + 300);
      return waitForAbort(signal);
    }, { deadline: start + 300 });
    const settled = expect(result).rejects.toBeInstanceOf(TimeoutError);
    await time.advance(300);
    await settled;
    expect(onTimeout).toHaveBeenCalledWith(expect.objectContaining({ byDeadline: true }));
    const fn = vi.fn();
    await expect(timeout.execute(fn, { deadline: time.clock.now() })).rejects.toBeInstanceOf(TimeoutError);
    expect(fn).not.toHaveBeenCalled();
  });

  it('creates no timer per call on the success path', async () => {
    const time = useFakeTime();
    const scheduler = countingScheduler();
    const timeout = createTimeout({ timeoutMs: 1_000, clock: time.clock, scheduler });
    for (let i = 0; i < 1_000; i++) await timeout.execute(() => i);
    expect(scheduler.created).toBe(1);
    expect(timeout.pending).toBe(0);
    // The one timer fires once, finds nothing, and does not re-arm.
    await time.advance(1_000);
    expect(time.pendingTimers()).toBe(0);
    expect(scheduler.created).toBe(1);
  });

  it('expires each of many overlapping executions exactly at its own deadline', async () => {
    const time = useFakeTime();
    const timeout = createTimeout({ timeoutMs: 1_000, clock: time.clock });
    const random = createSeededRandom(3);
    const start = time.clock.now();
    const expiredAt = new Map<number, number>();
    const expected = new Map<number, number>();
    const running: Promise<unknown>[] = [];
    const finishers: (() => void)[] = [];
    for (let i = 0; i < 200; i++) {
      const deadline = start + 1 + Math.floor(random.next() * 1_500);
      expected.set(i, Math.min(deadline, start + 1_000));
      const done = defer<string>();
      finishers.push(() => done.resolve('done'));
      running.push(
        timeout
          .execute(({ signal }) => {
            signal.addEventListener('abort', () => expiredAt.set(i, time.clock.now()));
            return Promise.race([done.promise, waitForAbort(signal)]);
          }, { deadline })
          .catch(() => undefined),
      );
    }
    // A few finish early and must never expire.
    for (const i of [5, 50, 150]) {
      finishers[i]!();
      expected.delete(i);
    }
    for (let t = 0; t <= 1_000; t++) await time.advance(1);
    await Promise.all(running);
    expect(expiredAt).toEqual(new Map([...expected].map(([i, at]) => [i, at])));
    expect(timeout.pending).toBe(0);
  });

  it('passes the caller abort to the function and removes its listener afterwards', async () => {
    const time = useFakeTime();
    const timeout = createTimeout({ timeoutMs: 1_000, clock: time.clock });
    const controller = new AbortController();
    for (let i = 0; i < 100; i++) await timeout.execute(({ signal }) => signal.aborted, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const result = timeout.execute(({ signal }) => waitForAbort(signal), controller.signal);
    await flush();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('client cancelled');
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('nested timeouts: the outer expiring aborts the inner signal', async () => {
    const time = useFakeTime();
    const outer = createTimeout({ name: 'outer', timeoutMs: 100, clock: time.clock });
    const inner = createTimeout({ name: 'inner', timeoutMs: 1_000, clock: time.clock });
    const start = time.clock.now();
    const deadlines: number[] = [];
    const body = ({ signal, deadline }: { signal: AbortSignal; deadline: number }) => {
      deadlines.push(deadline);
      return waitForAbort(signal);
    };
    // Composed: the outer scope is found through the call.
    const composed = wrap(outer, inner).execute(body);
    // By hand: the context is passed on, as a gRPC handler passes its call's signal and deadline.
    const byHand = outer.execute((context) => inner.execute(body, context));
    const settled = Promise.all([
      expect(composed).rejects.toThrow('outer timed out after 100 ms'),
      expect(byHand).rejects.toBeInstanceOf(TimeoutError),
    ]);
    await time.advance(100);
    await settled;
    expect(deadlines).toEqual([start + 100, start + 100]);
  });
});

describe('timeout (aggressive)', () => {
  it('rejects at the deadline even if the function ignores its signal, without an unhandled rejection', async () => {
    const time = useFakeTime();
    const timeout = createTimeout({ timeoutMs: 50, clock: time.clock, strategy: 'aggressive' });
    const stuck = defer<string>();
    const result = timeout.execute(() => stuck.promise);
    const settled = expect(result).rejects.toBeInstanceOf(TimeoutError);
    await time.advance(50);
    await settled;
    stuck.reject(new Error('much later'));
    await flush();
    await expect(timeout.execute(() => 'fast')).resolves.toBe('fast');
  });

  it('rejects invalid durations', () => {
    const time = useFakeTime();
    expect(() => createTimeout({ timeoutMs: -1, clock: time.clock })).toThrow(RangeError);
    expect(() => createTimeout({ timeoutMs: 2 ** 31, clock: time.clock })).toThrow(RangeError);
  });
});
