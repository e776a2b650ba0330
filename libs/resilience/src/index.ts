export { type ExecutionContext, type ExecuteOptions, type Operation, Policy } from './policy.js';
export { type Scheduler, type TimerHandle, systemScheduler, sleep } from './scheduler.js';
export { EventEmitter, type Listener } from './events.js';
export { BrokenCircuitError, IsolatedCircuitError, TimeoutError, BulkheadRejectedError } from './errors.js';
export { type ErrorCategory, classifyError, classifyGrpcCode, isTransient, isCancellation, retryAfterOf } from './classify.js';
export {
  type Backoff,
  type Jitter,
  type ExponentialBackoffOptions,
  type LinearBackoffOptions,
  MAX_DELAY_MS,
  exponentialBackoff,
  linearBackoff,
  constantBackoff,
} from './backoff.js';
export {
  type BreakerStrategy,
  type ConsecutiveStrategy,
  type SamplingStrategy,
  type CountWindow,
  type TimeWindow,
  type OpenReason,
  type WindowSnapshot,
  type WindowStats,
} from './breaker-window.js';
export {
  type CircuitState,
  type CallOutcome,
  type CircuitBreakerOptions,
  type CircuitBreakerSnapshot,
  type CircuitBreakerEvents,
  type CircuitTicket,
  type IsolationHandle,
  defaultOutcomeOf,
} from './circuit-breaker-options.js';
export { CircuitBreaker, createCircuitBreaker } from './circuit-breaker.js';
export { type RetryBudget, type RetryBudgetOptions, createRetryBudget } from './retry-budget.js';
export { type RetryOptions, type RetryEvents, type GiveUpReason, RetryPolicy, createRetry, isRetryable } from './retry.js';
export { type TimeoutOptions, type TimeoutEvents, type TimeoutStrategy, TimeoutPolicy, createTimeout } from './timeout.js';
export { type BulkheadOptions, type BulkheadEvents, BulkheadPolicy, createBulkhead } from './bulkhead.js';
export { type FallbackOptions, type FallbackEvents, FallbackPolicy, createFallback, isDependencyFailure } from './fallback.js';
export { type AlternativeOf, PolicyPipeline, wrap } from './wrap.js';
export {
  DegradationLevel,
  type DegradationReason,
  type DegradationEvents,
  type DegradationManagerOptions,
  type FallbackInfo,
  type OperationFallback,
  type DegradedResult,
  type DegradableOperation,
  DegradationManager,
  createDegradationManager,
} from './degradation.js';
