import { ConfigError } from '@jamey/config';
import { downstreamsOf } from '@jamey/topology';
import { describe, expect, it } from 'vitest';
import { DOWNSTREAMS } from './clients.js';
import { loadGatewayConfig } from './config.js';

describe('loadGatewayConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadGatewayConfig({})).toEqual({
      host: '0.0.0.0',
      port: 8080,
      adminPort: 9100,
      downstreams: {
        memory: '127.0.0.1:50051',
        consciousness: '127.0.0.1:50052',
        soul: '127.0.0.1:50053',
        audit: '127.0.0.1:50054',
        telemetry: '127.0.0.1:50055',
      },
      downstreamTimeoutMs: 5000,
      readinessTimeoutMs: 1000,
      bodyLimitBytes: 1024 * 1024,
      logLevel: 'info',
      shutdownGraceMs: 10_000,
      rpcRetries: true,
      statusPageUrl: 'http://127.0.0.1:9200/',
      rateLimit: { max: 600, windowMs: 60_000 },
    });
  });

  it('reads every variable and freezes the result', () => {
    const config = loadGatewayConfig({
      JAMEY_BIND_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      GATEWAY_ADMIN_PORT: '9999',
      MEMORY_ADDRESS: 'memory:1',
      SOUL_ADDRESS: 'soul:2',
      GATEWAY_DOWNSTREAM_TIMEOUT_MS: '250',
      GATEWAY_BODY_LIMIT_BYTES: '2048',
      LOG_LEVEL: 'warn',
      JAMEY_RATE_LIMIT_MAX: '5',
      JAMEY_RATE_LIMIT_WINDOW_MS: '1000',
      REDIS_URL: 'redis://cache:6379/1',
    });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 0,
      adminPort: 9999,
      downstreamTimeoutMs: 250,
      bodyLimitBytes: 2048,
      logLevel: 'warn',
      rateLimit: { max: 5, windowMs: 1000 },
      redisUrl: 'redis://cache:6379/1',
    });
    expect(Object.isFrozen(config.rateLimit)).toBe(true);
    expect(loadGatewayConfig({}).redisUrl).toBeUndefined();
    expect(config.downstreams).toMatchObject({ memory: 'memory:1', soul: 'soul:2', audit: '127.0.0.1:50054' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.downstreams)).toBe(true);
  });

  it('lists every invalid variable at once', () => {
    let error: unknown;
    try {
      loadGatewayConfig({
        GATEWAY_PORT: 'eighty',
        MEMORY_ADDRESS: 'no-port',
        GATEWAY_DOWNSTREAM_TIMEOUT_MS: '-1',
        JAMEY_RATE_LIMIT_MAX: '0',
        JAMEY_RATE_LIMIT_WINDOW_MS: '1.5',
        REDIS_URL: 'localhost:6379',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/GATEWAY_PORT/);
    expect(problems).toMatch(/MEMORY_ADDRESS/);
    expect(problems).toMatch(/GATEWAY_DOWNSTREAM_TIMEOUT_MS/);
    expect(problems).toMatch(/JAMEY_RATE_LIMIT_MAX/);
    expect(problems).toMatch(/JAMEY_RATE_LIMIT_WINDOW_MS/);
    expect(problems).toMatch(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('reads the status page URL and rejects one that is not http(s)', () => {
    expect(loadGatewayConfig({ TELEMETRY_STATUS_URL: 'https://status.example.org/jamey/' }).statusPageUrl).toBe('https://status.example.org/jamey/');
    expect(() => loadGatewayConfig({ TELEMETRY_STATUS_URL: 'javascript:alert(1)' })).toThrow(/TELEMETRY_STATUS_URL/);
  });

  it('has an address for exactly the services the call graph lets the gateway call', () => {
    expect([...DOWNSTREAMS].sort()).toEqual(downstreamsOf('gateway').sort());
  });
});
