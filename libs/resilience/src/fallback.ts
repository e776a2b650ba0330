import { classifyError, isCancellation } from './classify.js';
import { EventEmitter } from './events.js';
import { Policy, type Call, type ExecutionContext, type Step } from './policy.js';

/**
 * The default {@link FallbackOptions.shouldHandle}: failures of the dependency (transient,
 * timeout, rate-limited, an open breaker), not permanent answers and not cancellations.
 */
export function isDependencyFailure(error: unknown): boolean {
  return !isCancellation(error) && classifyError(error) !== 'permanent';
}

/** Options of {@link createFallback}. */
export interface FallbackOptions<R> {
  /** Names the operation in events. Default `fallback`. */
  readonly name?: string;
  /** Produces the substitute result from the error. */
  readonly fallback: (error: unknown, context: ExecutionContext) => R | PromiseLike<R>;
  /** Which errors to replace. Default {@link isDependencyFailure}. */
  readonly shouldHandle?: (error: unknown) => boolean;
}

/** Events of a {@link FallbackPolicy}. */
export interface FallbackEvents {
  OnFallback: { name: string; error: unknown };
}

/**
 * A fallback: when the work fails with a handled error, returns `fallback(error)` instead. The
 * caller's own abort is never replaced. Put it outermost: `wrap(fallback, retry, breaker, timeout)`.
 */
export class FallbackPolicy<R> extends Policy<R> {
  readonly name: string;
  readonly events = new EventEmitter<FallbackEvents>();
  private readonly fallback: (error: unknown, context: ExecutionContext) => R | PromiseLike<R>;
  private readonly shouldHandle: (error: unknown) => boolean;

  constructor(options: FallbackOptions<R>) {
    super();
    this.name = options.name ?? 'fallback';
    this.fallback = options.fallback;
    this.shouldHandle = options.shouldHandle ?? isDependencyFailure;
  }

  /** @internal */
  async run(call: Call, next: Step): Promise<unknown> {
    try {
      return await next.invoke(call);
    } catch (error) {
      if (call.callerSignal?.aborted === true || !this.shouldHandle(error)) throw error;
      if (this.events.has('OnFallback')) this.events.emit('OnFallback', { name: this.name, error });
      return await this.fallback(error, call.scope ?? call);
    }
  }
}

/** Creates a {@link FallbackPolicy}. */
export function createFallback<R>(options: FallbackOptions<R>): FallbackPolicy<R> {
  return new FallbackPolicy(options);
}
