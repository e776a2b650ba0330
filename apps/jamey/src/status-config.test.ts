import { describe, expect, it } from 'vitest';
import { loadHostConfig } from './config.js';

describe('loadHostConfig: the status page', () => {
  it('serves it on 9200 by default and links the gateway to it', () => {
    const config = loadHostConfig({});
    expect(config.statusPort).toBe(9200);
    expect(config.gateway.statusPageUrl).toBe('http://127.0.0.1:9200/');
  });

  it('follows TELEMETRY_STATUS_PORT, unless TELEMETRY_STATUS_URL says where the page is', () => {
    expect(loadHostConfig({ TELEMETRY_STATUS_PORT: '9321' }).gateway.statusPageUrl).toBe('http://127.0.0.1:9321/');
    expect(loadHostConfig({ TELEMETRY_STATUS_PORT: '9321', TELEMETRY_STATUS_URL: '' }).gateway.statusPageUrl).toBe('http://127.0.0.1:9321/');
    const proxied = loadHostConfig({ TELEMETRY_STATUS_PORT: '9321', TELEMETRY_STATUS_URL: 'https://jamey.example.org/status/' });
    expect(proxied.statusPort).toBe(9321);
    expect(proxied.gateway.statusPageUrl).toBe('https://jamey.example.org/status/');
  });
});
