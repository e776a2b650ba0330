import { createManualClock } from '@jamey/core';
import { createLogger } from '@jamey/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@jamey/data/testing';
import type { SystemHealth } from '../domain/health.js';
import { startStatusServer, type StatusServer } from './server.js';
import { createStatusSnapshots, type StatusSnapshotJson } from './snapshot.js';
import { openEventStream } from '../testing/event-stream.js';

const logger = createLogger({ service: 'status-test', level: 'silent' });

const healthOf = (memory: SystemHealth['status']): SystemHealth => ({
  status: memory === 'SERVING' ? 'SERVING' : 'DEGRADED',
  checkedAt: new Date(Date.UTC(2026, 0, 1)),
  services: [{ service: 'memory', target: '127.0.0.1:1', status: memory, detail: memory === 'SERVING' ? '' : 'connection refused', latencyMs: 2, checkedAt: new Date(Date.UTC(2026, 0, 1)) }],
});

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: { snapshot?: (signal: AbortSignal) => Promise<StatusSnapshotJson>; heartbeatMs?: number; maxClients?: number } = {}) {
  let memory: SystemHealth['status'] = 'SERVING';
  let taken = 0;
  const snapshots = createStatusSnapshots({ sources: { health: async () => healthOf(memory) }, clock: createManualClock() });
  server = await startStatusServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    snapshot:
      options.snapshot ??
      ((signal) => {
        taken += 1;
        return snapshots(signal);
      }),
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.maxClients !== undefined ? { maxClients: options.maxClients } : {}),
  });
  return {
    server,
    url: `http://127.0.0.1:${server.port}`,
    setMemory: (status: SystemHealth['status']) => (memory = status),
    taken: () => taken,
  };
}

describe('status page HTTP server', () => {
  it('serves the page, its script and styles and uPlot with their content types and a strict CSP', async () => {
    const { url } = await start();
    const expected: Record<string, RegExp> = {
      '/': /^text\/html; charset=utf-8$/,
      '/index.html': /^text\/html; charset=utf-8$/,
      '/status.js': /^text\/javascript; charset=utf-8$/,
      '/status.css': /^text\/css; charset=utf-8$/,
      '/vendor/uplot.esm.js': /^text\/javascript; charset=utf-8$/,
      '/vendor/uplot.min.css': /^text\/css; charset=utf-8$/,
      '/favicon.svg': /^image\/svg\+xml$/,
    };
    for (const [path, type] of Object.entries(expected)) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(type);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect((await response.text()).length).toBeGreaterThan(0);
    }
    const page = await (await fetch(url)).text();
    // No inline script or style anywhere in the page: everything comes from files.
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).not.toMatch(/<style|\sstyle=|\son\w+=/);
    expect(page).toContain('<script type="module" src="status.js"></script>');
    expect(await (await fetch(`${url}/vendor/uplot.esm.js`)).text()).toContain('export { uPlot as default }');
  });

  it('answers HEAD without a body, 405 to other methods and 404 to unknown paths', async () => {
    const { url } = await start();
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await head.text()).toBe('');
    const post = await fetch(url, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const missing = await fetch(`${url}/../../package.json`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not found' });
    expect((await fetch(`${url}/static/status.js`)).status).toBe(404);
  });

  it('answers /api/status with the snapshot as JSON, and 503 when it cannot be taken', async () => {
    const { url, setMemory } = await start();
    setMemory('DOWN');
    const response = await fetch(`${url}/api/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as StatusSnapshotJson;
    expect(body.status).toBe('DEGRADED');
    expect(body.services).toEqual([
      { service: 'memory', target: '127.0.0.1:1', status: 'DOWN', detail: 'connection refused', latencyMs: 2, checkedAt: '2026-01-01T00:00:00.000Z', dependencies: [] },
    ]);
    await server!.close();

    const failing = await start({ snapshot: () => Promise.reject(new Error('database unreachable at 10.0.0.1')) });
    const unavailable = await fetch(`${failing.url}/api/status`);
    expect(unavailable.status).toBe(503);
    // The cause is logged, not shown to whoever opens the page.
    expect(await unavailable.json()).toEqual({ error: 'telemetry could not read the current status' });
  });
});

describe('status page event stream (SSE)', () => {
  it('sends a snapshot on connect and one per published round', async () => {
    const { url, setMemory } = await start();
    const stream = await openEventStream(`${url}/api/events`);
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(stream.response.headers.get('cache-control')).toBe('no-store');
      expect(stream.response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await stream.next()).toEqual({ type: 'retry', data: '3000' });
      const first = await stream.next();
      expect(first.type).toBe('snapshot');
      expect((JSON.parse(first.data) as StatusSnapshotJson).services[0]!.status).toBe('SERVING');

      setMemory('DOWN');
      server!.publish();
      const second = await stream.next();
      expect(second.type).toBe('snapshot');
      expect(Number(second.id)).toBeGreaterThan(Number(first.id));
      expect((JSON.parse(second.data) as StatusSnapshotJson).services[0]).toMatchObject({ status: 'DOWN', detail: 'connection refused' });
    } finally {
      await stream.close();
    }
  });

  it('keeps idle connections alive with heartbeat comments', async () => {
    const { url } = await start({ heartbeatMs: 20 });
    const stream = await openEventStream(`${url}/api/events`);
    try {
      await stream.next((event) => event.type === 'snapshot');
      expect(await stream.next()).toEqual({ type: 'comment', data: 'heartbeat' });
    } finally {
      await stream.close();
    }
  });

  it('forgets a client that disconnects, and ends open streams on close', async () => {
    const { url, taken } = await start();
    const leaving = await openEventStream(`${url}/api/events`);
    const staying = await openEventStream(`${url}/api/events`);
    await leaving.next((event) => event.type === 'snapshot');
    await staying.next((event) => event.type === 'snapshot');
    expect(server!.clients).toBe(2);
    await leaving.close();
    await waitFor(() => server!.clients === 1, { message: 'the server to forget the closed stream' });

    const before = taken();
    server!.publish();
    await staying.next((event) => event.type === 'snapshot');
    expect(taken()).toBe(before + 1);

    await server!.close();
    server = undefined;
    await staying.ended();
  });

  it('takes no snapshot for a round when no page is open', async () => {
    const { taken } = await start();
    server!.publish();
    server!.publish();
    expect(taken()).toBe(0);
  });

  it('folds rounds published while a snapshot is being taken into one more snapshot', async () => {
    const snapshots = createStatusSnapshots({ sources: { health: async () => healthOf('SERVING') }, clock: createManualClock() });
    const gates: (() => void)[] = [];
    let taken = 0;
    const { url } = await start({
      snapshot: async (signal) => {
        taken += 1;
        await new Promise<void>((resolve) => gates.push(resolve));
        return snapshots(signal);
      },
    });
    const stream = await openEventStream(`${url}/api/events`);
    try {
      await waitFor(() => gates.length === 1, { message: 'the connect snapshot to start' });
      gates.shift()!();
      await stream.next((event) => event.type === 'snapshot');
      server!.publish();
      server!.publish();
      server!.publish();
      await waitFor(() => gates.length === 1, { message: 'the first round snapshot to start' });
      gates.shift()!();
      await stream.next((event) => event.type === 'snapshot');
      await waitFor(() => gates.length === 1, { message: 'the folded snapshot to start' });
      gates.shift()!();
      await stream.next((event) => event.type === 'snapshot');
      // Connect, the first round, and one for the two rounds published meanwhile.
      expect(taken).toBe(3);
    } finally {
      await stream.close();
    }
  });

  it('sends "unavailable" without the cause when the snapshot fails, and recovers', async () => {
    let fail = true;
    const snapshots = createStatusSnapshots({ sources: { health: async () => healthOf('SERVING') }, clock: createManualClock() });
    const { url } = await start({ snapshot: (signal) => (fail ? Promise.reject(new Error('secret connection string')) : snapshots(signal)) });
    const stream = await openEventStream(`${url}/api/events`);
    try {
      const unavailable = await stream.next((event) => event.type !== 'retry');
      expect(unavailable.type).toBe('unavailable');
      expect(unavailable.data).not.toContain('secret');
      expect(JSON.parse(unavailable.data)).toEqual({ message: 'telemetry could not read the current status; retrying on the next round' });
      fail = false;
      server!.publish();
      expect((await stream.next()).type).toBe('snapshot');
    } finally {
      await stream.close();
    }
  });

  it('answers 503 beyond the connection limit', async () => {
    const { url } = await start({ maxClients: 1 });
    const stream = await openEventStream(`${url}/api/events`);
    try {
      const refused = await fetch(`${url}/api/events`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(await refused.json()).toEqual({ error: 'too many status page connections' });
    } finally {
      await stream.close();
    }
  });
});
