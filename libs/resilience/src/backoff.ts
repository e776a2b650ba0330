import type { RandomSource } from '@jamey/core';

/** The longest delay a Node timer can wait (about 24.8 days); longer ones fire at once. */
export const MAX_DELAY_MS = 2_147_483_647;

/**
 * A backoff: how long to wait before retry number `attempt`. Retry delays and a circuit
 * breaker's break duration on repeated re-opens both use one.
 */
export interface Backoff {
  /**
   * The delay in milliseconds before retry `attempt` (1 for the first), given the delay used
   * before the previous one (0 before the first). Always a finite number in [0, the cap],
   * whatever the random source returns.
   */
  next(attempt: number, previousDelayMs: number, random: RandomSource): number;
}

/**
 * How a delay is randomized.
 * - `none`: exactly the computed delay.
 * - `full`: uniformly in [0, delay] (AWS "full jitter").
 * - `decorrelated`: uniformly in [initial, 3 × previous delay], capped (AWS "decorrelated
 *   jitter"); grows on its own, so it ignores `exponent`.
 */
export type Jitter = 'none' | 'full' | 'decorrelated';

/** Options of {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /** The first delay, in ms. Default 100. */
  readonly initialDelayMs?: number;
  /** The cap, in ms. Default 10_000; at most {@link MAX_DELAY_MS}. */
  readonly maxDelayMs?: number;
  /** The growth factor per attempt. Default 2. */
  readonly exponent?: number;
  /** Default `full`. */
  readonly jitter?: Jitter;
}

/** Options of {@link linearBackoff}. */
export interface LinearBackoffOptions {
  /** The first delay, in ms. Default 100. */
  readonly initialDelayMs?: number;
  /** Added per attempt, in ms. Default `initialDelayMs`. */
  readonly stepMs?: number;
  /** The cap, in ms. Default 10_000. */
  readonly maxDelayMs?: number;
  /** Default `none`. */
  readonly jitter?: Exclude<Jitter, 'decorrelated'>;
}

/** `initial × exponent^(attempt − 1)`, capped, with jitter (default full). */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  const initial = checkDelay('initialDelayMs', options.initialDelayMs ?? 100);
  const cap = checkDelay('maxDelayMs', options.maxDelayMs ?? 10_000);
  const exponent = options.exponent ?? 2;
  if (!Number.isFinite(exponent) || exponent < 1) throw new RangeError(`exponent must be ≥ 1, got ${exponent}`);
  const jitter = options.jitter ?? 'full';
  if (jitter === 'decorrelated') {
    return {
      next: (_attempt, previousDelayMs, random) => {
        const low = Math.min(initial, cap);
        const previous = clamp(previousDelayMs, low, cap);
        // previous × 3 may exceed the cap; the clamp below keeps the result within it.
        const high = Math.max(low, Math.min(cap, previous * 3));
        return clamp(low + unit(random) * (high - low), 0, cap);
      },
    };
  }
  return {
    next: (attempt, _previousDelayMs, random) => {
      const delay = initial === 0 ? 0 : Math.min(cap, initial * Math.pow(exponent, attemptIndex(attempt)));
      return applyJitter(delay, jitter, cap, random);
    },
  };
}

/** `initial + step × (attempt − 1)`, capped, with optional full jitter. */
export function linearBackoff(options: LinearBackoffOptions = {}): Backoff {
  const initial = checkDelay('initialDelayMs', options.initialDelayMs ?? 100);
  const step = checkDelay('stepMs', options.stepMs ?? initial);
  const cap = checkDelay('maxDelayMs', options.maxDelayMs ?? 10_000);
  const jitter = options.jitter ?? 'none';
  return {
    next: (attempt, _previousDelayMs, random) =>
      applyJitter(Math.min(cap, initial + step * attemptIndex(attempt)), jitter, cap, random),
  };
}

/** The same delay every time ("fixed"), with optional full jitter. */
export function constantBackoff(delayMs: number, jitter: Exclude<Jitter, 'decorrelated'> = 'none'): Backoff {
  const delay = checkDelay('delayMs', delayMs);
  return { next: (_attempt, _previousDelayMs, random) => applyJitter(delay, jitter, delay, random) };
}

function applyJitter(delay: number, jitter: Jitter, cap: number, random: RandomSource): number {
  const jittered = jitter === 'full' ? unit(random) * delay : delay;
  return clamp(jittered, 0, cap);
}

/** Attempts past this count as this one: keeps `exponent ** index` defined (1 ** Infinity is NaN). */
const MAX_ATTEMPT_INDEX = 10_000;

/** Zero-based attempt index; a nonsense attempt number counts as the first. */
function attemptIndex(attempt: number): number {
  return attempt >= 1 ? Math.min(Math.floor(attempt) - 1, MAX_ATTEMPT_INDEX) : 0;
}

/** A random number in [0, 1], whatever the source returned (NaN counts as 0). */
function unit(random: RandomSource): number {
  const value = random.next();
  return value > 0 ? (value < 1 ? value : 1) : 0;
}

/** `value` within [low, high]; NaN becomes `low`. */
function clamp(value: number, low: number, high: number): number {
  return value >= low ? (value <= high ? value : high) : low;
}

function checkDelay(name: string, value: number): number {
  if (!(value >= 0 && value <= MAX_DELAY_MS)) {
    throw new RangeError(`${name} must be between 0 and ${MAX_DELAY_MS} ms, got ${value}`);
  }
  return value;
}
