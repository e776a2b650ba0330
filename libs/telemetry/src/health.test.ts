/** Readiness semantics (required and optional checks, sharing and caching runs), the readiness metric and /readyz. */
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '@jamey/core';
import { createHealth, createLogger, createMetricsRegistry, startAdminServer, type AdminServer } from './index.js';
import { parseMetrics } from './testing.js';

describe('readiness', () => {
  it('stays ready, degraded, when only an optional check fails; a failing required check makes it not ready', async () => {
    const health = createHealth(systemClock);
    let databaseUp = true;
    health.addCheck('database', () => {
      if (!databaseUp) throw new Error('connection refused');
    });
    health.addCheck('broker', () => Promise.reject(new Error('broker unreachable')), { required: false });

    const degraded = await health.readiness();
    expect(degraded).toMatchObject({ ready: true, degraded: true });
    expect(degraded.checks).toEqual([
      expect.objectContaining({ name: 'database', ok: true, required: true }),
      expect.objectContaining({ name: 'broker', ok: false, required: false, error: 'broker unreachable' }),
    ]);

    databaseUp = false;
    const notReady = await health.readiness();
    expect(notReady).toMatchObject({ ready: false, degraded: false });
    expect(notReady.checks[0]).toMatchObject({ name: 'database', ok: false, error: 'connection refused' });
  });

  it('runs each check once for concurrent callers, and reuses a report younger than maxAgeMs', async () => {
    const clock = createManualClock();
    const health = createHealth(clock);
    let runs = 0;
    let release: () => void = () => undefined;
    health.addCheck('database', () => {
      runs += 1;
      return new Promise<void>((resolve) => (release = resolve));
    });
    const first = health.readiness();
    const second = health.readiness();
    await expect.poll(() => runs).toBe(1);
    release();
    expect(await first).toBe(await second);
    expect(runs).toBe(1);

    // A recent report is reused by callers that accept one; a plain call runs the checks again.
    const reused = health.readiness({ maxAgeMs: 1000 });
    expect(await reused).toBe(await first);
    clock.advance(1001);
    const stale = health.readiness({ maxAgeMs: 1000 });
    await expect.poll(() => runs).toBe(2);
    release();
    expect((await stale).checkedAt).toBe(clock.now());
  });

  it('answers not ready without running checks once shutting down, even from a fresh cache', async () => {
    const health = createHealth(createManualClock());
    let runs = 0;
    health.addCheck('database', () => void (runs += 1));
    expect((await health.readiness()).ready).toBe(true);
    health.markShuttingDown();
    const report = await health.readiness({ maxAgeMs: 60_000 });
    expect(report.ready).toBe(false);
    expect(report.checks).toEqual([expect.objectContaining({ name: 'shutdown', ok: false, error: 'shutting down' })]);
    expect(runs).toBe(1);
  });

  it('rejects two checks with one name', () => {
    const health = createHealth(systemClock);
    health.addCheck('database', () => undefined);
    expect(() => health.addCheck('database', () => undefined)).toThrow(/already exists/);
    expect(() => health.addCheck('shutdown', () => undefined)).toThrow(/already exists/);
  });

  it('exports jamey_readiness_check_up{check} from every run', async () => {
    const metrics = createMetricsRegistry('test');
    const health = createHealth(systemClock, { metrics });
    let brokerUp = false;
    health.addCheck('database', () => undefined);
    health.addCheck(
      'broker',
      () => {
        if (!brokerUp) throw new Error('down');
      },
      { required: false },
    );
    const values = async () =>
      Object.fromEntries(
        ((await parseMetrics(await metrics.metrics())).get('jamey_readiness_check_up')?.samples ?? []).map((s) => [s.labels['check'], s.value]),
      );
    await health.readiness();
    expect(await values()).toEqual({ database: 1, broker: 0 });
    brokerUp = true;
    await health.readiness();
    expect(await values()).toEqual({ database: 1, broker: 1 });
    health.markShuttingDown();
    await health.readiness();
    expect(await values()).toEqual({ shutdown: 0 });
  });
});

describe('admin server health endpoints', () => {
  let server: AdminServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('/readyz says degraded (200) for a failing optional check, not ready (503) for a required one, and lists every check', async () => {
    const health = createHealth(systemClock);
    let databaseUp = true;
    health.addCheck('database', () => {
      if (!databaseUp) throw new Error('database down');
    });
    health.addCheck('memory', () => Promise.reject(new Error('memory circuit is open')), { required: false });
    server = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      health,
      metrics: createMetricsRegistry('test'),
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    const readyz = () => fetch(`http://127.0.0.1:${server!.port}/readyz`);

    const degraded = await readyz();
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({
      status: 'degraded',
      checks: [
        { name: 'database', ok: true, required: true },
        { name: 'memory', ok: false, required: false, error: 'memory circuit is open' },
      ],
    });

    databaseUp = false;
    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({
      status: 'not ready',
      checks: [
        { name: 'database', ok: false, error: 'database down' },
        { name: 'memory', ok: false, error: 'memory circuit is open' },
      ],
    });
  });

  it('/healthz stays 200 while draining, and /readyz turns 503 with the shutdown check', async () => {
    const health = createHealth(systemClock);
    server = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      health,
      metrics: createMetricsRegistry('test'),
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    const base = `http://127.0.0.1:${server.port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    health.markShuttingDown();
    const live = await fetch(`${base}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'draining' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not ready', checks: [{ name: 'shutdown', ok: false, error: 'shutting down' }] });
  });
});
