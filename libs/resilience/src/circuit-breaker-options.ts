import type { Clock, RandomSource } from '@jamey/core';
import type { Backoff } from './backoff.js';
import type { BreakerStrategy, OpenReason, WindowSnapshot } from './breaker-window.js';
import { classifyError, isCancellation } from './classify.js';

/** A breaker's state. */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

/** How one call counts: for the breaker, against it, or not at all. */
export type CallOutcome = 'success' | 'failure' | 'ignore';

/**
 * The default {@link CircuitBreakerOptions.outcomeOf}: cancellations are ignored, permanent
 * errors (the dependency answered, just "no") count as successes, the rest as failures.
 */
export function defaultOutcomeOf(error: unknown): CallOutcome {
  if (isCancellation(error)) return 'ignore';
  return classifyError(error) === 'permanent' ? 'success' : 'failure';
}

/** Options of {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** The dependency's name; in events, errors and metrics labels. Default `circuit-breaker`. */
  readonly name?: string;
  readonly clock: Clock;
  /** Draws the jitter of a break-duration backoff. */
  readonly random: RandomSource;
  /** When to open. Default `{ kind: 'consecutive', threshold: 5 }`. */
  readonly strategy?: BreakerStrategy;
  /**
   * How long to stay open before admitting trial calls, in ms, or a backoff over the number of
   * opens since the breaker last closed (so repeated re-opens wait longer). Default 30_000.
   */
  readonly breakDuration?: number | Backoff;
  /** Trial calls admitted when half-open; all must succeed to close. Default 1. */
  readonly halfOpenMaxCalls?: number;
  /**
   * The longest the breaker waits, in ms, for its admitted trial calls to finish. After that the
   * next call re-opens it (as if the trials failed), so a hung probe cannot wedge it. Default 30_000.
   */
  readonly maxHalfOpenWaitMs?: number;
  /** Classifies a thrown error. Default {@link defaultOutcomeOf}. */
  readonly outcomeOf?: (error: unknown) => CallOutcome;
  /** State saved by {@link CircuitBreaker.toJSON}, to start from. */
  readonly initialState?: CircuitBreakerSnapshot;
}

/** A breaker's state as plain JSON (times in epoch ms of its clock). Isolation is not saved. */
export interface CircuitBreakerSnapshot {
  readonly version: 1;
  /** A half-open breaker is saved as open and ready to probe. */
  readonly state: 'closed' | 'open';
  readonly openedAt: number;
  readonly openUntil: number;
  /** Opens since the breaker last closed: the break-duration backoff's attempt number. */
  readonly openCount: number;
  readonly lastBreakMs: number;
  readonly window: WindowSnapshot;
}

/** Events of a {@link CircuitBreaker}, named after Polly v8's telemetry. */
export interface CircuitBreakerEvents {
  OnCircuitOpened: { name: string; reason: OpenReason; breakDurationMs: number; openCount: number; error: unknown };
  OnCircuitHalfOpened: { name: string };
  OnCircuitClosed: { name: string };
  OnCircuitIsolated: { name: string };
  OnCircuitStateChanged: { name: string; from: CircuitState; to: CircuitState };
  /** A call was refused without running. */
  OnCircuitRejected: { name: string; state: CircuitState; retryAfterMs: number };
  /** A call finished (`durationMs` is undefined unless slow calls are tracked or someone listens at its start). */
  OnCircuitOutcome: { name: string; outcome: CallOutcome; durationMs: number | undefined; slow: boolean; error: unknown };
}

/** A permit for one call, from {@link CircuitBreaker.acquire}. Only the first record counts. */
export interface CircuitTicket {
  /** The call succeeded. */
  success(): void;
  /** The call failed with `error`; the breaker's `outcomeOf` decides how it counts. */
  failure(error: unknown): void;
  /** The call neither succeeded nor failed (cancelled); frees a half-open trial slot. */
  ignore(): void;
}

/** A manual hold on an isolated breaker; see {@link CircuitBreaker.isolate}. */
export interface IsolationHandle {
  /** Ends this hold (idempotent). The breaker closes when the last hold ends. */
  release(): void;
}
