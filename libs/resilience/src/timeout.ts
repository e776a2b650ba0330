import type { Clock } from '@jamey/core';
import { MAX_DELAY_MS } from './backoff.js';
import { TimeoutError } from './errors.js';
import { EventEmitter } from './events.js';
import { Policy, type AttemptScope, type Call, type Step } from './policy.js';
import { systemScheduler, unrefTimer, type Scheduler, type TimerHandle } from './scheduler.js';

/**
 * - `cooperative`: at the deadline the context's signal aborts and the function is expected to
 *   stop; the policy waits for it. A result that arrives anyway is returned; an error becomes a
 *   {@link TimeoutError}.
 * - `aggressive`: at the deadline the policy also rejects at once with a {@link TimeoutError},
 *   abandoning the function (its eventual result is dropped, never left unhandled).
 */
export type TimeoutStrategy = 'cooperative' | 'aggressive';

/** Options of {@link createTimeout}. */
export interface TimeoutOptions {
  /** Names the guarded dependency in events and errors. Default `timeout`. */
  readonly name?: string;
  /** Time allowed per execution, in ms (at most about 24.8 days). The caller's deadline can only shorten it. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Default {@link systemScheduler}. */
  readonly scheduler?: Scheduler;
  /** Default `cooperative`. */
  readonly strategy?: TimeoutStrategy;
  /** Abort the context's signal when the function returns, to stop work it left behind. Default false. */
  readonly abortOnReturn?: boolean;
}

/** Events of a {@link TimeoutPolicy}. */
export interface TimeoutEvents {
  /** `byDeadline`: the caller's deadline, not this policy's duration, ran out first. */
  OnTimeout: { name: string; timeoutMs: number; byDeadline: boolean };
}

/**
 * A timeout. No timer per call: each policy keeps its in-flight executions in a min-heap by
 * deadline and one unreferenced timer for the earliest. On success an execution just leaves the
 * heap (O(1) when it is the oldest, as it usually is), so the success path never touches a timer
 * and the heap never holds finished work. The timer does not keep the process alive: the work it
 * guards does, and once that ends nothing is left to time out.
 */
export class TimeoutPolicy extends Policy {
  readonly name: string;
  readonly timeoutMs: number;
  readonly events = new EventEmitter<TimeoutEvents>();
  /** @internal */ readonly abortOnReturn: boolean;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly aggressive: boolean;
  private readonly heap: Scope[] = [];
  private timer: TimerHandle | undefined = undefined;
  private armedFor = Infinity;

  constructor(options: TimeoutOptions) {
    super();
    if (!(options.timeoutMs >= 0 && options.timeoutMs <= MAX_DELAY_MS)) {
      throw new RangeError(`timeoutMs must be between 0 and ${MAX_DELAY_MS}, got ${options.timeoutMs}`);
    }
    this.name = options.name ?? 'timeout';
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.aggressive = options.strategy === 'aggressive';
    this.abortOnReturn = options.abortOnReturn ?? false;
  }

  /** Executions in flight (for tests and gauges). */
  get pending(): number {
    return this.heap.length;
  }

  /** @internal */
  async run(call: Call, next: Step): Promise<unknown> {
    const now = this.clock.now();
    const own = now + this.timeoutMs;
    const deadline = call.deadline < own ? call.deadline : own;
    if (deadline <= now) throw this.timedOut(deadline < own);
    const scope = new Scope(this, deadline, own, call);
    this.add(scope);
    const outerScope = call.scope;
    const outerDeadline = call.deadline;
    call.scope = scope;
    call.deadline = deadline;
    try {
      return this.aggressive ? await scope.race(next, call) : await next.invoke(call);
    } catch (error) {
      throw scope.expired !== undefined ? scope.expired : error;
    } finally {
      call.scope = outerScope;
      call.deadline = outerDeadline;
      this.remove(scope);
      scope.dispose();
    }
  }

  /** @internal The error for an expired execution; emits `OnTimeout`. */
  timedOut(byDeadline: boolean): TimeoutError {
    if (this.events.has('OnTimeout')) this.events.emit('OnTimeout', { name: this.name, timeoutMs: this.timeoutMs, byDeadline });
    return new TimeoutError(this.name, this.timeoutMs);
  }

  private add(scope: Scope): void {
    const heap = this.heap;
    let index = heap.length;
    heap.push(scope);
    // Sift up; with one duration, deadlines mostly arrive in order and this loop does not run.
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.deadline <= scope.deadline) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = scope;
    scope.index = index;
    if (scope.deadline < this.armedFor) this.arm(scope.deadline);
  }

  private remove(scope: Scope): void {
    const index = scope.index;
    if (index < 0) return;
    scope.index = -1;
    const heap = this.heap;
    const last = heap.pop()!;
    if (last === scope) return;
    heap[index] = last;
    last.index = index;
    this.siftDown(index);
    if (last.index === index) this.siftUp(index);
  }

  private siftUp(start: number): void {
    const heap = this.heap;
    const item = heap[start]!;
    let index = start;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.deadline <= item.deadline) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.index = index;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const item = heap[start]!;
    const length = heap.length;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heap[right]!.deadline < heap[left]!.deadline ? right : left;
      const childItem = heap[child]!;
      if (childItem.deadline >= item.deadline) break;
      heap[index] = childItem;
      childItem.index = index;
      index = child;
    }
    heap[index] = item;
    item.index = index;
  }

  private arm(deadline: number): void {
    if (this.timer !== undefined) this.scheduler.clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = this.scheduler.setTimeout(this.fire, Math.max(0, deadline - this.clock.now()));
    unrefTimer(this.timer);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.deadline <= now) {
      const scope = heap[0]!;
      this.remove(scope);
      scope.expire();
    }
    // A timer that fired early by the clock (or a deadline still pending) re-arms; an empty heap does not.
    if (heap.length > 0) this.arm(heap[0]!.deadline);
  };
}

/** One execution under a timeout: its heap entry and the context the function sees. */
class Scope implements AttemptScope {
  index = -1;
  readonly attempt: number;
  readonly outer: AttemptScope | undefined;
  readonly callerSignal: AbortSignal | undefined;
  /** The error it timed out with, once it has. */
  expired: TimeoutError | undefined = undefined;
  private controller: AbortController | undefined = undefined;
  private listeningTo: AbortSignal | undefined = undefined;
  private settled = false;
  private rejectEarly: ((error: unknown) => void) | undefined = undefined;

  constructor(
    private readonly policy: TimeoutPolicy,
    readonly deadline: number,
    private readonly ownDeadline: number,
    call: Call,
  ) {
    this.attempt = call.attempt;
    this.outer = call.scope;
    this.callerSignal = call.callerSignal;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = (this.controller = new AbortController());
      const parent = this.outer !== undefined ? this.outer.signal : this.callerSignal;
      if (this.expired !== undefined) controller.abort(this.expired);
      else if (parent?.aborted) controller.abort(parent.reason);
      else if (parent !== undefined && !this.settled) {
        // `this` as the listener (handleEvent): no closure per call, and removed in dispose().
        parent.addEventListener('abort', this);
        this.listeningTo = parent;
      }
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    if (this.expired !== undefined || this.controller?.signal.aborted === true) return true;
    return this.outer !== undefined ? this.outer.aborted : this.callerSignal?.aborted === true;
  }

  /** The parent signal aborted: pass its reason on. */
  handleEvent(): void {
    this.controller?.abort(this.listeningTo?.reason);
  }

  expire(): void {
    this.expired = this.policy.timedOut(this.deadline < this.ownDeadline);
    this.controller?.abort(this.expired);
    this.rejectEarly?.(this.expired);
  }

  race(next: Step, call: Call): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.rejectEarly = reject;
      try {
        Promise.resolve(next.invoke(call)).then(resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
  }

  dispose(): void {
    this.settled = true;
    this.rejectEarly = undefined;
    if (this.listeningTo !== undefined) {
      this.listeningTo.removeEventListener('abort', this);
      this.listeningTo = undefined;
    }
    if (this.policy.abortOnReturn && this.controller !== undefined && !this.controller.signal.aborted) {
      this.controller.abort(new DOMException('The operation returned', 'AbortError'));
    }
  }
}

/** Creates a {@link TimeoutPolicy}. */
export function createTimeout(options: TimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(options);
}
