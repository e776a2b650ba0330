import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHealthPoller } from './health-poller.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('createHealthPoller', () => {
  it('polls at once, then once per interval after each round settles', async () => {
    vi.useFakeTimers();
    const pollOnce = vi.fn(async () => []);
    const poller = createHealthPoller({ monitor: { pollOnce }, intervalMs: 5000, onError: () => undefined });
    poller.start();
    expect(pollOnce).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(4999);
    expect(pollOnce).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pollOnce).toHaveBeenCalledTimes(2);
    await poller.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pollOnce).toHaveBeenCalledTimes(2);
  });

  it('reports a failed round and keeps polling', async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const pollOnce = vi.fn().mockRejectedValueOnce(new Error('db down')).mockResolvedValue([]);
    const poller = createHealthPoller({ monitor: { pollOnce }, intervalMs: 100, onError: (e) => errors.push(e) });
    poller.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toEqual([new Error('db down')]);
    expect(pollOnce).toHaveBeenCalledTimes(2);
    await poller.stop();
  });

  it('stop aborts the in-flight round and waits for it', async () => {
    let seen: AbortSignal | undefined;
    let settled = false;
    const errors: unknown[] = [];
    const poller = createHealthPoller({
      monitor: {
        pollOnce: (signal) => {
          seen = signal;
          return new Promise((_, reject) =>
            signal?.addEventListener('abort', () => {
              settled = true;
              reject(signal.reason as Error);
            }),
          );
        },
      },
      intervalMs: 100,
      onError: (e) => errors.push(e),
    });
    poller.start();
    expect(seen?.aborted).toBe(false);
    await poller.stop();
    expect(seen?.aborted).toBe(true);
    expect(settled).toBe(true);
    // An abort during shutdown is not an error worth reporting.
    expect(errors).toEqual([]);
  });
});
