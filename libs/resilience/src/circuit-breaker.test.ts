import { createManualClock } from '@jamey/core';
import { describe, expect, it, vi } from 'vitest';
import type { BreakerStrategy } from './breaker-window.js';
import { exponentialBackoff } from './backoff.js';
import { BrokenCircuitError } from './errors.js';
import { BREAK_MS, openBreaker, setup } from './test-support/breaker.js';
import { defer, invalidArgument, unavailable } from './test-support/fake-time.js';

describe('circuit breaker: consecutive strategy', () => {
  it('opens exactly at the threshold, not one failure before', async () => {
    const t = setup();
    await t.fail();
    await t.fail();
    expect(t.breaker.state).toBe('closed');
    expect(t.opened).not.toHaveBeenCalled();
    await t.fail();
    expect(t.breaker.state).toBe('open');
    expect(t.opened).toHaveBeenCalledTimes(1);
    expect(t.opened.mock.calls[0]?.[0]).toMatchObject({ name: 'memory', reason: 'consecutive-failures', breakDurationMs: BREAK_MS, openCount: 1 });
  });

  it('a success resets the consecutive count', async () => {
    const t = setup();
    await t.fail();
    await t.fail();
    await t.succeed();
    await t.fail();
    await t.fail();
    expect(t.breaker.state).toBe('closed');
  });

  it('fails fast while open without calling the function, saying when to retry', async () => {
    const t = setup();
    await openBreaker(t);
    t.clock.advance(4_000);
    const fn = vi.fn(() => 'ok');
    const error = await t.breaker.execute(fn).catch((e: unknown) => e);
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect((error as BrokenCircuitError).retryAfterMs).toBe(6_000);
    expect((error as BrokenCircuitError).code).toBe('DEPENDENCY_UNAVAILABLE');
    expect((error as BrokenCircuitError).details).toEqual({ dependency: 'memory', retryAfterMs: 6_000 });
    expect(t.breaker.retryAfterMs).toBe(6_000);
  });

  it('goes half-open only after the full break duration', async () => {
    const t = setup();
    await openBreaker(t);
    t.clock.advance(BREAK_MS - 1);
    await expect(t.succeed()).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(t.halfOpened).not.toHaveBeenCalled();
    t.clock.advance(1);
    await expect(t.succeed()).resolves.toBe('ok');
    expect(t.halfOpened).toHaveBeenCalledTimes(1);
  });

  it('admits exactly N trial calls when half-open and rejects the rest', async () => {
    const t = setup({ halfOpenMaxCalls: 3 });
    await openBreaker(t);
    t.clock.advance(BREAK_MS);
    const trials = [defer<string>(), defer<string>(), defer<string>()];
    const fn = vi.fn();
    const running = trials.map((trial) => t.breaker.execute(() => (fn(), trial.promise)));
    await expect(t.breaker.execute(fn)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(t.breaker.state).toBe('half-open');
    trials[0]!.resolve('a');
    trials[1]!.resolve('b');
    await Promise.all(running.slice(0, 2));
    expect(t.breaker.state).toBe('half-open');
    trials[2]!.resolve('c');
    await running[2];
    expect(t.breaker.state).toBe('closed');
  });

  it('closes on trial success, firing each event once', async () => {
    const t = setup();
    await openBreaker(t);
    t.clock.advance(BREAK_MS);
    await t.succeed();
    await t.succeed();
    expect(t.breaker.state).toBe('closed');
    expect(t.opened).toHaveBeenCalledTimes(1);
    expect(t.halfOpened).toHaveBeenCalledTimes(1);
    expect(t.closed).toHaveBeenCalledTimes(1);
    // A closed breaker starts over: threshold - 1 failures do not open it.
    await t.fail();
    await t.fail();
    expect(t.breaker.state).toBe('closed');
  });

  it('re-opens on a trial failure, restarting the break from that moment', async () => {
    const t = setup();
    await openBreaker(t);
    t.clock.advance(BREAK_MS + 2_500);
    await t.fail();
    expect(t.breaker.state).toBe('open');
    expect(t.opened).toHaveBeenCalledTimes(2);
    expect(t.opened.mock.calls[1]?.[0]).toMatchObject({ reason: 'half-open-failure', openCount: 2 });
    expect(t.breaker.retryAfterMs).toBe(BREAK_MS);
    t.clock.advance(BREAK_MS - 1);
    await expect(t.succeed()).rejects.toBeInstanceOf(BrokenCircuitError);
    t.clock.advance(1);
    await expect(t.succeed()).resolves.toBe('ok');
  });

  it('backs the break duration off on repeated re-opens and resets it on close', async () => {
    const t = setup({ breakDuration: exponentialBackoff({ initialDelayMs: 1_000, maxDelayMs: 5_000, jitter: 'none' }) });
    await openBreaker(t);
    const breaks = [t.breaker.retryAfterMs];
    for (let i = 0; i < 4; i++) {
      t.clock.advance(t.breaker.retryAfterMs);
      await t.fail();
      breaks.push(t.breaker.retryAfterMs);
    }
    expect(breaks).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    t.clock.advance(5_000);
    await t.succeed();
    await openBreaker(t);
    expect(t.breaker.retryAfterMs).toBe(1_000);
  });

  it('ignores errors its classifier ignores, and permanent errors count as successes by default', async () => {
    class Ignored extends Error {}
    const t = setup({ outcomeOf: (error) => (error instanceof Ignored ? 'ignore' : 'failure') });
    await t.fail();
    await t.fail();
    for (let i = 0; i < 5; i++) await t.breaker.execute(() => Promise.reject(new Ignored())).catch(() => undefined);
    expect(t.breaker.state).toBe('closed');
    await t.fail();
    expect(t.breaker.state).toBe('open');

    const d = setup();
    await d.fail();
    await d.fail();
    await d.breaker.execute(() => Promise.reject(invalidArgument())).catch(() => undefined);
    await d.fail();
    await d.fail();
    expect(d.breaker.state).toBe('closed');
  });

  it('a call admitted before the breaker last changed state does not count', async () => {
    const t = setup({ breakDuration: 1_000 });
    const slow = defer<string>();
    const old = t.breaker.execute(() => slow.promise);
    await openBreaker(t);
    t.clock.advance(1_000);
    await t.succeed(); // half-open, then closed again
    await t.fail();
    await t.fail();
    slow.reject(unavailable()); // would be the third consecutive failure
    await old.catch(() => undefined);
    expect(t.breaker.state).toBe('closed');
  });

  it('does not count a call the caller aborted', async () => {
    const t = setup();
    await t.fail();
    await t.fail();
    const controller = new AbortController();
    const run = t.breaker.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(unavailable('cancelled')))),
      controller.signal,
    );
    controller.abort();
    await expect(run).rejects.toThrow('cancelled');
    expect(t.breaker.state).toBe('closed');
  });
});

describe('circuit breaker: sampling strategy', () => {
  const countWindow: BreakerStrategy = { kind: 'sampling', failureRateThreshold: 0.5, window: { kind: 'count', size: 10 }, minimumThroughput: 4 };

  it('opens exactly when the failure rate reaches the threshold', async () => {
    const t = setup({ strategy: countWindow });
    await t.succeed();
    await t.succeed();
    await t.succeed();
    await t.fail();
    await t.fail(); // 2 of 5 = 40%
    expect(t.breaker.state).toBe('closed');
    await t.fail(); // 3 of 6 = 50%
    expect(t.breaker.state).toBe('open');
    expect(t.opened.mock.calls[0]?.[0]).toMatchObject({ reason: 'failure-rate' });
  });

  it('opens at a rate like 0.3 exactly, despite floating point', async () => {
    const t = setup({ strategy: { ...countWindow, failureRateThreshold: 0.3, minimumThroughput: 10 } });
    for (let i = 0; i < 7; i++) await t.succeed();
    await t.fail();
    await t.fail();
    expect(t.breaker.state).toBe('closed');
    await t.fail(); // 3 of 10
    expect(t.breaker.state).toBe('open');
  });

  it('never opens below the minimum throughput', async () => {
    const t = setup({ strategy: { ...countWindow, minimumThroughput: 5 } });
    for (let i = 0; i < 4; i++) await t.fail();
    expect(t.breaker.state).toBe('closed');
    expect(t.breaker.stats()).toEqual({ calls: 4, failures: 4, slow: 0 });
    await t.fail();
    expect(t.breaker.state).toBe('open');
  });

  it('forgets the oldest call once the count window is full', async () => {
    const t = setup({ strategy: { ...countWindow, window: { kind: 'count', size: 4 }, minimumThroughput: 4 } });
    await t.fail();
    await t.succeed();
    await t.succeed();
    await t.succeed(); // 1 of 4
    await t.fail(); // evicts the first failure: 1 of 4
    expect(t.breaker.stats()).toEqual({ calls: 4, failures: 1, slow: 0 });
    await t.fail(); // 2 of 4
    expect(t.breaker.state).toBe('open');
  });

  it('ages calls out of a time window', async () => {
    const t = setup({
      strategy: { kind: 'sampling', failureRateThreshold: 0.5, window: { kind: 'time', durationMs: 10_000, buckets: 10 }, minimumThroughput: 4 },
    });
    await t.fail();
    await t.fail();
    await t.fail();
    t.clock.advance(5_000);
    expect(t.breaker.stats().failures).toBe(3);
    t.clock.advance(4_999);
    expect(t.breaker.stats().failures).toBe(3);
    t.clock.advance(1); // the first bucket is now 10 s old
    expect(t.breaker.stats()).toEqual({ calls: 0, failures: 0, slow: 0 });
    await t.fail();
    await t.fail();
    t.clock.advance(13_500); // a gap longer than the window: a bucket in another slot is stale too
    expect(t.breaker.stats()).toEqual({ calls: 0, failures: 0, slow: 0 });
    await t.fail();
    await t.succeed();
    await t.succeed();
    await t.succeed();
    expect(t.breaker.state).toBe('closed');
    t.clock.advance(1_000);
    await t.fail(); // 2 of 5 within the window
    expect(t.breaker.state).toBe('closed');
    await t.fail(); // 3 of 6
    expect(t.breaker.state).toBe('open');
  });

  it('opens on the slow-call rate even when every call succeeds', async () => {
    const clock = createManualClock();
    const t = setup(
      {
        strategy: {
          kind: 'sampling',
          slowCallDurationMs: 500,
          slowCallRateThreshold: 0.5,
          window: { kind: 'count', size: 10 },
          minimumThroughput: 4,
        },
      },
      clock,
    );
    const call = (durationMs: number) =>
      t.breaker.execute(() => {
        clock.advance(durationMs);
        return 'ok';
      });
    await call(10);
    await call(499);
    await call(500);
    expect(t.breaker.stats()).toEqual({ calls: 3, failures: 0, slow: 1 });
    await call(900); // 2 slow of 4
    expect(t.breaker.state).toBe('open');
    expect(t.opened.mock.calls[0]?.[0]).toMatchObject({ reason: 'slow-call-rate' });
  });

  it('re-opens when a half-open trial is slow', async () => {
    const clock = createManualClock();
    const t = setup(
      { strategy: { kind: 'sampling', slowCallDurationMs: 500, window: { kind: 'count', size: 4 }, minimumThroughput: 1 } },
      clock,
    );
    await t.fail();
    expect(t.breaker.state).toBe('open');
    clock.advance(BREAK_MS);
    await t.breaker.execute(() => {
      clock.advance(600);
      return 'ok';
    });
    expect(t.breaker.state).toBe('open');
  });
});
