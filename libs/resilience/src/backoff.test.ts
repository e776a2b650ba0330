import type { RandomSource } from '@jamey/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantBackoff, exponentialBackoff, linearBackoff, MAX_DELAY_MS, type Backoff } from './backoff.js';

/** A random source replaying `values` (which may be anything a buggy source returns). */
function replay(values: readonly number[]): RandomSource {
  let i = 0;
  return { next: () => values[i++ % values.length] ?? 0, bytes: (length) => new Uint8Array(length) };
}

const delay = fc.double({ min: 0, max: MAX_DELAY_MS, noNaN: true });
// Anything a caller might pass as attempt or previous delay, including nonsense.
const anyNumber = fc.oneof(fc.integer({ min: -5, max: 5_000 }), fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0, 1, 1e308));
// Well-behaved sources return [0, 1); misbehaving ones are clamped, never propagated.
const randomValues = fc.array(fc.oneof(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.double()), { minLength: 1, maxLength: 4 });

function checkBounds(backoff: Backoff, attempt: number, previous: number, values: readonly number[], low: number, cap: number): number {
  const result = backoff.next(attempt, previous, replay(values));
  expect(Number.isFinite(result)).toBe(true);
  expect(result).toBeGreaterThanOrEqual(low);
  expect(result).toBeLessThanOrEqual(cap);
  return result;
}

describe('backoff jitter bounds (property-based)', () => {
  it('exponential with full jitter: finite, in [0, min(cap, initial × exponent^(n−1))]', () => {
    fc.assert(
      fc.property(delay, delay, fc.double({ min: 1, max: 10, noNaN: true }), anyNumber, anyNumber, randomValues, (initial, cap, exponent, attempt, previous, values) => {
        const backoff = exponentialBackoff({ initialDelayMs: initial, maxDelayMs: cap, exponent, jitter: 'full' });
        const result = checkBounds(backoff, attempt, previous, values, 0, cap);
        // Attempts beyond 10 000 count as 10 000 (documented), which also covers attempt = Infinity.
        const index = attempt >= 1 ? Math.min(Math.floor(attempt) - 1, 10_000) : 0;
        const unjittered = initial === 0 ? 0 : Math.min(cap, initial * Math.pow(exponent, index));
        expect(result).toBeLessThanOrEqual(unjittered);
      }),
      { numRuns: 2_000 },
    );
  });

  it('exponential with decorrelated jitter: finite, in [min(initial, cap), cap], at most 3 × the previous delay', () => {
    fc.assert(
      fc.property(delay, delay, anyNumber, anyNumber, randomValues, (initial, cap, attempt, previous, values) => {
        const backoff = exponentialBackoff({ initialDelayMs: initial, maxDelayMs: cap, jitter: 'decorrelated' });
        const low = Math.min(initial, cap);
        const result = checkBounds(backoff, attempt, previous, values, low, cap);
        if (previous >= low) expect(result).toBeLessThanOrEqual(Math.max(low, previous * 3));
      }),
      { numRuns: 2_000 },
    );
  });

  it('a decorrelated sequence fed its own output stays in bounds forever', () => {
    fc.assert(
      fc.property(delay, delay, fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 50 }), (initial, cap, values) => {
        const backoff = exponentialBackoff({ initialDelayMs: initial, maxDelayMs: cap, jitter: 'decorrelated' });
        const random = replay(values);
        let previous = 0;
        for (let attempt = 1; attempt <= 200; attempt++) {
          previous = backoff.next(attempt, previous, random);
          expect(previous).toBeGreaterThanOrEqual(Math.min(initial, cap));
          expect(previous).toBeLessThanOrEqual(cap);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('exponential without jitter is exact until the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 40 }), (initial, attempt) => {
        const backoff = exponentialBackoff({ initialDelayMs: initial, maxDelayMs: MAX_DELAY_MS, jitter: 'none' });
        expect(backoff.next(attempt, 0, replay([0.5]))).toBe(Math.min(MAX_DELAY_MS, initial * 2 ** (attempt - 1)));
      }),
    );
  });

  it('linear and constant backoffs, with and without full jitter, stay in [0, cap]', () => {
    fc.assert(
      fc.property(delay, delay, delay, fc.constantFrom('none', 'full') , anyNumber, randomValues, (initial, step, cap, jitter, attempt, values) => {
        const linear = linearBackoff({ initialDelayMs: initial, stepMs: step, maxDelayMs: cap, jitter: jitter as 'none' | 'full' });
        checkBounds(linear, attempt, 0, values, 0, cap);
        const constant = constantBackoff(initial, jitter as 'none' | 'full');
        const result = checkBounds(constant, attempt, 0, values, 0, initial);
        if (jitter === 'none') expect(result).toBe(initial);
      }),
      { numRuns: 2_000 },
    );
  });

  it('rejects delays that are negative, NaN or longer than a timer can wait', () => {
    for (const bad of [-1, NaN, Infinity, MAX_DELAY_MS + 1]) {
      expect(() => exponentialBackoff({ initialDelayMs: bad })).toThrow(RangeError);
      expect(() => exponentialBackoff({ maxDelayMs: bad })).toThrow(RangeError);
      expect(() => linearBackoff({ stepMs: bad })).toThrow(RangeError);
      expect(() => constantBackoff(bad)).toThrow(RangeError);
    }
    expect(() => exponentialBackoff({ exponent: 0.5 })).toThrow(RangeError);
  });
});
