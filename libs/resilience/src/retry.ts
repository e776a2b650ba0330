import type { Clock, RandomSource } from '@jamey/core';
import { exponentialBackoff, type Backoff } from './backoff.js';
import { classifyError, retryAfterOf } from './classify.js';
import { BrokenCircuitError, BulkheadRejectedError } from './errors.js';
import { EventEmitter } from './events.js';
import { Policy, type Call, type Step } from './policy.js';
import type { RetryBudget } from './retry-budget.js';
import { sleep, systemScheduler, type Scheduler } from './scheduler.js';

/**
 * The default {@link RetryOptions.shouldRetry}: transient, timeout and rate-limited errors, but
 * not our own fast-fails (an open breaker or a full bulkhead) — retrying those at once only
 * fails again; the breaker's `retryAfterMs` is for the caller's caller.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof BrokenCircuitError || error instanceof BulkheadRejectedError) return false;
  return classifyError(error) !== 'permanent';
}

/** Options of {@link createRetry}. */
export interface RetryOptions {
  /** Names the dependency in events. Default `retry`. */
  readonly name?: string;
  /** Retries after the first attempt (so at most `maxRetries + 1` attempts). Default 3. */
  readonly maxRetries?: number;
  /** Default `exponentialBackoff()`: 100 ms doubling to 10 s, full jitter. */
  readonly backoff?: Backoff;
  /** Which errors to retry. Default {@link isRetryable}. Only for idempotent operations. */
  readonly shouldRetry?: (error: unknown) => boolean;
  /** A budget shared per dependency (gRPC retry throttling). Default: none. */
  readonly budget?: RetryBudget;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Default {@link systemScheduler}. */
  readonly scheduler?: Scheduler;
}

/** Why a retry policy stopped retrying. */
export type GiveUpReason = 'not-retryable' | 'max-retries' | 'budget' | 'deadline';

/** Events of a {@link RetryPolicy}, named after Polly v8's telemetry. */
export interface RetryEvents {
  /** A retry is scheduled: `attempt` (1 = first retry) will start after `delayMs`. */
  OnRetry: { name: string; attempt: number; delayMs: number; error: unknown };
  /** The last error is rethrown. */
  OnRetryGiveUp: { name: string; attempts: number; reason: GiveUpReason; error: unknown };
  /** Each finished attempt (`error` undefined on success). */
  ExecutionAttempt: { name: string; attempt: number; success: boolean; error: unknown };
}

/**
 * A retry. An attempt that fails with a retryable error is retried after a backoff delay, as
 * long as attempts, the budget and the caller's deadline allow: a retry whose delay would end
 * at or past the deadline is not made. The caller aborting (or an enclosing timeout expiring)
 * stops it at once, during an attempt or a delay. A delay honours a longer `retryAfterMs` the
 * error carries (gRPC pushback).
 */
export class RetryPolicy extends Policy {
  readonly name: string;
  readonly events = new EventEmitter<RetryEvents>();
  private readonly maxRetries: number;
  private readonly backoff: Backoff;
  private readonly shouldRetry: (error: unknown) => boolean;
  private readonly budget: RetryBudget | undefined;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly scheduler: Scheduler;

  constructor(options: RetryOptions) {
    super();
    this.name = options.name ?? 'retry';
    this.maxRetries = options.maxRetries ?? 3;
    if (!Number.isSafeInteger(this.maxRetries) || this.maxRetries < 0) {
      throw new RangeError(`maxRetries must be an integer ≥ 0, got ${this.maxRetries}`);
    }
    this.backoff = options.backoff ?? exponentialBackoff();
    this.shouldRetry = options.shouldRetry ?? isRetryable;
    this.budget = options.budget;
    this.clock = options.clock;
    this.random = options.random;
    this.scheduler = options.scheduler ?? systemScheduler;
  }

  /** @internal */
  async run(call: Call, next: Step): Promise<unknown> {
    const firstAttempt = call.attempt;
    let delayMs = 0;
    try {
      for (let retry = 0; ; retry++) {
        call.attempt = firstAttempt + retry;
        try {
          const result = await next.invoke(call);
          this.budget?.onSuccess();
          if (this.events.has('ExecutionAttempt')) {
            this.events.emit('ExecutionAttempt', { name: this.name, attempt: retry, success: true, error: undefined });
          }
          return result;
        } catch (error) {
          delayMs = this.delayBeforeRetry(call, retry, delayMs, error);
          if (delayMs < 0) throw error;
        }
        await sleep(this.scheduler, delayMs, call.scope !== undefined || call.callerSignal !== undefined ? call.signal : undefined);
      }
    } finally {
      call.attempt = firstAttempt;
    }
  }

  /** The delay before the next attempt, or -1 to rethrow `error` now. Emits the events. */
  private delayBeforeRetry(call: Call, retry: number, previousDelayMs: number, error: unknown): number {
    if (this.events.has('ExecutionAttempt')) {
      this.events.emit('ExecutionAttempt', { name: this.name, attempt: retry, success: false, error });
    }
    // Cancelled by the caller or an enclosing timeout: not a failure to retry, and no event.
    if (call.aborted) return -1;
    if (!this.shouldRetry(error)) return this.giveUp(retry, 'not-retryable', error);
    this.budget?.onFailure();
    if (retry >= this.maxRetries) return this.giveUp(retry, 'max-retries', error);
    if (this.budget !== undefined && !this.budget.canRetry()) return this.giveUp(retry, 'budget', error);
    let delayMs = this.backoff.next(retry + 1, previousDelayMs, this.random);
    const pushback = retryAfterOf(error);
    if (pushback !== undefined && pushback > delayMs) delayMs = pushback;
    if (this.clock.now() + delayMs >= call.deadline) return this.giveUp(retry, 'deadline', error);
    if (this.events.has('OnRetry')) this.events.emit('OnRetry', { name: this.name, attempt: retry + 1, delayMs, error });
    return delayMs;
  }

  private giveUp(retry: number, reason: GiveUpReason, error: unknown): -1 {
    if (this.events.has('OnRetryGiveUp')) {
      this.events.emit('OnRetryGiveUp', { name: this.name, attempts: retry + 1, reason, error });
    }
    return -1;
  }
}

/** Creates a {@link RetryPolicy}. */
export function createRetry(options: RetryOptions): RetryPolicy {
  return new RetryPolicy(options);
}
