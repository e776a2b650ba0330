import { createManualClock, createSeededRandom, type ManualClock } from '@jamey/core';
import { expect, vi } from 'vitest';
import type { CircuitBreakerOptions } from '../circuit-breaker-options.js';
import { createCircuitBreaker } from '../circuit-breaker.js';
import { unavailable } from './fake-time.js';

export const BREAK_MS = 10_000;

/** A breaker on a manual clock (it has no timers), with spies on its state events. */
export function setup(options: Partial<CircuitBreakerOptions> = {}, clock: ManualClock = createManualClock()) {
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

export type BreakerHarness = ReturnType<typeof setup>;

/** Fails `failures` calls and checks the breaker opened. */
export async function openBreaker(t: BreakerHarness, failures = 3): Promise<void> {
  for (let i = 0; i < failures; i++) await t.fail();
  expect(t.breaker.state).toBe('open');
}
