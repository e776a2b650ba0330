/**
 * Every downstream call carries the request's deadline (arrival + GATEWAY_DOWNSTREAM_TIMEOUT_MS,
 * never a fresh budget) and is cancelled when the client goes away.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { samplePerception, startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createTestGateway, type TestGateway } from './testing/test-gateway.js';

const MEMORY_ID = '0190a0b0-c0d0-7e00-8f00-0000000000ff';
let fakes: FakeDownstreams;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  fakes = await startFakeDownstreams();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  fakes.reset();
});
afterAll(async () => {
  await fakes?.close();
});

function gatewayWith(downstreamTimeoutMs: number): TestGateway {
  // The clients' own default budget is a minute: a deadline the server sees near
  // downstreamTimeoutMs can only have come from the request.
  const gateway = createTestGateway({ addresses: fakes.addresses, downstreamTimeoutMs, clientDefaultTimeoutMs: 60_000 });
  gateways.push(gateway);
  return gateway;
}

/** A handler that never answers; it resolves `cancelled` when its call is cancelled. */
function hangingHandler() {
  let entered!: () => void;
  let cancelled!: (reason: unknown) => void;
  const enteredPromise = new Promise<void>((resolve) => (entered = resolve));
  const cancelledPromise = new Promise<unknown>((resolve) => (cancelled = resolve));
  const handler = (_request: unknown, context: { signal: AbortSignal }) =>
    new Promise<never>((_resolve, reject) => {
      entered();
      context.signal.addEventListener('abort', () => {
        cancelled(context.signal.reason);
        reject(new Error('cancelled'));
      });
    });
  return { handler, entered: enteredPromise, cancelled: cancelledPromise };
}

describe('deadlines', () => {
  it.each([
    ['GET', `/v1/memories/${MEMORY_ID}`, 'memory'],
    ['POST', '/v1/perceptions', 'consciousness'],
    ['GET', '/v1/entities/e', 'soul'],
    ['GET', '/v1/audit/records', 'audit'],
    ['GET', '/v1/system/health', 'telemetry'],
  ] as const)('%s %s gives %s a deadline of request start + the timeout', async (method, url, service) => {
    const timeoutMs = 1500;
    const gateway = gatewayWith(timeoutMs);
    await gateway.app.ready();
    const before = Date.now();
    await gateway.inject({ method, url, ...(method === 'POST' ? { payload: { input: 'i', source: 's', salience: 0.5 } } : {}) });
    const after = Date.now();
    const call = fakes.calls.find((c) => c.service === service);
    expect(call?.deadline).toBeDefined();
    const deadline = call!.deadline!;
    // gRPC sends the remaining time, rounded up to a whole unit, and the server adds it to its
    // own clock; allow that rounding, nothing more.
    expect(deadline).toBeLessThanOrEqual(after + timeoutMs + 2);
    expect(deadline).toBeGreaterThanOrEqual(before + timeoutMs - 2);
  });

  it('passes x-jamey-canary: always on to the downstream call, so the mesh routes it to the canary', async () => {
    const gateway = gatewayWith(5000);
    await gateway.inject({ method: 'GET', url: `/v1/memories/${MEMORY_ID}`, headers: { 'x-jamey-canary': 'Always' } });
    expect(fakes.calls.find((c) => c.service === 'memory')?.metadata['x-jamey-canary']).toBe('always');
    fakes.reset();
    // Any other value routes nowhere in the mesh, so it is not passed on.
    await gateway.inject({ method: 'GET', url: `/v1/memories/${MEMORY_ID}`, headers: { 'x-jamey-canary': 'sometimes' } });
    const call = fakes.calls.find((c) => c.service === 'memory');
    expect(call).toBeDefined();
    expect(call?.metadata['x-jamey-canary']).toBeUndefined();
  });

  it('a downstream slower than the budget → 504 deadline-exceeded naming it', async () => {
    const gateway = gatewayWith(200);
    const hanging = hangingHandler();
    fakes.handlers.memory.getMemory = hanging.handler;
    const response = await gateway.inject({ method: 'GET', url: `/v1/memories/${MEMORY_ID}` });
    expect(response.statusCode).toBe(504);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({
      type: 'https://jamey.io/problems/deadline-exceeded',
      status: 504,
      code: 'DEADLINE_EXCEEDED',
      dependency: 'memory',
    });
    // The server side saw its deadline pass too: nothing keeps working for a caller that left.
    await hanging.cancelled;
  });
});

describe('client disconnect', () => {
  it('cancels the downstream call when the HTTP client goes away', async () => {
    const gateway = gatewayWith(30_000);
    const hanging = hangingHandler();
    fakes.handlers.consciousness.perceive = hanging.handler;
    await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = gateway.app.server.address() as AddressInfo;

    const body = JSON.stringify({ input: 'hello', source: 'chat', salience: 0.5 });
    const client = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/perceptions',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${await gateway.token()}` },
    });
    client.on('error', () => undefined);
    client.end(body);
    // The body has been read and the call is in flight (the case `request.signal` gets wrong).
    await hanging.entered;
    client.destroy();
    await expect(hanging.cancelled).resolves.toBeDefined();
  });

  it('does not cancel a call whose client is still waiting', async () => {
    const gateway = gatewayWith(30_000);
    await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = gateway.app.server.address() as AddressInfo;
    let sawAbort = false;
    fakes.handlers.consciousness.perceive = async (request, context) => {
      // Answer on a later turn, after the request body stream has ended and closed.
      await new Promise((resolve) => setImmediate(resolve));
      sawAbort = context.signal.aborted;
      return { perception: samplePerception({ input: request.input }), focusChanged: false, context: [], degradedDependencies: [] };
    };
    const response = await fetch(`http://127.0.0.1:${port}/v1/perceptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await gateway.token()}` },
      body: JSON.stringify({ input: 'x'.repeat(5000), source: 'chat', salience: 0.5 }),
    });
    expect(response.status).toBe(201);
    expect(sawAbort).toBe(false);
  });
});
