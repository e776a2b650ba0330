/** What a policy passes to the function it runs. */
export interface ExecutionContext {
  /**
   * Aborts when the caller's signal aborts or an enclosing timeout expires. Pass it to every
   * I/O call. It is created on first read, so a function that never reads it costs nothing.
   */
  readonly signal: AbortSignal;
  /** 0 for the first attempt, then 1, 2, … for each retry. */
  readonly attempt: number;
  /** The time by which the caller needs an answer, in epoch ms of the policy's clock; Infinity if none. */
  readonly deadline: number;
}

/** Per-call options of {@link Policy.execute}. */
export interface ExecuteOptions {
  /** The caller's signal (the incoming call's): aborting it cancels everything at once. */
  readonly signal?: AbortSignal;
  /**
   * The caller's deadline, in epoch ms of the policies' clock. Retries never wait past it and
   * timeouts never allow past it. Default: none.
   */
  readonly deadline?: number;
}

/** A unit of work a policy runs. */
export type Operation<T> = (context: ExecutionContext) => T | PromiseLike<T>;

/**
 * The innermost timeout's view of one attempt. Declared here, implemented by the timeout
 * policy, so that this module depends on nothing.
 * @internal
 */
export interface AttemptScope extends ExecutionContext {
  /** True once this scope, an enclosing one or the caller has aborted; never creates a signal. */
  readonly aborted: boolean;
}

/**
 * The state of one `execute` as it passes through the policies. It is also the context handed
 * to the function when no timeout encloses it. Policies run one attempt at a time, so they set
 * fields on the way in and restore them on the way out instead of allocating per layer.
 * @internal
 */
export class Call implements ExecutionContext {
  attempt = 0;
  /** The innermost enclosing timeout, if any. */
  scope: AttemptScope | undefined = undefined;
  private ownSignal: AbortSignal | undefined = undefined;

  constructor(
    readonly fn: Operation<unknown>,
    /** The caller's own signal. */
    readonly callerSignal: AbortSignal | undefined,
    /** The effective deadline: the caller's, tightened by enclosing timeouts. */
    public deadline: number,
  ) {}

  /** The effective signal: the innermost timeout's, else the caller's. */
  get signal(): AbortSignal {
    if (this.scope !== undefined) return this.scope.signal;
    if (this.callerSignal !== undefined) return this.callerSignal;
    // A signal of this call's own rather than one shared never-aborting signal: listeners
    // that functions forget to remove then die with the call instead of piling up forever.
    this.ownSignal ??= new AbortController().signal;
    return this.ownSignal;
  }

  /** True when the caller or an enclosing timeout has aborted: stop, do not retry or queue. */
  get aborted(): boolean {
    return this.callerSignal?.aborted === true || (this.scope !== undefined && this.scope.aborted);
  }
}

/**
 * The next thing a policy runs: another policy, or the function itself.
 * @internal
 */
export interface Step {
  invoke(call: Call): unknown;
}

/** The innermost step: call the function with the innermost context. @internal */
export const INVOKE_FN: Step = Object.freeze({
  invoke: (call: Call): unknown => call.fn(call.scope ?? call),
});

/**
 * A resilience policy. Run work through it with {@link Policy.execute}; compose policies with
 * `wrap(a, b, c)`. `Alt` is the type a fallback adds to the result (`never` for the others).
 */
export abstract class Policy<Alt = never> {
  /** Phantom member carrying `Alt` for `wrap`'s type inference; never set (type-only). */
  declare readonly __alternative: Alt;

  /**
   * Runs `fn` through this policy. `options` is the caller's signal, or `{ signal, deadline }`.
   * A signal that has already aborted rejects with its reason without calling `fn`.
   */
  execute<T>(fn: Operation<T>, options?: ExecuteOptions | AbortSignal): Promise<T | Alt> {
    let signal: AbortSignal | undefined;
    let deadline = Infinity;
    if (options !== undefined) {
      // A signal from another realm fails `instanceof`; an ExecutionContext passed on as options
      // (nesting by hand) has `signal` and `deadline` but no `addEventListener`.
      if (options instanceof AbortSignal || typeof (options as Partial<AbortSignal>).addEventListener === 'function') {
        signal = options as AbortSignal;
      } else {
        signal = options.signal;
        deadline = options.deadline ?? Infinity;
      }
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.run(new Call(fn, signal, deadline), INVOKE_FN) as Promise<T | Alt>;
  }

  /**
   * Runs one call through this policy and then `next`. The composition protocol, not an API.
   * @internal
   */
  abstract run(call: Call, next: Step): Promise<unknown>;
}
