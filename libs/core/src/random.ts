import { randomBytes } from 'node:crypto';

/** A source of randomness. Every unit that depends on randomness takes one. */
export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
  /** `length` random bytes. */
  bytes(length: number): Uint8Array;
}

/** Cryptographically strong randomness from node:crypto. */
export const cryptoRandom: RandomSource = Object.freeze({
  next: () => randomBytes(4).readUInt32BE(0) / 0x1_0000_0000,
  bytes: (length: number) => new Uint8Array(randomBytes(length)),
});

/**
 * A deterministic generator (mulberry32) for tests and benchmarks.
 * Not for anything that must be unpredictable.
 */
export function createSeededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
  return {
    next,
    bytes: (length) => Uint8Array.from({ length }, () => Math.floor(next() * 256)),
  };
}
