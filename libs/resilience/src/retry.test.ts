import { getEventListeners } from 'node:events';
import { createSeededRandom, JameyError } from '@jamey/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { constantBackoff } from './backoff.js';
import { BrokenCircuitError } from './errors.js';
import { createRetry, type RetryOptions } from './retry.js';
import { createRetryBudget } from './retry-budget.js';
import { invalidArgument, unavailable, useFakeTime, type FakeTime } from './test-support/fake-time.js';

afterEach(() => {
  vi.useRealTimers();
});

function setup(time: FakeTime, options: Partial<RetryOptions> = {}) {
  const retry = createRetry({
    name: 'memory',
    clock: time.clock,
    random: createSeededRandom(7),
    backoff: constantBackoff(100),
    maxRetries: 3,
    ...options,
  });
  const onRetry = vi.fn();
  const onGiveUp = vi.fn();
  retry.events.on('OnRetry', onRetry);
  retry.events.on('OnRetryGiveUp', onGiveUp);
  return { retry, onRetry, onGiveUp };
}

describe('retry', () => {
  it('retries transient errors after each backoff delay, and not before', async () => {
    const time = useFakeTime();
    const { retry, onRetry } = setup(time);
    const startedAt: number[] = [];
    const result = retry.execute(({ attempt }) => {
      startedAt.push(time.clock.now());
      if (attempt < 2) throw unavailable();
      return `done on attempt ${attempt}`;
    });
    const start = time.clock.now();
    await time.advance(99);
    expect(startedAt).toHaveLength(1);
    await time.advance(1);
    expect(startedAt).toHaveLength(2);
    await time.advance(100);
    await expect(result).resolves.toBe('done on attempt 2');
    expect(startedAt.map((at) => at - start)).toEqual([0, 100, 200]);
    expect(onRetry.mock.calls.map(([event]) => [event.attempt, event.delayMs])).toEqual([
      [1, 100],
      [2, 100],
    ]);
  });

  it('does not retry permanent errors or an open breaker', async () => {
    const time = useFakeTime();
    const { retry, onGiveUp } = setup(time);
    const permanent = vi.fn(() => Promise.reject(invalidArgument()));
    await expect(retry.execute(permanent)).rejects.toThrow('invalid');
    expect(permanent).toHaveBeenCalledTimes(1);
    expect(onGiveUp).toHaveBeenCalledWith(expect.objectContaining({ reason: 'not-retryable', attempts: 1 }));
    const open = vi.fn(() => Promise.reject(new BrokenCircuitError('memory', 5_000)));
    await expect(retry.execute(open)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(open).toHaveBeenCalledTimes(1);
  });

  it('gives up after maxRetries with the last error', async () => {
    const time = useFakeTime();
    const { retry, onGiveUp } = setup(time, { maxRetries: 2 });
    let calls = 0;
    const result = retry.execute(() => Promise.reject(unavailable(`failure ${++calls}`)));
    const settled = expect(result).rejects.toThrow('failure 3');
    await time.advance(1_000);
    await settled;
    expect(calls).toBe(3);
    expect(onGiveUp).toHaveBeenCalledWith(expect.objectContaining({ reason: 'max-retries', attempts: 3 }));
  });

  it('an abort during a backoff delay stops at once, leaving no timer or listener', async () => {
    const time = useFakeTime();
    const { retry } = setup(time, { backoff: constantBackoff(60_000) });
    const controller = new AbortController();
    const fn = vi.fn(() => Promise.reject(unavailable()));
    const result = retry.execute(fn, controller.signal);
    await time.advance(0);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(time.pendingTimers()).toBe(1);
    const reason = new Error('caller went away');
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(time.pendingTimers()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await time.advance(120_000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('an abort during an attempt reaches the function and is not retried', async () => {
    const time = useFakeTime();
    const { retry, onRetry } = setup(time);
    const controller = new AbortController();
    const fn = vi.fn(
      ({ signal }: { signal: AbortSignal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(unavailable('aborted')), { once: true })),
    );
    const result = retry.execute(fn, controller.signal);
    controller.abort();
    await expect(result).rejects.toThrow('aborted');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it('never schedules a retry that would end at or past the caller deadline', async () => {
    const time = useFakeTime();
    const { retry, onGiveUp } = setup(time, { maxRetries: 10 });
    const startedAt: number[] = [];
    const start = time.clock.now();
    const result = retry.execute(
      () => {
        startedAt.push(time.clock.now() - start);
        return Promise.reject(unavailable());
      },
      { deadline: start + 250 },
    );
    const settled = expect(result).rejects.toThrow('unavailable');
    await time.advance(200);
    await settled;
    expect(startedAt).toEqual([0, 100, 200]);
    expect(onGiveUp).toHaveBeenCalledWith(expect.objectContaining({ reason: 'deadline', attempts: 3 }));
  });

  it('waits at least the retry-after the error asks for', async () => {
    const time = useFakeTime();
    const { retry } = setup(time);
    const attempts: number[] = [];
    const start = time.clock.now();
    const result = retry.execute(({ attempt }) => {
      attempts.push(time.clock.now() - start);
      if (attempt === 0) throw new JameyError('RATE_LIMITED', 'slow down', { retryAfterMs: 700 });
      return 'ok';
    });
    await time.advance(700);
    await expect(result).resolves.toBe('ok');
    expect(attempts).toEqual([0, 700]);
  });

  it('a shared retry budget stops retries when most attempts fail, and refills on success', async () => {
    const time = useFakeTime();
    const budget = createRetryBudget({ maxTokens: 4, tokenRatio: 0.5 });
    const { retry, onGiveUp } = setup(time, { budget, maxRetries: 10 });
    let calls = 0;
    const failing = retry.execute(() => {
      calls++;
      return Promise.reject(unavailable());
    });
    const settled = expect(failing).rejects.toThrow('unavailable');
    await time.advance(1_000);
    await settled;
    // 4 tokens; the first failure leaves 3 (> 2: retry), the second 2 (not > 2: stop).
    expect(calls).toBe(2);
    expect(budget.tokens).toBe(2);
    expect(onGiveUp).toHaveBeenCalledWith(expect.objectContaining({ reason: 'budget' }));
    expect(budget.canRetry()).toBe(false);
    await retry.execute(() => 'ok');
    expect(budget.tokens).toBe(2.5);
    expect(budget.canRetry()).toBe(true);
    // Permanent errors neither take tokens nor retry.
    await expect(retry.execute(() => Promise.reject(invalidArgument()))).rejects.toThrow();
    expect(budget.tokens).toBe(2.5);
    for (let i = 0; i < 10; i++) await retry.execute(() => 'ok');
    expect(budget.tokens).toBe(4);
  });

  it('rejects a negative retry count and budget parameters out of range', () => {
    const time = useFakeTime();
    expect(() => createRetry({ clock: time.clock, random: createSeededRandom(1), maxRetries: -1 })).toThrow(RangeError);
    expect(() => createRetryBudget({ maxTokens: 0 })).toThrow(RangeError);
    expect(() => createRetryBudget({ tokenRatio: 2 })).toThrow(RangeError);
  });
});
