import type { Clock, RandomSource } from '@jamey/core';
import type { Backoff } from './backoff.js';
import { createWindow, type OpenReason, type OutcomeWindow, type WindowStats } from './breaker-window.js';
import {
  defaultOutcomeOf,
  type CallOutcome,
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitBreakerSnapshot,
  type CircuitState,
  type CircuitTicket,
  type IsolationHandle,
} from './circuit-breaker-options.js';
import { BrokenCircuitError, IsolatedCircuitError } from './errors.js';
import { EventEmitter } from './events.js';
import { Policy, type Call, type Step } from './policy.js';

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const ISOLATED = 3;
const STATE_NAMES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/**
 * A circuit breaker. Closed, it runs calls and feeds their outcomes to its strategy; open, it
 * fails fast with {@link BrokenCircuitError}; after the break duration the next call finds it
 * half-open and up to `halfOpenMaxCalls` trials run. It has no timers: every transition happens
 * on a call, by the clock.
 */
export class CircuitBreaker extends Policy {
  readonly name: string;
  readonly events = new EventEmitter<CircuitBreakerEvents>();
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly window: OutcomeWindow;
  private readonly breakDuration: number | Backoff;
  private readonly baseBreakMs: number;
  private readonly halfOpenMaxCalls: number;
  private readonly maxHalfOpenWaitMs: number;
  /** How a thrown error counts (the `outcomeOf` option). */
  readonly outcomeOf: (error: unknown) => CallOutcome;
  private readonly timed: boolean;

  private current = CLOSED;
  /** Bumped on every transition; a permit from an older generation no longer counts. */
  private generation = 0;
  private openedAt = 0;
  private openUntil = 0;
  private openCount = 0;
  private lastBreakMs = 0;
  private halfOpenSince = 0;
  private trialsAdmitted = 0;
  private trialsSucceeded = 0;
  private isolationHolds = 0;

  constructor(options: CircuitBreakerOptions) {
    super();
    this.name = options.name ?? 'circuit-breaker';
    this.clock = options.clock;
    this.random = options.random;
    this.window = createWindow(options.strategy ?? { kind: 'consecutive', threshold: 5 });
    this.breakDuration = options.breakDuration ?? 30_000;
    this.baseBreakMs = typeof this.breakDuration === 'number' ? checkMs('breakDuration', this.breakDuration) : this.breakDuration.next(1, 0, options.random);
    this.halfOpenMaxCalls = options.halfOpenMaxCalls ?? 1;
    if (!Number.isSafeInteger(this.halfOpenMaxCalls) || this.halfOpenMaxCalls < 1) {
      throw new RangeError(`halfOpenMaxCalls must be a positive integer, got ${this.halfOpenMaxCalls}`);
    }
    this.maxHalfOpenWaitMs = checkMs('maxHalfOpenWaitMs', options.maxHalfOpenWaitMs ?? 30_000);
    this.outcomeOf = options.outcomeOf ?? defaultOutcomeOf;
    this.timed = this.window.slowCallMs !== Infinity;
    if (options.initialState !== undefined) this.restore(options.initialState);
  }

  /**
   * The current state. An open breaker stays `open` after its break has elapsed until a call
   * arrives and finds it half-open ({@link CircuitBreaker.retryAfterMs} is then 0).
   */
  get state(): CircuitState {
    return STATE_NAMES[this.current]!;
  }

  /** Milliseconds until an open breaker admits a trial call; 0 when it would admit one now. */
  get retryAfterMs(): number {
    return this.current === OPEN ? Math.max(0, this.openUntil - this.clock.now()) : 0;
  }

  /** What the closed-state window holds now. */
  stats(): WindowStats {
    return this.window.stats(this.clock.now());
  }

  /**
   * Takes a permit for one call, for callers that cannot wrap a closure (interceptors,
   * consumers): `const ticket = breaker.acquire(); … ticket.success()` or `ticket.failure(err)`.
   * @throws {BrokenCircuitError} when open (or half-open with every trial slot taken)
   * @throws {IsolatedCircuitError} when isolated
   */
  acquire(): CircuitTicket {
    const permit = this.current === CLOSED ? this.generation : this.admit();
    return new Ticket(this, permit, this.startTime());
  }

  /**
   * Holds the breaker open until every hold is released (reference-counted), failing calls with
   * {@link IsolatedCircuitError}. Releasing the last hold closes it with a fresh window.
   */
  isolate(): IsolationHandle {
    if (this.isolationHolds++ === 0) {
      this.transition(ISOLATED);
      this.events.emit('OnCircuitIsolated', { name: this.name });
    }
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        if (--this.isolationHolds === 0) this.close();
      },
    };
  }

  /** The state as JSON, for {@link CircuitBreakerOptions.initialState}. */
  toJSON(): CircuitBreakerSnapshot {
    const open = this.current === OPEN || this.current === HALF_OPEN;
    return {
      version: 1,
      state: open ? 'open' : 'closed',
      openedAt: this.openedAt,
      // Half-open: saved ready to probe again at once.
      openUntil: this.current === HALF_OPEN ? this.halfOpenSince : this.openUntil,
      openCount: this.openCount,
      lastBreakMs: this.lastBreakMs,
      window: this.window.snapshot(),
    };
  }

  /** @internal */
  async run(call: Call, next: Step): Promise<unknown> {
    const permit = this.current === CLOSED ? this.generation : this.admit();
    const startedAt = this.startTime();
    let result: unknown;
    try {
      result = await next.invoke(call);
    } catch (error) {
      // The caller giving up says nothing about the dependency.
      this.settle(permit, startedAt, call.callerSignal?.aborted === true ? 'ignore' : this.outcomeOf(error), error);
      throw error;
    }
    this.settle(permit, startedAt, 'success', undefined);
    return result;
  }

  /** @internal Records a finished call admitted under `permit`. */
  settle(permit: number, startedAt: number, outcome: CallOutcome, error: unknown): void {
    let slow = false;
    let now = NaN;
    if (!Number.isNaN(startedAt)) {
      // startedAt is NaN (skipped) unless slow calls are tracked or someone listens.
      now = this.clock.now();
      slow = now - startedAt >= this.window.slowCallMs;
      if (this.events.has('OnCircuitOutcome')) {
        this.events.emit('OnCircuitOutcome', { name: this.name, outcome, durationMs: now - startedAt, slow, error });
      }
    } else if (this.events.has('OnCircuitOutcome')) {
      this.events.emit('OnCircuitOutcome', { name: this.name, outcome, durationMs: undefined, slow, error });
    }
    if (permit !== this.generation) return; // admitted before the last transition: stale
    if (this.current === CLOSED) {
      if (outcome === 'ignore') return;
      if (this.window.timed && Number.isNaN(now)) now = this.clock.now();
      const reason = this.window.record(outcome === 'failure', slow, now);
      if (reason !== undefined) this.open(reason, error);
    } else if (this.current === HALF_OPEN) {
      if (outcome === 'ignore') this.trialsAdmitted--;
      else if (outcome === 'failure' || slow) this.open('half-open-failure', error);
      else if (++this.trialsSucceeded >= this.halfOpenMaxCalls) this.close();
    }
  }

  private startTime(): number {
    return this.timed || this.events.has('OnCircuitOutcome') ? this.clock.now() : NaN;
  }

  /** The slow path of admission: anything but closed. Returns a permit or throws. */
  private admit(): number {
    const now = this.clock.now();
    if (this.current === ISOLATED) {
      this.reject('isolated', this.baseBreakMs);
    }
    if (this.current === OPEN) {
      if (now < this.openUntil) this.reject('open', this.openUntil - now);
      this.halfOpenSince = now;
      this.trialsAdmitted = 0;
      this.trialsSucceeded = 0;
      this.transition(HALF_OPEN);
      this.events.emit('OnCircuitHalfOpened', { name: this.name });
    }
    if (this.trialsAdmitted < this.halfOpenMaxCalls) {
      this.trialsAdmitted++;
      return this.generation;
    }
    const waitedMs = now - this.halfOpenSince;
    if (waitedMs >= this.maxHalfOpenWaitMs) {
      this.open('half-open-timeout', undefined);
      this.reject('open', this.openUntil - now);
    }
    return this.reject('half-open', this.maxHalfOpenWaitMs - waitedMs);
  }

  private reject(state: CircuitState, retryAfterMs: number): never {
    const error =
      state === 'isolated' ? new IsolatedCircuitError(this.name, retryAfterMs) : new BrokenCircuitError(this.name, retryAfterMs);
    if (this.events.has('OnCircuitRejected')) {
      this.events.emit('OnCircuitRejected', { name: this.name, state, retryAfterMs: error.retryAfterMs });
    }
    throw error;
  }

  private open(reason: OpenReason, error: unknown): void {
    const now = this.clock.now();
    this.openCount++;
    const breakMs =
      typeof this.breakDuration === 'number'
        ? this.breakDuration
        : this.breakDuration.next(this.openCount, this.lastBreakMs, this.random);
    this.lastBreakMs = breakMs;
    this.openedAt = now;
    this.openUntil = now + breakMs;
    this.transition(OPEN);
    this.events.emit('OnCircuitOpened', { name: this.name, reason, breakDurationMs: breakMs, openCount: this.openCount, error });
  }

  private close(): void {
    this.openCount = 0;
    this.lastBreakMs = 0;
    this.window.reset();
    this.transition(CLOSED);
    this.events.emit('OnCircuitClosed', { name: this.name });
  }

  private transition(to: number): void {
    const from = this.current;
    this.current = to;
    this.generation++;
    if (this.events.has('OnCircuitStateChanged')) {
      this.events.emit('OnCircuitStateChanged', { name: this.name, from: STATE_NAMES[from]!, to: STATE_NAMES[to]! });
    }
  }

  private restore(snapshot: CircuitBreakerSnapshot): void {
    if (snapshot.version !== 1) throw new RangeError(`unknown circuit breaker snapshot version ${String(snapshot.version)}`);
    this.window.restore(snapshot.window);
    this.openedAt = snapshot.openedAt;
    this.openUntil = snapshot.openUntil;
    this.openCount = snapshot.openCount;
    this.lastBreakMs = snapshot.lastBreakMs;
    this.current = snapshot.state === 'open' ? OPEN : CLOSED;
  }
}

class Ticket implements CircuitTicket {
  private done = false;

  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly permit: number,
    private readonly startedAt: number,
  ) {}

  success(): void {
    this.record('success', undefined);
  }

  failure(error: unknown): void {
    this.record(this.breaker.outcomeOf(error), error);
  }

  ignore(): void {
    this.record('ignore', undefined);
  }

  private record(outcome: CallOutcome, error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.breaker.settle(this.permit, this.startedAt, outcome, error);
  }
}

function checkMs(name: string, value: number): number {
  if (!(value >= 0 && Number.isFinite(value))) throw new RangeError(`${name} must be a finite number of ms ≥ 0, got ${value}`);
  return value;
}

/** Creates a {@link CircuitBreaker}. */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  return new CircuitBreaker(options);
}
