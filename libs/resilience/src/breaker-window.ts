/** Why a breaker opened. */
export type OpenReason =
  | 'consecutive-failures'
  | 'failure-rate'
  | 'slow-call-rate'
  | 'half-open-failure'
  | 'half-open-timeout';

/** Opens after `threshold` failures in a row; any success resets the count. */
export interface ConsecutiveStrategy {
  readonly kind: 'consecutive';
  /** Failures in a row that open the breaker. Default 5. */
  readonly threshold?: number;
}

/** The last `size` calls. */
export interface CountWindow {
  readonly kind: 'count';
  /** Calls remembered. Default 100. */
  readonly size?: number;
}

/** The calls of the last `durationMs`, aged out bucket by bucket. */
export interface TimeWindow {
  readonly kind: 'time';
  /** Window length in ms. Default 10_000. */
  readonly durationMs?: number;
  /** Buckets the window ages by; each is `durationMs / buckets` long. Default 10. */
  readonly buckets?: number;
}

/**
 * Opens when, over a sliding window holding at least `minimumThroughput` calls, the failure
 * rate or the slow-call rate reaches its threshold (resilience4j's semantics: "≥").
 */
export interface SamplingStrategy {
  readonly kind: 'sampling';
  /** Failure rate in (0, 1] that opens the breaker. Default 0.5. */
  readonly failureRateThreshold?: number;
  /** A call taking at least this long (ms), success or failure, is slow. Default: slow calls are not tracked. */
  readonly slowCallDurationMs?: number;
  /** Slow-call rate in (0, 1] that opens the breaker. Default 1 (every call slow). */
  readonly slowCallRateThreshold?: number;
  /** Default `{ kind: 'count', size: 100 }`. */
  readonly window?: CountWindow | TimeWindow;
  /** Calls the window must hold before it can open the breaker. Default 10. */
  readonly minimumThroughput?: number;
}

/** How a closed breaker decides to open. */
export type BreakerStrategy = ConsecutiveStrategy | SamplingStrategy;

/** A window's serialized state; part of a breaker snapshot. */
export type WindowSnapshot =
  | { readonly kind: 'consecutive'; readonly failures: number }
  | { readonly kind: 'count'; readonly size: number; readonly outcomes: readonly number[] }
  | {
      readonly kind: 'time';
      readonly bucketMs: number;
      readonly buckets: readonly { index: number; calls: number; failures: number; slow: number }[];
    };

/** Counts of what a window holds now. */
export interface WindowStats {
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
}

/** @internal */
export interface OutcomeWindow {
  /** True when `record` needs the current time. */
  readonly timed: boolean;
  /** The slow-call threshold in ms (Infinity when slow calls are not tracked). */
  readonly slowCallMs: number;
  /** Records one closed-state call; returns why to open, if the breaker should. */
  record(failed: boolean, slow: boolean, now: number): OpenReason | undefined;
  reset(): void;
  stats(now: number): WindowStats;
  snapshot(): WindowSnapshot;
  /** Restores a snapshot taken with the same configuration; ignores any other. */
  restore(snapshot: WindowSnapshot): void;
}

const FAILED = 1;
const SLOW = 2;

/** @internal */
export function createWindow(strategy: BreakerStrategy): OutcomeWindow {
  if (strategy.kind === 'consecutive') return new ConsecutiveWindow(positiveInteger('threshold', strategy.threshold ?? 5));
  const failureRate = rate('failureRateThreshold', strategy.failureRateThreshold ?? 0.5);
  const slowRate = rate('slowCallRateThreshold', strategy.slowCallRateThreshold ?? 1);
  const slowCallMs = strategy.slowCallDurationMs ?? Infinity;
  if (!(slowCallMs >= 0)) throw new RangeError(`slowCallDurationMs must be ≥ 0, got ${slowCallMs}`);
  const minimum = positiveInteger('minimumThroughput', strategy.minimumThroughput ?? 10);
  const evaluate = (calls: number, failures: number, slow: number): OpenReason | undefined => {
    if (calls < minimum) return undefined;
    // Division rather than `failures >= rate * calls`: 3 / 10 >= 0.3 holds, 3 >= 0.3 * 10 does not.
    if (failures / calls >= failureRate) return 'failure-rate';
    if (slow / calls >= slowRate) return 'slow-call-rate';
    return undefined;
  };
  const window = strategy.window ?? { kind: 'count' };
  if (window.kind === 'count') return new CountWindowImpl(positiveInteger('window.size', window.size ?? 100), slowCallMs, evaluate);
  const duration = positiveInteger('window.durationMs', window.durationMs ?? 10_000);
  const buckets = positiveInteger('window.buckets', window.buckets ?? 10);
  return new TimeWindowImpl(Math.ceil(duration / buckets), buckets, slowCallMs, evaluate);
}

type Evaluate = (calls: number, failures: number, slow: number) => OpenReason | undefined;

class ConsecutiveWindow implements OutcomeWindow {
  readonly timed = false;
  readonly slowCallMs = Infinity;
  private failures = 0;

  constructor(private readonly threshold: number) {}

  record(failed: boolean): OpenReason | undefined {
    if (!failed) {
      this.failures = 0;
      return undefined;
    }
    return ++this.failures >= this.threshold ? 'consecutive-failures' : undefined;
  }

  reset(): void {
    this.failures = 0;
  }

  stats(): WindowStats {
    return { calls: this.failures, failures: this.failures, slow: 0 };
  }

  snapshot(): WindowSnapshot {
    return { kind: 'consecutive', failures: this.failures };
  }

  restore(snapshot: WindowSnapshot): void {
    if (snapshot.kind === 'consecutive') this.failures = Math.max(0, Math.floor(snapshot.failures) || 0);
  }
}

class CountWindowImpl implements OutcomeWindow {
  readonly timed = false;
  private readonly outcomes: Uint8Array;
  private next = 0;
  private calls = 0;
  private failures = 0;
  private slow = 0;

  constructor(
    private readonly size: number,
    readonly slowCallMs: number,
    private readonly evaluate: Evaluate,
  ) {
    this.outcomes = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean): OpenReason | undefined {
    if (this.calls === this.size) {
      const evicted = this.outcomes[this.next] ?? 0;
      if (evicted & FAILED) this.failures--;
      if (evicted & SLOW) this.slow--;
    } else {
      this.calls++;
    }
    this.outcomes[this.next] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slow++;
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
    return this.evaluate(this.calls, this.failures, this.slow);
  }

  reset(): void {
    this.outcomes.fill(0);
    this.next = this.calls = this.failures = this.slow = 0;
  }

  stats(): WindowStats {
    return { calls: this.calls, failures: this.failures, slow: this.slow };
  }

  snapshot(): WindowSnapshot {
    const outcomes: number[] = [];
    const start = this.calls === this.size ? this.next : 0;
    for (let i = 0; i < this.calls; i++) outcomes.push(this.outcomes[(start + i) % this.size] ?? 0);
    return { kind: 'count', size: this.size, outcomes };
  }

  restore(snapshot: WindowSnapshot): void {
    if (snapshot.kind !== 'count' || snapshot.size !== this.size) return;
    this.reset();
    for (const outcome of snapshot.outcomes.slice(-this.size)) this.record((outcome & FAILED) !== 0, (outcome & SLOW) !== 0);
  }
}

class TimeWindowImpl implements OutcomeWindow {
  readonly timed = true;
  // Per bucket: the absolute bucket number (time / bucketMs) it holds, and its counts.
  private readonly index: Float64Array;
  private readonly callCounts: Uint32Array;
  private readonly failureCounts: Uint32Array;
  private readonly slowCounts: Uint32Array;
  private latest = -Infinity;
  private calls = 0;
  private failures = 0;
  private slow = 0;

  constructor(
    private readonly bucketMs: number,
    private readonly buckets: number,
    readonly slowCallMs: number,
    private readonly evaluate: Evaluate,
  ) {
    this.index = new Float64Array(buckets).fill(-1);
    this.callCounts = new Uint32Array(buckets);
    this.failureCounts = new Uint32Array(buckets);
    this.slowCounts = new Uint32Array(buckets);
  }

  record(failed: boolean, slow: boolean, now: number): OpenReason | undefined {
    const slot = this.age(now);
    this.callCounts[slot]!++;
    this.calls++;
    if (failed) {
      this.failureCounts[slot]!++;
      this.failures++;
    }
    if (slow) {
      this.slowCounts[slot]!++;
      this.slow++;
    }
    return this.evaluate(this.calls, this.failures, this.slow);
  }

  reset(): void {
    this.index.fill(-1);
    this.callCounts.fill(0);
    this.failureCounts.fill(0);
    this.slowCounts.fill(0);
    this.latest = -Infinity;
    this.calls = this.failures = this.slow = 0;
  }

  stats(now: number): WindowStats {
    this.age(now);
    return { calls: this.calls, failures: this.failures, slow: this.slow };
  }

  snapshot(): WindowSnapshot {
    const buckets = [];
    for (let slot = 0; slot < this.buckets; slot++) {
      if (this.index[slot]! >= 0 && this.callCounts[slot]! > 0) {
        buckets.push({
          index: this.index[slot]!,
          calls: this.callCounts[slot]!,
          failures: this.failureCounts[slot]!,
          slow: this.slowCounts[slot]!,
        });
      }
    }
    return { kind: 'time', bucketMs: this.bucketMs, buckets };
  }

  restore(snapshot: WindowSnapshot): void {
    if (snapshot.kind !== 'time' || snapshot.bucketMs !== this.bucketMs) return;
    this.reset();
    const newest = Math.max(-Infinity, ...snapshot.buckets.map((bucket) => bucket.index));
    for (const bucket of snapshot.buckets) {
      if (bucket.index <= newest - this.buckets) continue;
      const slot = bucket.index % this.buckets;
      this.index[slot] = bucket.index;
      this.callCounts[slot] = bucket.calls;
      this.failureCounts[slot] = bucket.failures;
      this.slowCounts[slot] = bucket.slow;
      this.calls += bucket.calls;
      this.failures += bucket.failures;
      this.slow += bucket.slow;
    }
    this.latest = newest;
  }

  /** Drops the buckets that have left the window at `now`; returns the slot for `now`. */
  private age(now: number): number {
    // A wall clock stepping back must not overwrite newer buckets: count it in the newest.
    const current = Math.max(Math.floor(now / this.bucketMs), this.latest);
    const slot = current % this.buckets;
    if (current === this.latest) return slot;
    // Clear every slot whose bucket is at least one window old (at most `buckets` of them).
    for (let s = 0; s < this.buckets; s++) {
      if (this.index[s]! >= 0 && this.index[s]! <= current - this.buckets) this.clear(s);
    }
    if (this.index[slot] !== current) {
      this.clear(slot);
      this.index[slot] = current;
    }
    if (current > this.latest) this.latest = current;
    return slot;
  }

  private clear(slot: number): void {
    this.calls -= this.callCounts[slot]!;
    this.failures -= this.failureCounts[slot]!;
    this.slow -= this.slowCounts[slot]!;
    this.callCounts[slot] = this.failureCounts[slot] = this.slowCounts[slot] = 0;
    this.index[slot] = -1;
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function rate(name: string, value: number): number {
  if (!(value > 0 && value <= 1)) throw new RangeError(`${name} must be in (0, 1], got ${value}`);
  return value;
}
