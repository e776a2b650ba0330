import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { BrokenCircuitError } from './errors.js';
import { createFallback } from './fallback.js';
import { invalidArgument, unavailable } from './test-support/fake-time.js';

describe('fallback', () => {
  it('replaces a dependency failure with the fallback value, and says so', async () => {
    const fallback = createFallback({ name: 'recall', fallback: (error) => ({ memories: [], because: String(error) }) });
    const onFallback = vi.fn();
    fallback.events.on('OnFallback', onFallback);
    const result = await fallback.execute(() => Promise.reject(new BrokenCircuitError('memory', 1_000)));
    expect(result).toEqual({ memories: [], because: expect.stringContaining('memory circuit is open') });
    expect(onFallback).toHaveBeenCalledTimes(1);
    await expect(fallback.execute(() => Promise.reject(unavailable()))).resolves.toMatchObject({ memories: [] });
    expectTypeOf(fallback.execute(() => 42)).toEqualTypeOf<Promise<number | { memories: never[]; because: string }>>();
  });

  it('lets permanent errors and the caller abort through', async () => {
    const fallback = createFallback({ fallback: () => 'fallback' });
    await expect(fallback.execute(() => Promise.reject(invalidArgument()))).rejects.toThrow('invalid');
    const controller = new AbortController();
    const result = fallback.execute(() => {
      controller.abort();
      return Promise.reject(unavailable('cancelled'));
    }, controller.signal);
    await expect(result).rejects.toThrow('cancelled');
  });

  it('uses a custom predicate', async () => {
    const fallback = createFallback({ fallback: () => 'fallback', shouldHandle: () => true });
    await expect(fallback.execute(() => Promise.reject(invalidArgument()))).resolves.toBe('fallback');
  });
});
