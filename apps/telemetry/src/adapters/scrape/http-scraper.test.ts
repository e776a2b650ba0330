import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '@jamey/core';
import { createHealth, createLogger, createMetricsRegistry, startAdminServer } from '@jamey/telemetry';
import { Counter, Gauge, Histogram } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExposition } from './exposition.js';
import { createHttpScraper } from './http-scraper.js';

const logger = createLogger({ service: 'scrape-test', level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function httpServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('createHttpScraper', () => {
  it("reads a real admin server's /metrics, labelled histograms included", async () => {
    const registry = createMetricsRegistry('memory');
    const histogram = new Histogram({ name: 'rpc_server_call_duration_seconds', help: 'h', labelNames: ['method', 'code'], buckets: [0.1, 1], registers: [registry] });
    histogram.observe({ method: '/jamey.memory.v1.MemoryService/GetMemory', code: 'OK' }, 0.05);
    histogram.observe({ method: '/jamey.memory.v1.MemoryService/GetMemory', code: 'UNAVAILABLE' }, 2);
    new Gauge({ name: 'jamey_circuit_breaker_state', help: 'g', labelNames: ['dependency', 'state'], registers: [registry] }).set({ dependency: 'postgres', state: 'open' }, 1);
    new Counter({ name: 'weird_total', help: 'c', labelNames: ['text'], registers: [registry] }).inc({ text: 'a "quoted"\nline' });
    const admin = await startAdminServer({ host: '127.0.0.1', port: 0, health: createHealth(systemClock), metrics: registry, logger });
    cleanups.push(() => admin.close());

    const samples = await createHttpScraper(`http://127.0.0.1:${admin.port}`)(AbortSignal.timeout(5000));
    const find = (name: string, labels: Record<string, string>) => samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);
    expect(find('rpc_server_call_duration_seconds_bucket', { code: 'OK', le: '0.1' })).toEqual([1]);
    expect(find('rpc_server_call_duration_seconds_bucket', { code: 'UNAVAILABLE', le: '1' })).toEqual([0]);
    expect(find('rpc_server_call_duration_seconds_bucket', { code: 'UNAVAILABLE', le: '+Inf' })).toEqual([1]);
    expect(find('rpc_server_call_duration_seconds_count', { code: 'UNAVAILABLE', service: 'memory' })).toEqual([1]);
    expect(find('jamey_circuit_breaker_state', { dependency: 'postgres', state: 'open' })).toEqual([1]);
    expect(find('weird_total', { text: 'a "quoted"\nline' })).toEqual([1]);
    expect(find('process_start_time_seconds', {})).toHaveLength(1);
  });

  it('fails on a non-200 answer, on garbage, on a refused connection, and at its deadline', async () => {
    const base = await httpServer((req, res) => {
      if (req.url === '/metrics' && req.headers['x-mode'] === undefined) res.writeHead(500).end('no');
    });
    await expect(createHttpScraper(base)(AbortSignal.timeout(5000))).rejects.toThrow('/metrics answered HTTP 500');
    const garbage = await httpServer((_req, res) => res.writeHead(200).end('this is { not metrics\n'));
    await expect(createHttpScraper(garbage)(AbortSignal.timeout(5000))).rejects.toThrow(/not valid exposition format/);
    const hanging = await httpServer(() => undefined);
    await expect(createHttpScraper(hanging)(AbortSignal.timeout(50))).rejects.toThrow(/timeout|aborted/i);
    const closed = await httpServer(() => undefined);
    await cleanups.pop()!();
    await expect(createHttpScraper(closed)(AbortSignal.timeout(5000))).rejects.toThrow('fetch failed');
  });
});

describe('parseExposition', () => {
  it('reads special values and untyped series', () => {
    expect(parseExposition('# TYPE a gauge\na{x="1"} NaN\na{x="2"} +Inf\nb -Inf\n')).toEqual([
      { name: 'a', labels: { x: '1' }, value: NaN },
      { name: 'a', labels: { x: '2' }, value: Infinity },
      { name: 'b', labels: {}, value: -Infinity },
    ]);
  });
});
