import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { createBulkhead } from './bulkhead.js';
import { BulkheadRejectedError } from './errors.js';
import { defer, flush, type Deferred } from './test-support/fake-time.js';

describe('bulkhead', () => {
  it('runs maxConcurrent at once, queues up to maxQueue in order, rejects the rest', async () => {
    const bulkhead = createBulkhead({ name: 'memory', maxConcurrent: 2, maxQueue: 2 });
    const rejected = vi.fn();
    bulkhead.events.on('OnBulkheadRejected', rejected);
    const started: number[] = [];
    const gates: Deferred<number>[] = [];
    const run = (i: number) =>
      bulkhead.execute(() => {
        started.push(i);
        const gate = defer<number>();
        gates[i] = gate;
        return gate.promise;
      });
    const calls = [0, 1, 2, 3].map(run);
    await flush();
    expect(started).toEqual([0, 1]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 2]);
    const error = await run(4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect((error as BulkheadRejectedError).code).toBe('RATE_LIMITED');
    expect(rejected).toHaveBeenCalledWith({ name: 'memory', active: 2, queued: 2 });
    gates[1]!.resolve(1);
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.reject(new Error('boom'));
    await flush();
    expect(started).toEqual([0, 1, 2, 3]);
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 0]);
    gates[2]!.resolve(2);
    gates[3]!.resolve(3);
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
  });

  it('a queued call whose caller aborts frees its place at once', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const gate = defer<string>();
    const running = bulkhead.execute(() => gate.promise);
    const controller = new AbortController();
    const fn = vi.fn();
    const queued = bulkhead.execute(fn, controller.signal);
    await flush();
    await expect(bulkhead.execute(() => 'x')).rejects.toBeInstanceOf(BulkheadRejectedError);
    const reason = new Error('gone');
    controller.abort(reason);
    await expect(queued).rejects.toBe(reason);
    expect(bulkhead.queued).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const next = bulkhead.execute(() => 'next');
    expect(bulkhead.queued).toBe(1);
    gate.resolve('first');
    await expect(running).resolves.toBe('first');
    await expect(next).resolves.toBe('next');
    expect(fn).not.toHaveBeenCalled();
    expect(bulkhead.active).toBe(0);
  });

  it('removes the abort listener of a queued call that gets its slot', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const gate = defer<string>();
    const running = bulkhead.execute(() => gate.promise);
    const controller = new AbortController();
    const queued = bulkhead.execute(() => 'ran', controller.signal);
    await flush();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    gate.resolve('done');
    await Promise.all([running, queued]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects invalid limits', () => {
    expect(() => createBulkhead({ maxConcurrent: 0 })).toThrow(RangeError);
    expect(() => createBulkhead({ maxConcurrent: 1, maxQueue: -1 })).toThrow(RangeError);
  });
});
