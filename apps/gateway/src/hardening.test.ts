/** Response hardening: helmet's headers with an API CSP, the docs page's own CSP, and CORS only from configuration. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createTestGateway, type TestGateway } from './testing/test-gateway.js';

let fakes: FakeDownstreams;
let plain: TestGateway;
let withCors: TestGateway;

beforeAll(async () => {
  fakes = await startFakeDownstreams();
  plain = createTestGateway({ addresses: fakes.addresses });
  withCors = createTestGateway({ addresses: fakes.addresses, corsOrigins: ['https://app.example.org'] });
});
afterAll(async () => {
  await plain?.close();
  await withCors?.close();
  await fakes?.close();
});

describe('security headers', () => {
  it('API responses, errors included, forbid sniffing, framing and loading anything', async () => {
    for (const response of [
      await plain.inject({ method: 'GET', url: '/v1/system/health' }),
      await plain.app.inject({ method: 'GET', url: '/v1/system/health' }),
      await plain.app.inject({ method: 'GET', url: '/openapi.json' }),
    ]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
      expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('the docs page gets a CSP that lets its own scripts and styles run, and its assets load', async () => {
    const page = await plain.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/style-src 'self'/);
    expect(csp).toMatch(/object-src 'none'/);
    expect(csp).not.toMatch(/upgrade-insecure-requests/);
    // Every script and stylesheet the page references is served.
    const assets = [...page.body.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const url = asset.startsWith('/') ? asset : `/docs/${asset.replace(/^docs\//, '')}`;
      expect((await plain.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
    expect((await plain.app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
  });
});

describe('CORS', () => {
  it('is off by default: no CORS headers, so browsers keep the same-origin policy', async () => {
    const response = await plain.inject({ method: 'GET', url: '/v1/system/health', headers: { origin: 'https://app.example.org' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers preflights from a configured origin without a token, and allows the bearer header', async () => {
    const preflight = await withCors.app.inject({
      method: 'OPTIONS',
      url: '/v1/memories',
      headers: { origin: 'https://app.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.org');
    expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/authorization/);
    const actual = await withCors.inject({ method: 'GET', url: '/v1/system/health', headers: { origin: 'https://app.example.org' } });
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example.org');
    expect(String(actual.headers['access-control-expose-headers'])).toMatch(/www-authenticate/);
  });

  it('gives other origins nothing', async () => {
    const response = await withCors.inject({ method: 'GET', url: '/v1/system/health', headers: { origin: 'https://evil.example.net' } });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
