import { JameyError } from '@jamey/core';

/*
 * The policies' own errors are JameyErrors, so every edge already translates them: an open
 * breaker becomes gRPC UNAVAILABLE / HTTP 503 naming the dependency with `Retry-After`, a
 * timeout DEADLINE_EXCEEDED / 504, a full bulkhead RESOURCE_EXHAUSTED / 429. Their `name` stays
 * `JameyError` (core declares it as a literal); tell them apart with `instanceof`.
 */

/** Thrown without calling the function while a circuit breaker is open (or half-open and full). */
export class BrokenCircuitError extends JameyError {
  /** Milliseconds until the breaker admits a trial call; also in `details.retryAfterMs`. */
  readonly retryAfterMs: number;
  /** The breaker's name, which is the dependency's name; also in `details.dependency`. */
  readonly breaker: string;

  constructor(breaker: string, retryAfterMs: number, message = `${breaker} circuit is open`) {
    const wait = Math.max(0, Math.ceil(retryAfterMs));
    super('DEPENDENCY_UNAVAILABLE', message, { dependency: breaker, retryAfterMs: wait });
    this.retryAfterMs = wait;
    this.breaker = breaker;
  }
}

/**
 * Thrown while a circuit breaker is held open by {@link CircuitBreaker.isolate}. `retryAfterMs`
 * is only a hint (the base break duration): an operator decides when isolation ends.
 */
export class IsolatedCircuitError extends BrokenCircuitError {
  constructor(breaker: string, retryAfterMs: number) {
    super(breaker, retryAfterMs, `${breaker} circuit is isolated`);
  }
}

/** Thrown when a timeout policy's time (or the caller's deadline) runs out. */
export class TimeoutError extends JameyError {
  /** The policy's duration in milliseconds. */
  readonly timeoutMs: number;

  constructor(policy: string, timeoutMs: number, options?: { cause?: unknown }) {
    super('DEADLINE_EXCEEDED', `${policy} timed out after ${timeoutMs} ms`, { dependency: policy }, options);
    this.timeoutMs = timeoutMs;
  }
}

/** Thrown when a bulkhead's concurrency and queue are both full. */
export class BulkheadRejectedError extends JameyError {
  constructor(bulkhead: string, maxConcurrent: number, maxQueue: number) {
    super('RATE_LIMITED', `${bulkhead} is at capacity (${maxConcurrent} running, ${maxQueue} queued)`, {
      dependency: bulkhead,
    });
  }
}
