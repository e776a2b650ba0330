import { createManualClock, createSeededRandom } from '@jamey/core';
import { describe, expect, it, vi } from 'vitest';
import type { BreakerStrategy } from './breaker-window.js';
import { constantBackoff, exponentialBackoff } from './backoff.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import { BrokenCircuitError, IsolatedCircuitError } from './errors.js';
import { BREAK_MS, openBreaker, setup } from './test-support/breaker.js';
import { defer, invalidArgument, unavailable } from './test-support/fake-time.js';

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
