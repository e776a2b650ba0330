import { BulkheadRejectedError } from './errors.js';
import { EventEmitter } from './events.js';
import { Policy, type Call, type Step } from './policy.js';

/** Options of {@link createBulkhead}. */
export interface BulkheadOptions {
  /** Names the dependency in events and errors. Default `bulkhead`. */
  readonly name?: string;
  /** Executions running at once. Required, ≥ 1. */
  readonly maxConcurrent: number;
  /** Executions waiting for a slot; beyond it calls are rejected. Default 0. */
  readonly maxQueue?: number;
}

/** Events of a {@link BulkheadPolicy}. */
export interface BulkheadEvents {
  OnBulkheadRejected: { name: string; active: number; queued: number };
  /** A call waits for a slot; `queued` includes it. */
  OnBulkheadQueued: { name: string; active: number; queued: number };
}

/** A queued call, in a doubly linked list so that an aborted one leaves in O(1). */
interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  previous: Waiter | undefined;
  next: Waiter | undefined;
}

/**
 * A bulkhead: at most `maxConcurrent` executions at once and at most `maxQueue` waiting, first
 * in first out; the rest fail fast with {@link BulkheadRejectedError}. A queued call whose
 * caller aborts leaves the queue at once, freeing its place, and rejects with the abort reason.
 */
export class BulkheadPolicy extends Policy {
  readonly name: string;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly events = new EventEmitter<BulkheadEvents>();
  private running = 0;
  private waiting = 0;
  private head: Waiter | undefined = undefined;
  private tail: Waiter | undefined = undefined;

  constructor(options: BulkheadOptions) {
    super();
    this.name = options.name ?? 'bulkhead';
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueue = options.maxQueue ?? 0;
    if (!Number.isSafeInteger(this.maxConcurrent) || this.maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be a positive integer, got ${this.maxConcurrent}`);
    }
    if (!Number.isSafeInteger(this.maxQueue) || this.maxQueue < 0) {
      throw new RangeError(`maxQueue must be an integer ≥ 0, got ${this.maxQueue}`);
    }
  }

  /** Executions running now. */
  get active(): number {
    return this.running;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.waiting;
  }

  /** @internal */
  async run(call: Call, next: Step): Promise<unknown> {
    if (this.running < this.maxConcurrent) this.running++;
    else await this.enqueue(call);
    try {
      return await next.invoke(call);
    } finally {
      this.release();
    }
  }

  /** Waits for a slot, which `release` hands over already counted in `running`. */
  private enqueue(call: Call): Promise<void> {
    if (this.waiting >= this.maxQueue) {
      if (this.events.has('OnBulkheadRejected')) {
        this.events.emit('OnBulkheadRejected', { name: this.name, active: this.running, queued: this.waiting });
      }
      throw new BulkheadRejectedError(this.name, this.maxConcurrent, this.maxQueue);
    }
    const signal = call.scope !== undefined || call.callerSignal !== undefined ? call.signal : undefined;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, previous: this.tail, next: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.unlink(waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (this.tail !== undefined) this.tail.next = waiter;
      else this.head = waiter;
      this.tail = waiter;
      this.waiting++;
      if (this.events.has('OnBulkheadQueued')) {
        this.events.emit('OnBulkheadQueued', { name: this.name, active: this.running, queued: this.waiting });
      }
    });
  }

  private release(): void {
    const waiter = this.head;
    if (waiter === undefined) {
      this.running--;
      return;
    }
    // Hand the slot straight to the oldest waiter: `running` stays the same.
    this.unlink(waiter);
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve();
  }

  private unlink(waiter: Waiter): void {
    if (waiter.previous !== undefined) waiter.previous.next = waiter.next;
    else this.head = waiter.next;
    if (waiter.next !== undefined) waiter.next.previous = waiter.previous;
    else this.tail = waiter.previous;
    waiter.previous = waiter.next = undefined;
    this.waiting--;
  }
}

/** Creates a {@link BulkheadPolicy}. */
export function createBulkhead(options: BulkheadOptions): BulkheadPolicy {
  return new BulkheadPolicy(options);
}
