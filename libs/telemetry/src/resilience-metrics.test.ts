import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock, createSeededRandom, dependencyUnavailable, systemClock } from '@jamey/core';
import {
  constantBackoff,
  createBulkhead,
  createCircuitBreaker,
  createDegradationManager,
  createRetry,
  createTimeout,
} from '@jamey/resilience';
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

describe('breaker state changes as span events', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(async () => {
    context.disable();
    await provider.shutdown();
  });

  it('adds jamey.circuit_breaker.state_change to the span active when the breaker opens and closes', async () => {
    const clock = createManualClock(0);
    const breaker = createCircuitBreaker({
      name: 'memory',
      clock,
      random: createSeededRandom(1),
      strategy: { kind: 'consecutive', threshold: 1 },
      breakDuration: 1_000,
    });
    createResilienceMetrics(createMetricsRegistry('test')).observe('memory', { breaker });
    const tracer = provider.getTracer('test');
    const inSpan = (name: string, fn: () => Promise<unknown>) =>
      tracer.startActiveSpan(name, (span) => fn().catch(() => undefined).finally(() => span.end()));

    await inSpan('tripping call', () => breaker.execute(() => Promise.reject(dependencyUnavailable('memory'))));
    clock.advance(1_000);
    await inSpan('probe', () => breaker.execute(() => 'ok'));

    const events = (name: string) =>
      exporter
        .getFinishedSpans()
        .find((span) => span.name === name)
        ?.events.filter((event) => event.name === 'jamey.circuit_breaker.state_change')
        .map((event) => `${String(event.attributes?.['jamey.circuit_breaker.from'])}->${String(event.attributes?.['jamey.circuit_breaker.to'])}`);
    expect(events('tripping call')).toEqual(['closed->open']);
    expect(events('probe')).toEqual(['open->half-open', 'half-open->closed']);
    const attributes = exporter.getFinishedSpans()[0]?.events[0]?.attributes;
    expect(attributes?.['jamey.dependency']).toBe('memory');
  });
});

describe('jamey_degradation_level', () => {
  it('exports each dependency of the observed manager as 0 full … 3 offline', async () => {
    const clock = createManualClock(0);
    const registry = createMetricsRegistry('test');
    const metrics = createResilienceMetrics(registry);
    const manager = createDegradationManager({ clock });
    metrics.observeDegradation(manager);
    manager.track('postgres');
    manager.setLevel('redis', 'minimal');

    const text = await registry.metrics();
    expect(text).toMatch(/^jamey_degradation_level\{dependency="postgres"[^}]*\} 0$/m);
    expect(text).toMatch(/^jamey_degradation_level\{dependency="redis"[^}]*\} 2$/m);
    expect(() => metrics.observeDegradation(createDegradationManager({ clock }))).toThrow(/one degradation manager/);
  });
});
