import { systemClock } from '@jamey/core';
import { createLogger } from '@jamey/telemetry';
import { afterAll, describe, expect, it } from 'vitest';
import { closeGatewayClients, createGatewayClients } from './clients.js';
import { buildGateway } from './server.js';
import { createTestVerifier } from './testing/test-tokens.js';

const addresses = { memory: '127.0.0.1:1', consciousness: '127.0.0.1:1', soul: '127.0.0.1:1', audit: '127.0.0.1:1', telemetry: '127.0.0.1:1' };

function build(statusPageUrl?: string) {
  const clients = createGatewayClients({ addresses, clock: systemClock, defaultTimeoutMs: 1000 });
  const app = buildGateway({
    clients,
    clock: systemClock,
    logger: createLogger({ service: 'gateway', level: 'silent' }),
    downstreamTimeoutMs: 1000,
    bodyLimitBytes: 1024,
    version: '0.0.0-test',
    auth: createTestVerifier(),
    ...(statusPageUrl !== undefined ? { statusPageUrl } : {}),
  });
  return { app, close: async () => (await app.close(), closeGatewayClients(clients)) };
}

describe('GET /status', () => {
  const linked = build('http://127.0.0.1:9200/');
  const unlinked = build();
  afterAll(async () => {
    await linked.close();
    await unlinked.close();
  });

  it('redirects to the telemetry status page', async () => {
    const response = await linked.app.inject({ method: 'GET', url: '/status' });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('http://127.0.0.1:9200/');
  });

  it('is not part of the documented JSON API, which mentions it instead', async () => {
    const document = (await linked.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown>; info: { description: string } };
    expect(Object.keys(document.paths)).not.toContain('/status');
    expect(document.info.description).toContain('GET /status');
  });

  it('is a 404 problem when no status page is configured', async () => {
    const response = await unlinked.app.inject({ method: 'GET', url: '/status' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
