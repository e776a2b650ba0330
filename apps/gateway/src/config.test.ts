import { ConfigError } from '@jamey/config';
import { downstreamsOf } from '@jamey/topology';
import { describe, expect, it } from 'vitest';
import { DOWNSTREAMS } from './clients.js';
import { loadGatewayConfig } from './config.js';

/** The least a gateway needs: who issues user tokens and where their keys are. */
const AUTH = { GATEWAY_AUTH_ISSUER: 'https://idp.example.org/', GATEWAY_AUTH_JWKS_URL: 'https://idp.example.org/.well-known/jwks.json' };

describe('loadGatewayConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadGatewayConfig(AUTH)).toEqual({
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
      auth: {
        issuer: ['https://idp.example.org/'],
        audience: ['jamey-api'],
        jwksUrl: 'https://idp.example.org/.well-known/jwks.json',
        clockToleranceSec: 30,
        maxTokenBytes: 8192,
      },
      corsOrigins: [],
      trustProxy: false,
      databaseUrl: 'pglite://.data/gateway',
      databasePoolSize: 10,
    });
  });

  it('reads every variable and freezes the result', () => {
    const config = loadGatewayConfig({
      ...AUTH,
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
      GATEWAY_DATABASE_URL: 'postgres://gw:pw@db:5432/jamey_gateway',
      GATEWAY_DATABASE_POOL_SIZE: '4',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgres://gw:pw@db:5432/jamey_gateway',
      databasePoolSize: 4,
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
    expect(loadGatewayConfig(AUTH).redisUrl).toBeUndefined();
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
        GATEWAY_AUTH_JWKS_URL: 'http://idp.example.org/jwks.json',
        GATEWAY_AUTH_KEY_FILE: '/keys/jwks.json',
        GATEWAY_AUTH_MAX_TOKEN_BYTES: '100',
        GATEWAY_CORS_ORIGINS: 'https://app.example.org/path',
        GATEWAY_TRUST_PROXY: 'the-proxy',
        GATEWAY_DATABASE_URL: 'mysql://db/gateway',
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
    expect(problems).toMatch(/GATEWAY_AUTH_ISSUER: required/);
    expect(problems).toMatch(/GATEWAY_AUTH_JWKS_URL: must be an https:\/\/ URL/);
    expect(problems).toMatch(/exactly one key source.*got GATEWAY_AUTH_JWKS_URL and GATEWAY_AUTH_KEY_FILE/);
    expect(problems).toMatch(/GATEWAY_AUTH_MAX_TOKEN_BYTES/);
    expect(problems).toMatch(/GATEWAY_CORS_ORIGINS.*origin/);
    expect(problems).toMatch(/GATEWAY_DATABASE_URL/);
    expect(problems).toMatch(/GATEWAY_TRUST_PROXY: must be true, false, a hop count, or addresses\/CIDRs; not the-proxy/);
  });

  it('reads the user token settings: several issuers and audiences, a key file with its algorithm, limits', () => {
    const config = loadGatewayConfig({
      GATEWAY_AUTH_ISSUER: 'https://a.example.org/, https://b.example.org/',
      GATEWAY_AUTH_AUDIENCE: 'jamey-api,jamey',
      GATEWAY_AUTH_KEY_FILE: '/var/run/secrets/jamey/user-token-keys.pem',
      GATEWAY_AUTH_KEY_ALGORITHM: 'ES256',
      GATEWAY_AUTH_CLOCK_TOLERANCE_SEC: '5',
      GATEWAY_AUTH_MAX_TOKEN_BYTES: '4096',
    });
    expect(config.auth).toEqual({
      issuer: ['https://a.example.org/', 'https://b.example.org/'],
      audience: ['jamey-api', 'jamey'],
      keyFile: '/var/run/secrets/jamey/user-token-keys.pem',
      keyAlgorithm: 'ES256',
      clockToleranceSec: 5,
      maxTokenBytes: 4096,
    });
    expect(Object.isFrozen(config.auth)).toBe(true);
    expect(loadGatewayConfig({ GATEWAY_AUTH_ISSUER: 'urn:jamey:dev', GATEWAY_AUTH_DEV_KEY: 'true' }).auth).toMatchObject({ devKey: true });
    // http is for loopback only.
    expect(loadGatewayConfig({ ...AUTH, GATEWAY_AUTH_JWKS_URL: 'http://127.0.0.1:8000/jwks.json' }).auth.jwksUrl).toBe('http://127.0.0.1:8000/jwks.json');
  });

  it('refuses no key source, a key algorithm without a key file, and an unknown algorithm', () => {
    expect(() => loadGatewayConfig({ GATEWAY_AUTH_ISSUER: 'https://idp.example.org/' })).toThrow(/exactly one key source.*got none/);
    expect(() => loadGatewayConfig({ ...AUTH, GATEWAY_AUTH_KEY_ALGORITHM: 'ES256' })).toThrow(/GATEWAY_AUTH_KEY_ALGORITHM: only applies with GATEWAY_AUTH_KEY_FILE/);
    expect(() => loadGatewayConfig({ ...AUTH, GATEWAY_AUTH_JWKS_URL: undefined, GATEWAY_AUTH_KEY_FILE: '/k', GATEWAY_AUTH_KEY_ALGORITHM: 'HS256' })).toThrow(
      /GATEWAY_AUTH_KEY_ALGORITHM/,
    );
  });

  it('reads CORS origins and the trusted proxies', () => {
    const config = loadGatewayConfig({ ...AUTH, GATEWAY_CORS_ORIGINS: 'https://app.example.org, http://localhost:5173', GATEWAY_TRUST_PROXY: '10.0.0.0/8, ::1' });
    expect(config.corsOrigins).toEqual(['https://app.example.org', 'http://localhost:5173']);
    expect(config.trustProxy).toEqual(['10.0.0.0/8', '::1']);
    expect(loadGatewayConfig({ ...AUTH, GATEWAY_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadGatewayConfig({ ...AUTH, GATEWAY_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(() => loadGatewayConfig({ ...AUTH, GATEWAY_TRUST_PROXY: '10.0.0.0/33' })).toThrow(/GATEWAY_TRUST_PROXY/);
  });

  it('reads the status page URL and rejects one that is not http(s)', () => {
    expect(loadGatewayConfig({ ...AUTH, TELEMETRY_STATUS_URL: 'https://status.example.org/jamey/' }).statusPageUrl).toBe('https://status.example.org/jamey/');
    expect(() => loadGatewayConfig({ ...AUTH, TELEMETRY_STATUS_URL: 'javascript:alert(1)' })).toThrow(/TELEMETRY_STATUS_URL/);
  });

  it('has an address for exactly the services the call graph lets the gateway call', () => {
    expect([...DOWNSTREAMS].sort()).toEqual(downstreamsOf('gateway').sort());
  });
});
