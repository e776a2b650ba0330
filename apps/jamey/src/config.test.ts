import { describe, expect, it } from 'vitest';
import { loadHostConfig } from './config.js';

describe('loadHostConfig', () => {
  it('keeps embedded mode free of Redis even when REDIS_URL is set', () => {
    const config = loadHostConfig({ REDIS_URL: 'redis://127.0.0.1:56379' });
    for (const settings of Object.values(config.services)) expect(settings.redisUrl).toBeUndefined();
    expect(config.gateway.redisUrl).toBeUndefined();
  });

  it('lets the gateway trust the development key by default, and a configured key source instead', () => {
    expect(loadHostConfig({}).gateway.auth).toMatchObject({ issuer: ['urn:jamey:dev'], audience: ['jamey-api'], devKey: true });
    const own = loadHostConfig({ GATEWAY_AUTH_ISSUER: 'https://idp.example.org/', GATEWAY_AUTH_KEY_FILE: '/keys/users.jwks' }).gateway.auth;
    expect(own).toMatchObject({ issuer: ['https://idp.example.org/'], keyFile: '/keys/users.jwks' });
    expect(own.devKey).toBeUndefined();
  });

  it('keeps the gateway outbox in PGlite under the data folder, like every service, unless GATEWAY_DATABASE_URL says otherwise', () => {
    const config = loadHostConfig({ JAMEY_DATA_DIR: '/var/lib/jamey' });
    expect(config.gateway.databaseUrl).toBe('pglite:///var/lib/jamey/gateway');
    expect(config.services.memory.databaseUrl).toBe('pglite:///var/lib/jamey/memory');
    expect(loadHostConfig({ GATEWAY_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/jamey_gateway' }).gateway.databaseUrl).toBe('postgres://u:p@127.0.0.1:5432/jamey_gateway');
  });
});
