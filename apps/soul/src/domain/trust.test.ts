import { isJameyError } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { INITIAL_TRUST, nextTrust, TRUST_LEARNING_RATE } from './trust.js';

const GRID = Array.from({ length: 21 }, (_, i) => i / 20); // 0, 0.05, …, 1

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (isJameyError(error) && error.code === 'INVALID_ARGUMENT') return error.details.field;
    throw error;
  }
  return undefined;
}

describe('nextTrust', () => {
  it('uses the documented constants', () => {
    expect(TRUST_LEARNING_RATE).toBe(0.2);
    expect(INITIAL_TRUST).toBe(0.5);
  });

  it('applies t + α·v·(1 − t) for non-negative valence', () => {
    expect(nextTrust(0.5, 1)).toBeCloseTo(0.6, 15);
    expect(nextTrust(0.5, 0.5)).toBeCloseTo(0.55, 15);
    expect(nextTrust(0, 1)).toBeCloseTo(0.2, 15);
    expect(nextTrust(0.9, 1)).toBeCloseTo(0.92, 15);
  });

  it('applies t + α·v·t for negative valence', () => {
    expect(nextTrust(0.5, -1)).toBeCloseTo(0.4, 15);
    expect(nextTrust(0.5, -0.5)).toBeCloseTo(0.45, 15);
    expect(nextTrust(1, -1)).toBeCloseTo(0.8, 15);
    expect(nextTrust(0.1, -1)).toBeCloseTo(0.08, 15);
  });

  it('leaves trust unchanged for valence 0 (and -0)', () => {
    for (const t of GRID) {
      expect(nextTrust(t, 0)).toBe(t);
      expect(nextTrust(t, -0)).toBe(t);
    }
  });

  it('stays within [0, 1] for every trust and valence, even when applied many times', () => {
    for (const t of GRID) {
      for (const v of [-1, -0.7, -0.01, 0.01, 0.7, 1]) {
        let trust = t;
        let [low, high] = [t, t];
        for (let i = 0; i < 500; i++) {
          trust = nextTrust(trust, v);
          [low, high] = [Math.min(low, trust), Math.max(high, trust)];
        }
        expect(low).toBeGreaterThanOrEqual(0);
        expect(high).toBeLessThanOrEqual(1);
      }
    }
  });

  it('keeps the bounds fixed: full trust cannot rise, zero trust cannot fall', () => {
    expect(nextTrust(1, 1)).toBe(1);
    expect(nextTrust(0, -1)).toBe(0);
  });

  it('is asymmetric: gains shrink near full trust, losses shrink near zero trust', () => {
    const gainLow = nextTrust(0.2, 1) - 0.2;
    const gainHigh = nextTrust(0.8, 1) - 0.8;
    expect(gainHigh).toBeLessThan(gainLow);
    const lossLow = 0.2 - nextTrust(0.2, -1);
    const lossHigh = 0.8 - nextTrust(0.8, -1);
    expect(lossLow).toBeLessThan(lossHigh);
    // At neutral trust the rule is symmetric; elsewhere it is not.
    expect(nextTrust(0.5, 1) - 0.5).toBeCloseTo(0.5 - nextTrust(0.5, -1), 15);
    expect(nextTrust(0.8, 1) - 0.8).not.toBeCloseTo(0.8 - nextTrust(0.8, -1), 5);
  });

  it('is monotone in valence and in trust', () => {
    const valences = Array.from({ length: 41 }, (_, i) => -1 + i / 20);
    for (const t of GRID) {
      for (let i = 1; i < valences.length; i++) {
        expect(nextTrust(t, valences[i]!)).toBeGreaterThanOrEqual(nextTrust(t, valences[i - 1]!));
      }
    }
    for (const v of valences) {
      for (let i = 1; i < GRID.length; i++) {
        expect(nextTrust(GRID[i]!, v)).toBeGreaterThanOrEqual(nextTrust(GRID[i - 1]!, v));
      }
    }
  });

  it('moves up for positive and down for negative valence, by at most α·|v|', () => {
    for (const t of GRID.slice(1, -1)) {
      for (const v of [0.001, 0.3, 1]) {
        const up = nextTrust(t, v);
        expect(up).toBeGreaterThan(t);
        expect(up - t).toBeLessThanOrEqual(TRUST_LEARNING_RATE * v + 1e-15);
        const down = nextTrust(t, -v);
        expect(down).toBeLessThan(t);
        expect(t - down).toBeLessThanOrEqual(TRUST_LEARNING_RATE * v + 1e-15);
      }
    }
  });

  it('rejects NaN, infinite and out-of-range valences', () => {
    for (const v of [Number.NaN, Infinity, -Infinity, 1.0000001, -1.0000001, 2, -5]) {
      expect(fieldOf(() => nextTrust(0.5, v))).toBe('valence');
    }
  });

  it('rejects a trust outside [0, 1]', () => {
    for (const t of [Number.NaN, -0.1, 1.1, Infinity]) {
      expect(fieldOf(() => nextTrust(t, 0.5))).toBe('trust');
    }
  });

  it('accepts the valence bounds exactly', () => {
    expect(fieldOf(() => nextTrust(0.5, 1))).toBeUndefined();
    expect(fieldOf(() => nextTrust(0.5, -1))).toBeUndefined();
  });
});
