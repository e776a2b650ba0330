/** One load shared by every concurrent miss of a key. */
export interface Flight<V> {
  readonly promise: Promise<V>;
  /**
   * Set when the key was invalidated while this load ran: its value may predate the change, so
   * it is handed to the callers that were already waiting but never cached.
   */
  stale: boolean;
}

interface Entry<V> {
  promise: Promise<V>;
  stale: boolean;
  readonly controller: AbortController;
  /** Callers waiting for it, with or without a signal. */
  waiters: number;
  settled: boolean;
}

/**
 * Single-flight: concurrent `run(key, …)` calls share one execution of `load`. The shared load
 * gets its own signal, aborted only when every caller waiting for it has aborted, so one
 * impatient caller never fails the others.
 */
export class SingleFlight<V> {
  private readonly flights = new Map<string, Entry<V>>();

  /** Loads in flight (for tests). */
  get size(): number {
    return this.flights.size;
  }

  /** Joins the load of `key` in flight, or starts one with `load`. Rejects with the signal's reason when `signal` aborts. */
  run(key: string, load: (flight: Flight<V>, signal: AbortSignal) => Promise<V>, signal?: AbortSignal): Promise<V> {
    signal?.throwIfAborted();
    const entry = this.flights.get(key) ?? this.start(key, load);
    return this.join(key, entry, signal);
  }

  /** Marks the load of `key` stale and detaches it, so later calls start a fresh one. */
  invalidate(key: string): void {
    const entry = this.flights.get(key);
    if (!entry) return;
    entry.stale = true;
    this.flights.delete(key);
  }

  /** {@link invalidate} for every key. */
  invalidateAll(): void {
    for (const entry of this.flights.values()) entry.stale = true;
    this.flights.clear();
  }

  private start(key: string, load: (flight: Flight<V>, signal: AbortSignal) => Promise<V>): Entry<V> {
    const controller = new AbortController();
    const entry: Entry<V> = { promise: Promise.resolve() as Promise<never>, controller, waiters: 0, settled: false, stale: false };
    // `load` runs on a later microtask, so it sees the entry complete.
    entry.promise = Promise.resolve().then(() => load(entry, controller.signal));
    const settle = (): void => {
      entry.settled = true;
      if (this.flights.get(key) === entry) this.flights.delete(key);
    };
    entry.promise.then(settle, settle);
    this.flights.set(key, entry);
    return entry;
  }

  private async join(key: string, entry: Entry<V>, signal: AbortSignal | undefined): Promise<V> {
    entry.waiters += 1;
    try {
      return await (signal ? raceAbort(entry.promise, signal) : entry.promise);
    } finally {
      entry.waiters -= 1;
      if (entry.waiters === 0 && signal?.aborted === true && !entry.settled) {
        // Nobody is left to want the value: stop the load and let the next caller start afresh.
        if (this.flights.get(key) === entry) this.flights.delete(key);
        entry.controller.abort(signal.reason);
      }
    }
  }
}

/** `promise`, or a rejection with `signal.reason` as soon as `signal` aborts. The listener is always removed. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
