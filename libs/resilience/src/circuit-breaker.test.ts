import { createManualClock, createSeededRandom, type ManualClock } from '@jamey/core';
import { describe, expect, it, vi } from 'vitest';
import { constantBackoff, exponentialBackoff } from './backoff.js';
import type { BreakerStrategy } from './breaker-window.js';
import { createCircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { BrokenCircuitError, IsolatedCircuitError } from './errors.js';
import { defer, invalidArgument, unavailable } from './test-support/fake-time.js';

const BREAK_MS = 10_000;

function setup(options: Partial<CircuitBreakerOptions> = {}, clock: ManualClock = createManualClock()) {
  const breaker = createCircuitBreaker({
    name: 'memory',
    clock,
    random: createSeededRandom(1),
    breakDuration: BREAK_MS,
    strategy: { kind: 'consecutive', threshold: 3 },
    ...options,
  });
  const opened = vi.fn();
  const halfOpened = vi.fn();
  const closed = vi.fn();
  breaker.events.on('OnCircuitOpened', opened);
  breaker.events.on('OnCircuitHalfOpened', halfOpened);
  breaker.events.on('OnCircuitClosed', closed);
  const fail = () => breaker.execute(() => Promise.reject(unavailable())).catch((error: unknown) => error);
  const succeed = () => breaker.execute(() => 'ok');
  return { breaker, clock, opened, halfOpened, closed, fail, succeed };
}

async function openBreaker(t: ReturnType<typeof setup>, failures = 3): Promise<void> {
  for (let i = 0; i < failures; i++) await t.fail();
  expect(t.breaker.state).toBe('open');
}

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

describe('circuit breaker: isolation, half-open wait, snapshots, tickets', () => {
  it('isolation is reference-counted and releasing twice is harmless', async () => {
    const t = setup();
    const isolated = vi.fn();
    t.breaker.events.on('OnCircuitIsolated', isolated);
    const first = t.breaker.isolate();
    const second = t.breaker.isolate();
    expect(isolated).toHaveBeenCalledTimes(1);
    await expect(t.succeed()).rejects.toBeInstanceOf(IsolatedCircuitError);
    first.release();
    first.release();
    expect(t.breaker.state).toBe('isolated');
    await expect(t.succeed()).rejects.toBeInstanceOf(IsolatedCircuitError);
    second.release();
    expect(t.breaker.state).toBe('closed');
    expect(t.closed).toHaveBeenCalledTimes(1);
    await expect(t.succeed()).resolves.toBe('ok');
  });

  it('a hung probe cannot wedge it: after the maximum half-open wait it re-opens', async () => {
    const t = setup({ maxHalfOpenWaitMs: 5_000 });
    await openBreaker(t);
    t.clock.advance(BREAK_MS);
    const hung = defer<string>();
    const probe = t.breaker.execute(() => hung.promise);
    t.clock.advance(4_999);
    const early = await t.succeed().catch((e: unknown) => e);
    expect(early).toBeInstanceOf(BrokenCircuitError);
    expect((early as BrokenCircuitError).retryAfterMs).toBe(1);
    t.clock.advance(1);
    await expect(t.succeed()).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(t.breaker.state).toBe('open');
    expect(t.opened.mock.calls[1]?.[0]).toMatchObject({ reason: 'half-open-timeout' });
    t.clock.advance(BREAK_MS);
    const next = defer<string>();
    const nextProbe = t.breaker.execute(() => next.promise);
    expect(t.breaker.state).toBe('half-open');
    // The hung probe finishing late changes nothing: its permit is from an older half-open period.
    hung.resolve('late');
    await probe;
    expect(t.breaker.state).toBe('half-open');
    next.resolve('ok');
    await nextProbe;
    expect(t.breaker.state).toBe('closed');
  });

  it('round-trips its state through JSON', async () => {
    const t = setup({ strategy: { kind: 'sampling', window: { kind: 'count', size: 10 }, minimumThroughput: 4 } });
    await t.succeed();
    await t.fail();
    const closedCopy = setup(
      { strategy: { kind: 'sampling', window: { kind: 'count', size: 10 }, minimumThroughput: 4 }, initialState: JSON.parse(JSON.stringify(t.breaker)) },
      t.clock,
    );
    expect(closedCopy.breaker.stats()).toEqual({ calls: 2, failures: 1, slow: 0 });
    await closedCopy.fail(); // 2 of 3: below the minimum throughput
    expect(closedCopy.breaker.state).toBe('closed');
    await closedCopy.succeed(); // 2 of 4 reaches 50 %; without the restored calls it would be 1 of 2
    expect(closedCopy.breaker.state).toBe('open');

    closedCopy.clock.advance(3_000);
    const openCopy = setup(
      { strategy: { kind: 'sampling', window: { kind: 'count', size: 10 }, minimumThroughput: 4 }, initialState: JSON.parse(JSON.stringify(closedCopy.breaker)) },
      closedCopy.clock,
    );
    expect(openCopy.breaker.state).toBe('open');
    expect(openCopy.breaker.retryAfterMs).toBe(7_000);
    openCopy.clock.advance(7_000);
    await expect(openCopy.succeed()).resolves.toBe('ok');
    expect(openCopy.breaker.state).toBe('closed');
  });

  it('round-trips a time window and the break backoff position', async () => {
    const strategy: BreakerStrategy = { kind: 'sampling', window: { kind: 'time', durationMs: 1_000, buckets: 4 }, minimumThroughput: 2 };
    const breakDuration = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 10_000, jitter: 'none' });
    const t = setup({ strategy, breakDuration });
    await t.fail();
    await t.fail();
    t.clock.advance(100);
    await t.fail(); // half-open trial fails: second open, 200 ms
    const copy = setup({ strategy, breakDuration, initialState: JSON.parse(JSON.stringify(t.breaker)) }, t.clock);
    expect(copy.breaker.retryAfterMs).toBe(200);
    copy.clock.advance(200);
    await copy.fail(); // third open: 400 ms
    expect(copy.breaker.retryAfterMs).toBe(400);
  });

  it('saves a half-open breaker as ready to probe', async () => {
    const t = setup();
    await openBreaker(t);
    t.clock.advance(BREAK_MS);
    const probe = defer<string>();
    const running = t.breaker.execute(() => probe.promise);
    const snapshot = t.breaker.toJSON();
    expect(snapshot.state).toBe('open');
    const copy = setup({ initialState: snapshot }, t.clock);
    await expect(copy.succeed()).resolves.toBe('ok');
    probe.resolve('x');
    await running;
  });

  it('acquire/record: tickets count once each, and acquire throws while open', () => {
    const t = setup();
    for (let i = 0; i < 2; i++) {
      const ticket = t.breaker.acquire();
      ticket.failure(unavailable());
      ticket.failure(unavailable());
    }
    expect(t.breaker.state).toBe('closed');
    t.breaker.acquire().ignore();
    t.breaker.acquire().failure(invalidArgument()); // a permanent error: the dependency answered
    t.breaker.acquire().failure(unavailable());
    t.breaker.acquire().failure(unavailable());
    expect(t.breaker.state).toBe('closed');
    t.breaker.acquire().failure(unavailable());
    expect(t.breaker.state).toBe('open');
    expect(() => t.breaker.acquire()).toThrow(BrokenCircuitError);
    t.clock.advance(BREAK_MS);
    const trial = t.breaker.acquire();
    expect(() => t.breaker.acquire()).toThrow(BrokenCircuitError);
    trial.ignore(); // frees the trial slot
    t.breaker.acquire().success();
    expect(t.breaker.state).toBe('closed');
  });

  it('emits state changes and rejections for metrics', async () => {
    const t = setup({ breakDuration: constantBackoff(1_000) });
    const changes: string[] = [];
    const rejected = vi.fn();
    t.breaker.events.on('OnCircuitStateChanged', ({ from, to }) => changes.push(`${from}>${to}`));
    t.breaker.events.on('OnCircuitRejected', rejected);
    await openBreaker(t);
    await t.succeed().catch(() => undefined);
    t.clock.advance(1_000);
    await t.succeed();
    expect(changes).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
    expect(rejected).toHaveBeenCalledWith({ name: 'memory', state: 'open', retryAfterMs: 1_000 });
  });

  it('rejects invalid options', () => {
    const clock = createManualClock();
    const random = createSeededRandom(1);
    expect(() => createCircuitBreaker({ clock, random, halfOpenMaxCalls: 0 })).toThrow(RangeError);
    expect(() => createCircuitBreaker({ clock, random, strategy: { kind: 'consecutive', threshold: 0 } })).toThrow(RangeError);
    expect(() => createCircuitBreaker({ clock, random, strategy: { kind: 'sampling', failureRateThreshold: 1.5 } })).toThrow(RangeError);
    expect(() => createCircuitBreaker({ clock, random, breakDuration: -1 })).toThrow(RangeError);
  });
});
