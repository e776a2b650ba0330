/** An opaque handle returned by {@link Scheduler.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Timers, injected like the `Clock` so that tests control them. Every primitive that waits
 * (retry backoff, timeouts, bulkhead queues never do) takes one.
 */
export interface Scheduler {
  /** Runs `callback` once after `delayMs` milliseconds. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer that has not fired yet; a no-op otherwise. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The process's timers. The global `setTimeout` is looked up on every call, not captured at
 * import, so `vi.useFakeTimers()` installed after this module loads still takes effect.
 */
export const systemScheduler: Scheduler = Object.freeze({
  setTimeout: (callback: () => void, delayMs: number): TimerHandle => setTimeout(callback, delayMs),
  clearTimeout: (handle: TimerHandle): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/**
 * Lets a timer not keep the process alive, when the handle supports it (Node's and the fake
 * timers' handles do).
 */
export function unrefTimer(handle: TimerHandle): void {
  if (typeof handle === 'object' && handle !== null && 'unref' in handle && typeof handle.unref === 'function') {
    handle.unref();
  }
}

/**
 * Resolves after `delayMs`, or rejects with the signal's reason as soon as `signal` aborts.
 * The timer is referenced: a pending backoff keeps the process alive, like `setTimeout`.
 * Listener and timer are both released whichever way it ends.
 */
export function sleep(scheduler: Scheduler, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      scheduler.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = scheduler.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
