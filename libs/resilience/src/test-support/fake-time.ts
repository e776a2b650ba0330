import type { Clock } from '@jamey/core';
import { vi } from 'vitest';

/** Fake timers plus a clock that reads them: time moves only when the test advances it. */
export interface FakeTime {
  readonly clock: Clock;
  /** Moves time forward by `ms`, firing due timers and settling the promises they resolve. */
  advance(ms: number): Promise<void>;
  /** Timers still pending. */
  pendingTimers(): number;
}

/** Installs `vi.useFakeTimers()` starting at `startMs`; undo with `vi.useRealTimers()`. */
export function useFakeTime(startMs = Date.UTC(2026, 0, 1)): FakeTime {
  vi.useFakeTimers({ now: startMs });
  return {
    clock: { now: () => Date.now() },
    advance: async (ms) => {
      await vi.advanceTimersByTimeAsync(ms);
    },
    pendingTimers: () => vi.getTimerCount(),
  };
}

/** A promise with its resolve and reject, to finish a call exactly when a test says. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function defer<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A gRPC-shaped UNAVAILABLE error (transient). */
export function unavailable(message = 'unavailable'): Error & { code: number } {
  return Object.assign(new Error(message), { code: 14 });
}

/** A gRPC-shaped INVALID_ARGUMENT error (permanent). */
export function invalidArgument(message = 'invalid'): Error & { code: number } {
  return Object.assign(new Error(message), { code: 3 });
}
