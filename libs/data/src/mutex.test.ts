import { describe, expect, it } from 'vitest';
import { createMutex } from './mutex.js';

describe('createMutex', () => {
  it('grants the lock in arrival order and lets a waiter give up', async () => {
    const mutex = createMutex();
    const order: string[] = [];
    const first = await mutex.lock();
    const second = mutex.lock().then((release) => {
      order.push('second');
      return release;
    });
    const controller = new AbortController();
    const abandoned = mutex.lock(controller.signal);
    const third = mutex.lock().then((release) => {
      order.push('third');
      release();
    });
    expect(mutex.waiting).toBe(3);
    controller.abort(new Error('gave up'));
    await expect(abandoned).rejects.toThrow('gave up');
    expect(mutex.waiting).toBe(2);
    first();
    first(); // releasing twice is harmless
    (await second)();
    await third;
    expect(order).toEqual(['second', 'third']);
    expect(mutex.locked).toBe(false);
  });
});
