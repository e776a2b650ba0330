import { describe, expect, it } from 'vitest';
import { integratedInformation, PHI_LIMITS, workspaceActivity, workspacePhi } from './integration.js';

/** A seeded uniform generator (mulberry32), so every run sees the same samples. */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box–Muller. */
function normal(seed: number): () => number {
  const next = uniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

type Matrix2 = [[number, number], [number, number]];

/** Simulates X(t) = A X(t−1) + ε with ε ~ N(0, I), after a burn-in. */
function simulateVar(a: Matrix2, steps: number, seed: number): number[][] {
  const noise = normal(seed);
  let x = [0, 0];
  const rows: number[][] = [];
  for (let t = 0; t < steps + 100; t += 1) {
    x = [a[0][0] * x[0]! + a[0][1] * x[1]! + noise(), a[1][0] * x[0]! + a[1][1] * x[1]! + noise()];
    if (t >= 100) rows.push(x);
  }
  return rows;
}

/**
 * The exact Φ of that process, worked out independently of the estimator: the stationary
 * covariance S solves S = A S Aᵀ + I (iterated to convergence), Cov(X(t), X(t−1)) = A S, the
 * whole's conditional covariance is I (det 1), and each single element's conditional variance
 * is S_ii − (A S)_ii² / S_ii. With two elements the only bipartition is {1}|{2}.
 */
function exactPhi(a: Matrix2): number {
  let s: Matrix2 = [
    [1, 0],
    [0, 1],
  ];
  for (let i = 0; i < 2000; i += 1) {
    const as: Matrix2 = [
      [a[0][0] * s[0][0] + a[0][1] * s[1][0], a[0][0] * s[0][1] + a[0][1] * s[1][1]],
      [a[1][0] * s[0][0] + a[1][1] * s[1][0], a[1][0] * s[0][1] + a[1][1] * s[1][1]],
    ];
    s = [
      [as[0][0] * a[0][0] + as[0][1] * a[0][1] + 1, as[0][0] * a[1][0] + as[0][1] * a[1][1]],
      [as[1][0] * a[0][0] + as[1][1] * a[0][1], as[1][0] * a[1][0] + as[1][1] * a[1][1] + 1],
    ];
  }
  const lagged = [a[0][0] * s[0][0] + a[0][1] * s[1][0], a[1][0] * s[0][1] + a[1][1] * s[1][1]];
  const v1 = s[0][0] - lagged[0]! ** 2 / s[0][0];
  const v2 = s[1][1] - lagged[1]! ** 2 / s[1][1];
  return 0.5 * Math.log2(v1 * v2);
}

describe('integratedInformation', () => {
  it.each([
    { name: 'one-way coupling', a: [[0.5, 0.4], [0, 0.5]] as Matrix2 },
    { name: 'two-way coupling', a: [[0.3, 0.5], [0.5, 0.3]] as Matrix2 },
    { name: 'strong cross-drive', a: [[0, 0.9], [0.9, 0]] as Matrix2 },
  ])('matches the exact Φ of a coupled Gaussian process ($name)', ({ a }) => {
    const exact = exactPhi(a);
    expect(exact).toBeGreaterThan(0.05);
    const estimate = integratedInformation(simulateVar(a, 40_000, 7), ['x', 'y']);
    expect(estimate.defined).toBe(true);
    if (!estimate.defined) return;
    expect(Math.abs(estimate.phiBits - exact) / exact).toBeLessThan(0.05);
    expect(estimate.bipartition).toEqual([['x'], ['y']]);
  });

  it('is about 0 for elements that evolve independently', () => {
    const a: Matrix2 = [
      [0.8, 0],
      [0, -0.5],
    ];
    expect(exactPhi(a)).toBeCloseTo(0, 12);
    const estimate = integratedInformation(simulateVar(a, 40_000, 11), ['x', 'y']);
    expect(estimate.defined && estimate.phiBits).toBeLessThan(0.002);
  });

  it('cuts along the weakest link: an independent element is split off and Φ is about 0', () => {
    const coupled = simulateVar([[0.3, 0.5], [0.5, 0.3]], 20_000, 3);
    const loner = normal(99);
    const rows = coupled.map(([x, y]) => [x!, loner(), y!]);
    const estimate = integratedInformation(rows, ['x', 'alone', 'y']);
    expect(estimate.defined).toBe(true);
    if (!estimate.defined) return;
    const parts = estimate.bipartition.map((part) => [...part].sort());
    expect(parts).toContainEqual(['alone']);
    expect(parts).toContainEqual(['x', 'y']);
    expect(estimate.phiBits).toBeLessThan(0.005);
  });

  it('does not depend on the scale or offset of an element', () => {
    const rows = simulateVar([[0.5, 0.4], [0, 0.5]], 5_000, 5);
    const scaled = rows.map(([x, y]) => [x! * 40 + 3, y! * 0.01 - 7]);
    const plain = integratedInformation(rows, ['x', 'y']);
    const rescaled = integratedInformation(scaled, ['x', 'y']);
    expect(plain.defined && rescaled.defined).toBe(true);
    if (!plain.defined || !rescaled.defined) return;
    expect(rescaled.phiBits).toBeCloseTo(plain.phiBits, 9);
  });

  it('is never negative, and stays finite when an element is perfectly predictable', () => {
    const next = uniform(21);
    const rows: number[][] = [];
    for (let t = 0; t < 400; t += 1) rows.push([t % 2, next(), next()]);
    const estimate = integratedInformation(rows, ['clock', 'u', 'v']);
    expect(estimate.defined).toBe(true);
    if (!estimate.defined) return;
    expect(estimate.phiBits).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(estimate.phiBits)).toBe(true);
  });

  it('leaves out elements that never vary, and is undefined with fewer than two left', () => {
    const next = uniform(1);
    const rows = Array.from({ length: 100 }, () => [next(), 0.5]);
    expect(integratedInformation(rows, ['varies', 'constant'])).toEqual({ defined: false, reason: 'too_few_elements', elements: ['varies'], pairs: 99 });
  });

  it('is undefined without enough samples for the number of elements', () => {
    const next = uniform(2);
    const needed = PHI_LIMITS.pairsPerElement * 3;
    const rows = Array.from({ length: needed }, () => [next(), next(), next()]);
    expect(integratedInformation(rows, ['a', 'b', 'c'])).toMatchObject({ defined: false, reason: 'too_few_samples', pairs: needed - 1 });
    rows.push([next(), next(), next()]);
    expect(integratedInformation(rows, ['a', 'b', 'c']).defined).toBe(true);
  });
});

describe('workspaceActivity', () => {
  it('gives each source the highest salience among its perceptions still in the window', () => {
    const history = [
      { source: 'a', salience: 0.2 },
      { source: 'b', salience: 0.9 },
      { source: 'a', salience: 0.6 },
      { source: 'c', salience: 0.1 },
      { source: 'a', salience: 0.3 },
    ];
    const activity = workspaceActivity(history, { capacity: 3 });
    expect(activity.elements).toEqual(['a', 'b', 'c']);
    expect(activity.series).toEqual([
      [0.6, 0.9, 0], // a .2, b .9, a .6
      [0.6, 0.9, 0.1], // b .9, a .6, c .1
      [0.6, 0, 0.1], // a .6, c .1, a .3
    ]);
  });

  it('keeps the most frequent sources as elements, ties by name', () => {
    const history = ['x', 'y', 'y', 'z', 'w', 'x', 'y'].map((source) => ({ source, salience: 0.5 }));
    expect(workspaceActivity(history, { capacity: 1, maxElements: 3 }).elements).toEqual(['y', 'x', 'w']);
  });

  it('has no rows until the window is full', () => {
    expect(workspaceActivity([{ source: 'a', salience: 1 }], { capacity: 2 }).series).toEqual([]);
  });
});

describe('workspacePhi', () => {
  /** Two sources take turns; `echo` makes the second repeat the first's previous salience. */
  function alternating(echo: boolean, seed: number) {
    const next = uniform(seed);
    const history: { source: string; salience: number }[] = [];
    let previous = next();
    for (let t = 0; t < 3_000; t += 1) {
      const vision = next();
      history.push({ source: 'vision', salience: vision });
      history.push({ source: 'speech', salience: echo ? previous : next() });
      previous = vision;
    }
    return history;
  }

  it('is higher when one source echoes another than when they are independent', () => {
    const independent = workspacePhi(alternating(false, 8));
    const echoing = workspacePhi(alternating(true, 8));
    expect(independent.defined && echoing.defined).toBe(true);
    if (!independent.defined || !echoing.defined) return;
    expect(independent.elements).toEqual(['speech', 'vision']);
    // Independent sources still share the window's rhythm (which of them holds more of its seven
    // slots), which is a little integration; an echo adds far more.
    expect(independent.phiBits).toBeLessThan(0.05);
    expect(echoing.phiBits).toBeGreaterThan(5 * independent.phiBits);
  });

  it('is undefined for a workspace with a single source', () => {
    const history = Array.from({ length: 300 }, (_, t) => ({ source: 'chat', salience: (t % 10) / 10 }));
    expect(workspacePhi(history)).toMatchObject({ defined: false, reason: 'too_few_elements', elements: ['chat'] });
  });
});
