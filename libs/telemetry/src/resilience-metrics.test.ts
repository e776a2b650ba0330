import { describe, expect, it } from 'vitest';
import { createSeededRandom, dependencyUnavailable, systemClock } from '@jamey/core';
import { constantBackoff, createBulkhead, createCircuitBreaker, createRetry, createTimeout } from '@jamey/resilience';
import { createMetricsRegistry, createResilienceMetrics } from './index.js';

describe('createResilienceMetrics', () => {
  it('counts retries, give-ups, timeouts, rejections and reports breaker and bulkhead state', async () => {
    const registry = createMetricsRegistry('test');
    const random = createSeededRandom(3);
    const breaker = createCircuitBreaker({ name: 'memory', clock: systemClock, random, strategy: { kind: 'consecutive', threshold: 3 } });
    const retry = createRetry({ name: 'memory', maxRetries: 2, backoff: constantBackoff(0), clock: systemClock, random });
    const timeout = createTimeout({ name: 'memory', timeoutMs: 20, clock: systemClock });
    const bulkhead = createBulkhead({ name: 'memory', maxConcurrent: 1 });
    const stop = createResilienceMetrics(registry).observe('memory', { breaker, retry, timeout, bulkhead });

    let failures = 2;
    await retry.execute(() => {
      if (failures-- > 0) throw dependencyUnavailable('memory');
      return 'ok';
    });
    await expect(retry.execute(() => Promise.reject(dependencyUnavailable('memory')))).rejects.toThrow();
    await expect(timeout.execute(({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))))).rejects.toThrow();
    let release: () => void = () => undefined;
    const holding = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(bulkhead.execute(() => 'second')).rejects.toThrow();
    for (let i = 0; i < 3; i += 1) await breaker.execute(() => Promise.reject(dependencyUnavailable('memory'))).catch(() => undefined);
    await expect(breaker.execute(() => 'fast')).rejects.toThrow(/circuit is open/);

    const text = await registry.metrics();
    const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1]);
    expect(value(/jamey_retry_attempts_total\{[^}]*dependency="memory"[^}]*\} (\d+)/)).toBe(4);
    expect(value(/jamey_retry_give_ups_total\{[^}]*dependency="memory"[^}]*reason="max-retries"[^}]*\} (\d+)/)).toBe(1);
    expect(value(/jamey_timeouts_total\{[^}]*dependency="memory"[^}]*\} (\d+)/)).toBe(1);
    expect(value(/jamey_bulkhead_rejections_total\{[^}]*dependency="memory"[^}]*\} (\d+)/)).toBe(1);
    expect(value(/jamey_bulkhead_active_calls\{[^}]*dependency="memory"[^}]*\} (\d+)/)).toBe(1);
    expect(value(/jamey_circuit_breaker_state\{[^}]*dependency="memory"[^}]*state="open"[^}]*\} (\d+)/)).toBe(1);
    expect(value(/jamey_circuit_breaker_calls_total\{[^}]*dependency="memory"[^}]*outcome="failure"[^}]*\} (\d+)/)).toBe(3);
    expect(value(/jamey_circuit_breaker_rejections_total\{[^}]*dependency="memory"[^}]*\} (\d+)/)).toBe(1);

    release();
    await holding;
    stop();
    expect(await registry.metrics()).not.toMatch(/jamey_circuit_breaker_state\{[^}]*dependency="memory"/);
  });
});
