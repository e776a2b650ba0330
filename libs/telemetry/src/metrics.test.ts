/** RED and database metrics, read back through Prometheus's own text parser; the parser helpers themselves. */
import { register as defaultRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { systemClock } from '@jamey/core';
import { createDatabaseMetrics, createHealth, createMetricsRegistry, createResilienceMetrics, createRpcMetrics } from './index.js';
import { highCardinalityLabels, missingMetricFamilies, parseMetrics, requiredMetricFamilies, type MetricFamily } from './testing.js';

const count = (family: MetricFamily | undefined, labels: Record<string, string>): number | undefined =>
  family?.samples.find((s) => s.name.endsWith('_count') && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('createRpcMetrics', () => {
  it('records server calls by method and code, and client calls by dependency too, in seconds', async () => {
    const registry = createMetricsRegistry('memory');
    const rpc = createRpcMetrics(registry);
    const method = '/jamey.memory.v1.MemoryService/GetMemory';
    rpc.server({ method, code: 'OK', durationMs: 4 });
    rpc.server({ method, code: 'OK', durationMs: 6 });
    rpc.server({ method, code: 'NOT_FOUND', durationMs: 1 });
    rpc.client({ dependency: 'soul', method: '/jamey.soul.v1.SoulService/GetEntity', code: 'UNAVAILABLE', durationMs: 2 });

    const families = await parseMetrics(await registry.metrics());
    const server = families.get('rpc_server_call_duration_seconds');
    expect(server?.type).toBe('HISTOGRAM');
    expect(count(server, { method, code: 'OK', service: 'memory' })).toBe(2);
    expect(count(server, { method, code: 'NOT_FOUND' })).toBe(1);
    expect(server?.samples.find((s) => s.name.endsWith('_sum') && s.labels['code'] === 'OK')?.value).toBeCloseTo(0.01);
    const client = families.get('rpc_client_call_duration_seconds');
    expect(count(client, { dependency: 'soul', method: '/jamey.soul.v1.SoulService/GetEntity', code: 'UNAVAILABLE' })).toBe(1);
  });
});

describe('createDatabaseMetrics', () => {
  it('reads pool occupancy at scrape time and records query and transaction durations', async () => {
    const registry = createMetricsRegistry('memory');
    let stats = { total: 3, idle: 1, waiting: 0 };
    const observe = createDatabaseMetrics(registry, { poolStats: () => stats });
    observe({ operation: 'query', durationMs: 2 });
    observe({ operation: 'transaction', durationMs: 30 });

    const pool = async () =>
      Object.fromEntries(
        ((await parseMetrics(await registry.metrics())).get('jamey_db_pool_connections')?.samples ?? []).map((s) => [s.labels['state'], s.value]),
      );
    expect(await pool()).toEqual({ total: 3, idle: 1, waiting: 0 });
    stats = { total: 10, idle: 0, waiting: 4 };
    expect(await pool()).toEqual({ total: 10, idle: 0, waiting: 4 });

    const duration = (await parseMetrics(await registry.metrics())).get('jamey_db_query_duration_seconds');
    expect(count(duration, { operation: 'query' })).toBe(1);
    expect(count(duration, { operation: 'transaction' })).toBe(1);
  });
});

describe('registries', () => {
  it('are per service: nothing lands on prom-client\'s global default registry', async () => {
    const registry = createMetricsRegistry('memory');
    createRpcMetrics(registry).server({ method: '/m', code: 'OK', durationMs: 1 });
    createDatabaseMetrics(registry, { poolStats: () => ({ total: 1, idle: 1, waiting: 0 }) })({ operation: 'query', durationMs: 1 });
    createResilienceMetrics(registry);
    await createHealth(systemClock, { metrics: registry }).readiness();
    expect(await defaultRegistry.getMetricsAsJSON()).toEqual([]);
    expect((await parseMetrics(await registry.metrics())).has('rpc_server_call_duration_seconds')).toBe(true);
  });
});

describe('the metrics test helpers', () => {
  it('parse with Prometheus, keeping every labelled histogram series apart', async () => {
    const families = await parseMetrics(
      [
        '# HELP h_seconds h',
        '# TYPE h_seconds histogram',
        'h_seconds_bucket{le="1",a="x"} 0',
        'h_seconds_bucket{le="+Inf",a="x"} 1',
        'h_seconds_sum{a="x"} 1.5',
        'h_seconds_count{a="x"} 1',
        'h_seconds_bucket{le="1",a="y"} 2',
        'h_seconds_bucket{le="+Inf",a="y"} 2',
        'h_seconds_sum{a="y"} 0.5',
        'h_seconds_count{a="y"} 2',
        '',
      ].join('\n'),
    );
    expect(count(families.get('h_seconds'), { a: 'x' })).toBe(1);
    expect(count(families.get('h_seconds'), { a: 'y' })).toBe(2);
    expect(families.get('h_seconds')?.samples.find((s) => s.name === 'h_seconds_bucket' && s.labels['a'] === 'x' && s.labels['le'] === '+Inf')?.value).toBe(1);
  });

  it('reject text a Prometheus server would reject, saying where', async () => {
    await expect(parseMetrics('foo{a="b" 1\n')).rejects.toThrow(/invalid Prometheus text format: .*line 1/);
    await expect(parseMetrics('# TYPE x counter\nx notanumber\n')).rejects.toThrow(/invalid Prometheus text format/);
  });

  it('name missing families, wrong types, absent samples and missing labels', async () => {
    const registry = createMetricsRegistry('audit');
    createRpcMetrics(registry).server({ method: '/m', code: 'OK', durationMs: 1 });
    const families = await parseMetrics(await registry.metrics());
    const problems = missingMetricFamilies(families, [
      ...requiredMetricFamilies({ rpcServer: true }, { traffic: true }),
      { name: 'rpc_server_call_duration_seconds', type: 'COUNTER' },
      { name: 'process_cpu_seconds_total', type: 'COUNTER', labels: ['nope'] },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        'jamey_readiness_check_up: missing',
        'jamey_circuit_breaker_state: missing',
        'rpc_server_call_duration_seconds: is a HISTOGRAM, expected a COUNTER',
        expect.stringMatching(/^process_cpu_seconds_total: a sample lacks nope/),
      ]),
    );
    expect(problems.some((p) => p.startsWith('rpc_server_call_duration_seconds: missing'))).toBe(false);
    expect(problems.some((p) => p.startsWith('nodejs_heap_size_used_bytes'))).toBe(false);
  });

  it('flag ids in label values but accept route templates and gRPC methods', async () => {
    const families = await parseMetrics(
      [
        '# TYPE http_server_request_duration_seconds_count counter',
        'http_server_request_duration_seconds_count{route="/v1/memories/:id"} 1',
        'http_server_request_duration_seconds_count{route="/v1/memories/0190a0b0-c0d0-7e00-8f00-0000000000ff"} 1',
        'http_server_request_duration_seconds_count{route="/v1/entities/12345"} 1',
        '# TYPE rpc_server_call_duration_seconds_count counter',
        'rpc_server_call_duration_seconds_count{method="/jamey.memory.v1.MemoryService/GetMemory",code="OK"} 1',
        '# TYPE jamey_things_total counter',
        'jamey_things_total{subject="0190a0b0-c0d0-7e00-8f00-0000000000ff"} 1',
        '',
      ].join('\n'),
    );
    const problems = highCardinalityLabels(families);
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toContain('route="/v1/memories/0190a0b0');
    expect(problems.join('\n')).toContain('route="/v1/entities/12345"');
    expect(problems.join('\n')).toContain('jamey_things_total{subject=');
  });
});
