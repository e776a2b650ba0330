/** The gateway's breakers: a dead downstream trips its breaker, which fails fast and shows in /v1/system/degradation. */
import { createLogger } from '@jamey/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';
import { startGateway, type RunningGateway } from './service.js';
import { startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createGatewayEvents, type GatewayEventsFixture } from './testing/gateway-events.js';
import { bearer, testAuthEnv } from './testing/test-tokens.js';

let fakes: FakeDownstreams;
let events: GatewayEventsFixture;
let gateway: RunningGateway;

beforeAll(async () => {
  fakes = await startFakeDownstreams();
  events = await createGatewayEvents();
  const config = loadGatewayConfig({
    ...(await testAuthEnv()),
    ...events.env,
    JAMEY_BIND_HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    GATEWAY_ADMIN_PORT: '0',
    ...Object.fromEntries(Object.entries(fakes.addresses).map(([name, address]) => [`${name.toUpperCase()}_ADDRESS`, address])),
  });
  gateway = await startGateway({ config, logger: createLogger({ service: 'gateway', level: 'silent' }), transport: events.transport, mode: 'infrastructure' });
});
afterAll(async () => {
  await gateway?.stop();
  await fakes?.close();
  await events?.close();
});

const api = async (path: string) => fetch(`http://127.0.0.1:${gateway.port}${path}`, { headers: await bearer() });

interface Degradation {
  dependencies: { name: string; level: string; circuit: string; retryAfterMs: number }[];
}

describe('GET /v1/system/degradation', () => {
  it('lists every downstream at full with a closed breaker while all is well', async () => {
    const response = await api('/v1/system/degradation');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Degradation;
    expect(body.dependencies.map((d) => d.name).sort()).toEqual(['audit', 'consciousness', 'memory', 'soul', 'telemetry']);
    expect(body.dependencies.every((d) => d.level === 'full' && d.circuit === 'closed' && d.retryAfterMs === 0)).toBe(true);
  });

  it('opens the breaker of a dead downstream, fails fast with 503 and Retry-After, and reports it degraded', async () => {
    await fakes.stop('memory');
    const statuses: number[] = [];
    const memoryCircuit = async (): Promise<string> =>
      ((await (await api('/v1/system/degradation')).json()) as Degradation).dependencies.find((d) => d.name === 'memory')!.circuit;
    for (let i = 0; i < 20 && (await memoryCircuit()) === 'closed'; i += 1) {
      statuses.push((await api('/v1/memories/01a20982-9c25-7109-8f4f-5bc956be8f36')).status);
    }
    expect(new Set(statuses)).toEqual(new Set([503]));
    expect(await memoryCircuit()).toBe('open');

    const started = performance.now();
    const fast = await api('/v1/memories/01a20982-9c25-7109-8f4f-5bc956be8f36');
    const elapsedMs = performance.now() - started;
    expect(fast.status).toBe(503);
    expect(Number(fast.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await fast.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', dependency: 'memory' });
    // Over loopback HTTP, with the breaker answering before any gRPC call is made.
    expect(elapsedMs).toBeLessThan(50);

    const body = (await (await api('/v1/system/degradation')).json()) as Degradation;
    const memory = body.dependencies.find((d) => d.name === 'memory')!;
    expect(memory).toMatchObject({ level: 'degraded', circuit: 'open' });
    expect(memory.retryAfterMs).toBeGreaterThan(0);
    expect(body.dependencies.filter((d) => d.name !== 'memory').every((d) => d.level === 'full')).toBe(true);

    // The same state reaches Prometheus, with the dependency as a label.
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    expect(metrics).toMatch(/jamey_circuit_breaker_state\{[^}]*dependency="memory"[^}]*state="open"[^}]*\} 1\n/);
    expect(metrics).toMatch(/jamey_circuit_breaker_state\{[^}]*dependency="soul"[^}]*state="closed"[^}]*\} 1\n/);
    const rejected = /jamey_circuit_breaker_rejections_total\{[^}]*dependency="memory"[^}]*\} (\d+)/.exec(metrics);
    expect(Number(rejected?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/jamey_circuit_breaker_calls_total\{[^}]*dependency="memory"[^}]*outcome="failure"[^}]*\} \d+/);
  });
});
