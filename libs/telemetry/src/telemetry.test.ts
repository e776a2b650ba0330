import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '@jamey/core';
import { createHealth, createLogger, createMetricsRegistry, startAdminServer, type AdminServer } from './index.js';

describe('createHealth', () => {
  it('runs checks in parallel, each under its own timeout, and explains failures', async () => {
    const health = createHealth(systemClock);
    health.addCheck('database', async () => undefined);
    health.addCheck('broker', async () => {
      throw new Error('connection refused');
    });
    health.addCheck('hung', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))), {
      timeoutMs: 50,
    });
    const report = await health.readiness();
    expect(report.ready).toBe(false);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['database', true],
      ['broker', false],
      ['hung', false],
    ]);
    expect(report.checks[1]?.error).toBe('connection refused');
    expect(report.checks[2]?.error).toMatch(/timed out after 50 ms/);
  });

  it('fails readiness once shutting down, but stays live while it drains', async () => {
    const health = createHealth(createManualClock());
    expect((await health.readiness()).ready).toBe(true);
    health.markShuttingDown();
    expect(health.isLive()).toBe(true);
    expect((await health.readiness()).ready).toBe(false);
  });
});

describe('startAdminServer', () => {
  let server: AdminServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it('serves /healthz, /readyz with every check, and Prometheus /metrics', async () => {
    const health = createHealth(systemClock);
    let dbUp = true;
    health.addCheck('database', async () => {
      if (!dbUp) throw new Error('database down');
    });
    const metrics = createMetricsRegistry('test');
    server = await startAdminServer({ host: '127.0.0.1', port: 0, health, metrics, logger: createLogger({ service: 'test', level: 'silent' }) });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    dbUp = false;
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'not ready', checks: [{ name: 'database', ok: false, error: 'database down' }] });
    const scrape = await fetch(`${base}/metrics`);
    expect(scrape.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await scrape.text()).toMatch(/process_cpu_user_seconds_total\{service="test"\}/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('createLogger', () => {
  it('never writes tokens or authorization headers', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const logger = createLogger({ service: 'test', destination });
    logger.info({ req: { headers: { authorization: 'Bearer eyJsecret' } }, token: 'tok-123', user: 'ada' }, 'request');
    const output = lines.join('');
    expect(output).toContain('"user":"ada"');
    expect(output).not.toContain('eyJsecret');
    expect(output).not.toContain('tok-123');
    expect(JSON.parse(lines[0]!)).toMatchObject({ service: 'test', level: 'info', msg: 'request' });
  });
});
