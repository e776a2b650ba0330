/** startGateway: the public API, the admin server and its readiness over every downstream, shutdown. */
import { waitFor } from '@jamey/data/testing';
import { createLogger } from '@jamey/telemetry';
import { highCardinalityLabels, missingMetricFamilies, requiredMetricFamilies, scrapeMetrics } from '@jamey/telemetry/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';
import { startGateway, type RunningGateway } from './service.js';
import { startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createGatewayEvents, type GatewayEventsFixture } from './testing/gateway-events.js';
import { bearer, testAuthEnv } from './testing/test-tokens.js';

let fakes: FakeDownstreams;
let events: GatewayEventsFixture;
let gateway: RunningGateway;

interface Readiness {
  status: string;
  checks: { name: string; ok: boolean; required: boolean; error?: string }[];
}

beforeAll(async () => {
  fakes = await startFakeDownstreams();
  events = await createGatewayEvents();
  const config = loadGatewayConfig({
    ...(await testAuthEnv()),
    ...events.env,
    JAMEY_BIND_HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    GATEWAY_ADMIN_PORT: '0',
    GATEWAY_READINESS_TIMEOUT_MS: '1000',
    ...Object.fromEntries(Object.entries(fakes.addresses).map(([name, address]) => [`${name.toUpperCase()}_ADDRESS`, address])),
  });
  gateway = await startGateway({ config, logger: createLogger({ service: 'gateway', level: 'silent' }), transport: events.transport, mode: 'infrastructure' });
});
afterAll(async () => {
  await gateway?.stop();
  await fakes?.close();
  await events?.close();
});

const admin = (path: string) => fetch(`http://127.0.0.1:${gateway.adminPort}${path}`);

describe('startGateway', () => {
  it('serves the public API on its port', async () => {
    const response = await fetch(`http://127.0.0.1:${gateway.port}/v1/system/health`, { headers: await bearer() });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'serving' });
  });

  it('is live and ready when every downstream, its database and the bus are, with one check each', async () => {
    expect((await admin('/healthz')).status).toBe(200);
    const response = await admin('/readyz');
    const body = (await response.json()) as Readiness;
    expect(response.status).toBe(200);
    expect(body.checks.map((c) => c.name).sort()).toEqual(['audit', 'broker', 'consciousness', 'database', 'memory', 'soul', 'telemetry']);
    expect(body.checks.every((c) => c.ok)).toBe(true);
  });

  it('records request metrics by route template', async () => {
    await fetch(`http://127.0.0.1:${gateway.port}/v1/entities/nobody`, { headers: await bearer() });
    // Errors raised while routing skip Fastify's hooks (so go unmeasured) but still answer.
    expect((await fetch(`http://127.0.0.1:${gateway.port}/v1/entities/%E0%A4%A`)).status).toBe(400);
    const text = await (await admin('/metrics')).text();
    expect(text).toMatch(/http_server_request_duration_seconds_count\{[^}]*route="\/v1\/entities\/:id"[^}]*status_code="404"[^}]*\} 1/);
    expect(text).not.toContain('/v1/entities/nobody');
  });

  it('exposes the gateway metric families, with 404s under a fixed route label and no ids anywhere', async () => {
    const base = `http://127.0.0.1:${gateway.port}`;
    const headers = await bearer();
    await fetch(`${base}/v1/memories/0190a0b0-c0d0-7e00-8f00-0000000000ff`, { headers });
    await fetch(`${base}/v1/no-such-thing/0190a0b0-c0d0-7e00-8f00-0000000000ff`, { headers });
    await fetch(`${base}/v1/entities/nobody`, { method: 'PATCH', headers });
    await admin('/readyz');
    const required = requiredMetricFamilies({ http: true, rpcClient: true, database: true, producer: true }, { traffic: true });
    // The access records of those requests reach the broker through the outbox relay, after the
    // responses: wait for the relay, not for a fixed time.
    let metrics = await scrapeMetrics(`http://127.0.0.1:${gateway.adminPort}/metrics`);
    await waitFor(async () => {
      metrics = await scrapeMetrics(`http://127.0.0.1:${gateway.adminPort}/metrics`);
      return missingMetricFamilies(metrics, required).length === 0;
    }, { timeoutMs: 15_000, message: 'the gateway to publish its access records' }).catch(() => undefined);
    expect(missingMetricFamilies(metrics, required)).toEqual([]);
    expect(highCardinalityLabels(metrics)).toEqual([]);
    const http = metrics.get('http_server_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_count'));
    expect(http.find((s) => s.labels['status_code'] === '404' && s.labels['route'] === 'unmatched')?.value).toBeGreaterThanOrEqual(1);
    expect(http.some((s) => s.labels['route'] === '/v1/memories/:id')).toBe(true);
    const client = metrics.get('rpc_client_call_duration_seconds')!.samples.filter((s) => s.name.endsWith('_count'));
    expect(client.some((s) => s.labels['dependency'] === 'memory' && s.labels['method'] === '/jamey.memory.v1.MemoryService/GetMemory')).toBe(true);
  });

  it('stays ready, degraded, when a downstream is down or not serving, and explains each failing check', async () => {
    fakes.setServing('audit', false);
    await fakes.stop('soul');
    const response = await admin('/readyz');
    // No downstream is required for the gateway's readiness (edgeReadiness in @jamey/topology):
    // every gateway replica shares a downstream's outage, and the other APIs still work.
    expect(response.status).toBe(200);
    const body = (await response.json()) as Readiness;
    expect(body.status).toBe('degraded');
    const failing = Object.fromEntries(body.checks.filter((c) => !c.ok).map((c) => [c.name, c.error]));
    expect(Object.keys(failing).sort()).toEqual(['audit', 'soul']);
    expect(failing['soul']).toMatch(new RegExp(`^soul at ${fakes.addresses.soul} is UNREACHABLE`));
    expect(failing['audit']).toBe(`audit at ${fakes.addresses.audit} is NOT_SERVING`);
    expect(body.checks.every((c) => c.required === false)).toBe(true);
    const metrics = await scrapeMetrics(`http://127.0.0.1:${gateway.adminPort}/metrics`);
    const up = Object.fromEntries(metrics.get('jamey_readiness_check_up')!.samples.map((s) => [s.labels['check'], s.value]));
    expect(up).toEqual({ memory: 1, consciousness: 1, soul: 0, audit: 0, telemetry: 1, database: 1, broker: 1 });
  });

  it('stops: both ports close; stop is idempotent', async () => {
    const first = gateway.stop();
    const second = gateway.stop();
    await Promise.all([first, second]);
    await expect(fetch(`http://127.0.0.1:${gateway.port}/v1/system/health`)).rejects.toThrow();
    await expect(admin('/healthz')).rejects.toThrow();
  });
});
