import { describe, expect, it } from 'vitest';
import { createPeriodicTask } from './periodic.js';

/** A promise with its resolver, to hold a round open until the test lets it finish. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('createPeriodicTask', () => {
  it('runs at start and again after each round, never two rounds at once', async () => {
    let running = 0;
    let maxRunning = 0;
    const rounds: number[] = [];
    const third = gate();
    const task = createPeriodicTask({
      intervalMs: 1,
      onError: () => undefined,
      async run() {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setImmediate(resolve));
        rounds.push(rounds.length + 1);
        running -= 1;
        if (rounds.length === 3) third.open();
      },
    });
    task.start();
    await third.promise;
    await task.stop();
    expect(rounds.slice(0, 3)).toEqual([1, 2, 3]);
    expect(maxRunning).toBe(1);
  });

  it('reports a failed round and keeps going', async () => {
    const errors: unknown[] = [];
    const recovered = gate();
    let calls = 0;
    const task = createPeriodicTask({
      intervalMs: 1,
      onError: (error) => errors.push(error),
      async run() {
        calls += 1;
        if (calls === 1) throw new Error('first round failed');
        recovered.open();
      },
    });
    task.start();
    await recovered.promise;
    await task.stop();
    expect(errors).toEqual([new Error('first round failed')]);
  });

  it('stop aborts the round in progress, waits for it, and schedules nothing more', async () => {
    const started = gate();
    let calls = 0;
    let sawAbort = false;
    const errors: unknown[] = [];
    const task = createPeriodicTask({
      intervalMs: 1,
      onError: (error) => errors.push(error),
      run(signal) {
        calls += 1;
        started.open();
        return new Promise<void>((_, reject) =>
          signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(signal.reason);
          }),
        );
      },
    });
    task.start();
    await started.promise;
    await task.stop();
    expect(sawAbort).toBe(true);
    // An aborted round is not an error, and nothing runs after stop.
    expect(errors).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(calls).toBe(1);
  });

  it('refuses an interval that is not a positive integer', () => {
    for (const intervalMs of [0, -1, 1.5, Number.NaN]) {
      expect(() => createPeriodicTask({ intervalMs, run: async () => undefined, onError: () => undefined })).toThrow(RangeError);
    }
  });
});
