import { systemClock } from '@jamey/core';
import { createLogger } from '@jamey/telemetry';
import { afterAll, describe, expect, it } from 'vitest';
import { closeGatewayClients, createGatewayClients } from './clients.js';
import { buildGateway } from './server.js';

const addresses = { memory: '127.0.0.1:1', consciousness: '127.0.0.1:1', soul: '127.0.0.1:1', audit: '127.0.0.1:1', telemetry: '127.0.0.1:1' };

describe('traceresponse header', () => {
  const clients = createGatewayClients({ addresses, clock: systemClock, defaultTimeoutMs: 1000 });
  const app = buildGateway({
    clients,
    clock: systemClock,
    logger: createLogger({ service: 'gateway', level: 'silent' }),
    downstreamTimeoutMs: 1000,
    bodyLimitBytes: 1024,
    version: '0.0.0-test',
  });
  // With tracing on, the header carries the request's trace: tests/e2e/src/tracing.test.ts
  // checks that against the real system (inject() does not keep the async context).
  afterAll(async () => {
    await app.close();
    closeGatewayClients(clients);
  });

  it('is absent when the request is not traced', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['traceresponse']).toBeUndefined();
  });
});
