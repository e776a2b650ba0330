import { createSeededRandom } from '@jamey/core';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { constantBackoff } from './backoff.js';
import { createBulkhead } from './bulkhead.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import { BrokenCircuitError, TimeoutError } from './errors.js';
import { createFallback } from './fallback.js';
import { createRetry } from './retry.js';
import { useFakeTime, unavailable, type FakeTime } from './test-support/fake-time.js';
import { createTimeout } from './timeout.js';
import { PolicyPipeline, wrap } from './wrap.js';

afterEach(() => {
  vi.useRealTimers();
});

function policies(time: FakeTime) {
  const random = createSeededRandom(11);
  return {
    retry: createRetry({ clock: time.clock, random, maxRetries: 2, backoff: constantBackoff(10) }),
    breaker: createCircuitBreaker({ clock: time.clock, random, strategy: { kind: 'consecutive', threshold: 3 }, breakDuration: 1_000 }),
    timeout: createTimeout({ clock: time.clock, timeoutMs: 100 }),
  };
}

describe('wrap', () => {
  it('puts the first policy outermost: a breaker inside a retry counts every attempt', async () => {
    const time = useFakeTime();
    const inside = policies(time);
    const insideRun = wrap(inside.retry, inside.breaker).execute(() => Promise.reject(unavailable()));
    const insideSettled = expect(insideRun).rejects.toThrow('unavailable');
    await time.advance(20);
    await insideSettled;
    expect(inside.breaker.state).toBe('open');

    const outside = policies(time);
    const outsideRun = wrap(outside.breaker, outside.retry).execute(() => Promise.reject(unavailable()));
    const outsideSettled = expect(outsideRun).rejects.toThrow('unavailable');
    await time.advance(20);
    await outsideSettled;
    expect(outside.breaker.state).toBe('closed');
  });

  it('retry(breaker(timeout)): a timed-out attempt is retried with a fresh signal and deadline', async () => {
    const time = useFakeTime();
    const { retry, breaker, timeout } = policies(time);
    const signals: AbortSignal[] = [];
    const attempts: number[] = [];
    const start = time.clock.now();
    const result = wrap(retry, breaker, timeout).execute(({ signal, attempt, deadline }) => {
      signals.push(signal);
      attempts.push(attempt);
      expect(deadline).toBe(time.clock.now() + 100);
      if (attempt === 0) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      return 'second time lucky';
    });
    await time.advance(110);
    await expect(result).resolves.toBe('second time lucky');
    expect(attempts).toEqual([0, 1]);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toBeInstanceOf(TimeoutError);
    expect(signals[1]?.aborted).toBe(false);
    expect(time.clock.now() - start).toBe(110);
    expect(breaker.stats()).toMatchObject({ calls: 0 }); // consecutive: the success reset the count
  });

  it('an open breaker inside a retry is not retried; a fallback outside answers instead', async () => {
    const time = useFakeTime();
    const { retry, breaker, timeout } = policies(time);
    const isolation = breaker.isolate();
    const fallback = createFallback({ fallback: (error) => (error instanceof BrokenCircuitError ? 'degraded' : 'other') });
    const fn = vi.fn();
    const pipeline = wrap(fallback, retry, breaker, timeout);
    await expect(pipeline.execute(fn)).resolves.toBe('degraded');
    expect(fn).not.toHaveBeenCalled();
    isolation.release();
    expectTypeOf(pipeline.execute(() => 1)).toEqualTypeOf<Promise<number | 'degraded' | 'other'>>();
  });

  it('flattens nested pipelines; an empty one just runs the function', async () => {
    const time = useFakeTime();
    const { retry, breaker, timeout } = policies(time);
    const bulkhead = createBulkhead({ maxConcurrent: 1 });
    const inner = wrap(breaker, timeout);
    const outer = wrap(retry, inner, bulkhead);
    expect(outer).toBeInstanceOf(PolicyPipeline);
    expect(outer.policies).toEqual([retry, breaker, timeout, bulkhead]);
    await expect(outer.execute(() => 'ok')).resolves.toBe('ok');
    await expect(wrap().execute(() => 'bare')).resolves.toBe('bare');
    await expect(wrap(timeout).execute(() => { throw new Error('sync throw'); })).rejects.toThrow('sync throw');
  });

  it('breaker(timeout) under fake timers: a hung trial times out, re-opens the breaker, and the next break probes again', async () => {
    const time = useFakeTime();
    const { breaker, timeout } = policies(time);
    const pipeline = wrap(breaker, timeout);
    const hang = ({ signal }: { signal: AbortSignal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    for (let i = 0; i < 3; i++) {
      const failing = expect(pipeline.execute(hang)).rejects.toBeInstanceOf(TimeoutError);
      await time.advance(100);
      await failing;
    }
    expect(breaker.state).toBe('open');
    await time.advance(1_000);
    const probe = pipeline.execute(hang);
    expect(breaker.state).toBe('half-open');
    await expect(pipeline.execute(() => 'rejected')).rejects.toBeInstanceOf(BrokenCircuitError);
    const probeFailed = expect(probe).rejects.toBeInstanceOf(TimeoutError);
    await time.advance(100);
    await probeFailed;
    expect(breaker.state).toBe('open');
    await time.advance(1_000);
    await expect(pipeline.execute(() => 'recovered')).resolves.toBe('recovered');
    expect(breaker.state).toBe('closed');
    expect(time.pendingTimers()).toBeLessThanOrEqual(1);
  });

  it('rejects at once, without calling the function, when the caller has already aborted', async () => {
    const time = useFakeTime();
    const { retry, breaker, timeout } = policies(time);
    const fn = vi.fn();
    const reason = new Error('already gone');
    await expect(wrap(retry, breaker, timeout).execute(fn, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });
});
