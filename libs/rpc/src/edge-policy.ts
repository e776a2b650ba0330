import type { Clock, RandomSource } from '@jamey/core';
import {
  createBulkhead,
  createCircuitBreaker,
  createRetry,
  createRetryBudget,
  createTimeout,
  exponentialBackoff,
  wrap,
  type BulkheadPolicy,
  type CircuitBreaker,
  type Policy,
  type RetryPolicy,
  type TimeoutPolicy,
} from '@jamey/resilience';
import type { EdgePolicy } from '@jamey/topology';

/** The policies guarding one downstream: one breaker and one bulkhead, shared by its methods. */
export interface EdgePolicies {
  readonly breaker: CircuitBreaker;
  readonly bulkhead: BulkheadPolicy;
  /** Absent when this layer does not retry. */
  readonly retry: RetryPolicy | undefined;
  readonly timeout: TimeoutPolicy;
  /** For NO_SIDE_EFFECTS and IDEMPOTENT methods: bulkhead, retry, breaker, per-attempt timeout. */
  readonly idempotent: Policy<never>;
  /** For every other method: bulkhead and breaker, one attempt bounded by the caller's deadline. */
  readonly other: Policy<never>;
}

/** Options for {@link createEdgePolicies}. */
export interface EdgePolicyOptions {
  /** The downstream's name: the breaker's, the bulkhead's, and the dependency errors name. */
  readonly dependency: string;
  readonly policy: EdgePolicy;
  readonly clock: Clock;
  readonly random: RandomSource;
  /**
   * Whether this layer retries. Off when a service mesh retries the same calls (the Helm chart
   * sets `JAMEY_RPC_RETRIES=off` when Istio is on), so the two never multiply. Default true.
   */
  readonly retries?: boolean;
}

/**
 * Builds the policies of one call-graph edge from its row of the policy table
 * (`edgePolicy` in @jamey/topology). The order, outermost first, is bulkhead, retry, breaker,
 * timeout: one bulkhead slot covers a whole logical call, every attempt passes the breaker
 * (so an open breaker stops retries at once), and each attempt has its own timeout.
 */
export function createEdgePolicies(options: EdgePolicyOptions): EdgePolicies {
  const { dependency, policy, clock, random } = options;
  const breaker = createCircuitBreaker({
    name: dependency,
    clock,
    random,
    strategy: {
      kind: 'sampling',
      failureRateThreshold: policy.failureRateThreshold,
      slowCallDurationMs: policy.slowCallMs,
      slowCallRateThreshold: 0.8,
      window: { kind: 'time', durationMs: policy.windowMs },
      minimumThroughput: policy.minimumThroughput,
    },
    // Repeated re-opens wait longer, up to six times the base duration.
    breakDuration: exponentialBackoff({ initialDelayMs: policy.breakDurationMs, maxDelayMs: policy.breakDurationMs * 6, jitter: 'none' }),
    halfOpenMaxCalls: policy.halfOpenMaxCalls,
  });
  const bulkhead = createBulkhead({ name: dependency, maxConcurrent: policy.maxConcurrent, maxQueue: policy.maxQueue });
  const attempts = options.retries === false ? 1 : policy.maxAttempts;
  const timeout = createTimeout({ name: dependency, timeoutMs: policy.attemptTimeoutMs, clock });
  const retry =
    attempts > 1
      ? createRetry({
          name: dependency,
          maxRetries: attempts - 1,
          backoff: exponentialBackoff({ initialDelayMs: 25, maxDelayMs: 250, jitter: 'full' }),
          budget: createRetryBudget(),
          clock,
          random,
        })
      : undefined;
  const idempotent = retry ? wrap(bulkhead, retry, breaker, timeout) : wrap(bulkhead, breaker, timeout);
  return { breaker, bulkhead, retry, timeout, idempotent, other: wrap(bulkhead, breaker) };
}
