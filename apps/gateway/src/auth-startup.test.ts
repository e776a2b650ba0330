/**
 * startGateway's user-token setup, through the real start path: development keys only in
 * embedded mode, and a broken key source fails the start with a message saying what is wrong.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_AUDIENCE, DEV_ISSUER, DevelopmentKeyError, ensureDevSigningKey, mintDevToken } from '@jamey/security';
import { createLogger } from '@jamey/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './service.js';
import { startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { createGatewayEvents, type GatewayEventsFixture } from './testing/gateway-events.js';

let fakes: FakeDownstreams;
let events: GatewayEventsFixture;
let dataDir: string;

beforeAll(async () => {
  fakes = await startFakeDownstreams();
  events = await createGatewayEvents();
  dataDir = await mkdtemp(join(tmpdir(), 'jamey-gateway-startup-'));
});
afterAll(async () => {
  await fakes?.close();
  await events?.close();
});

const silent = createLogger({ service: 'gateway', level: 'silent' });
const config = (auth: Record<string, string>) =>
  loadGatewayConfig({
    ...events.env,
    JAMEY_BIND_HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    GATEWAY_ADMIN_PORT: '0',
    ...Object.fromEntries(Object.entries(fakes.addresses).map(([name, address]) => [`${name.toUpperCase()}_ADDRESS`, address])),
    ...auth,
  });
const DEV = { GATEWAY_AUTH_ISSUER: DEV_ISSUER, GATEWAY_AUTH_AUDIENCE: DEV_AUDIENCE, GATEWAY_AUTH_DEV_KEY: 'true' };

describe('startGateway user token keys', () => {
  it.each(['infrastructure', 'kubernetes'] as const)('refuses the development key and issuer in %s mode, naming both', async (mode) => {
    const start = startGateway({ config: config(DEV), logger: silent, transport: events.transport, mode, dataDir });
    await expect(start).rejects.toThrow(DevelopmentKeyError);
    await expect(start).rejects.toThrow(/the embedded development key is configured[\s\S]*the development issuer urn:jamey:dev is accepted/);
  });

  it('uses the development key in embedded mode: a token from it is accepted', async () => {
    const gateway = await startGateway({ config: config(DEV), logger: silent, transport: events.transport, mode: 'embedded', dataDir });
    try {
      const token = await mintDevToken(await ensureDevSigningKey(dataDir), { scopes: ['memory:read'] });
      const url = `http://127.0.0.1:${gateway.port}/v1/memories?query=x`;
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(url)).status).toBe(401);
    } finally {
      await gateway.stop();
    }
  });

  it('fails the start on a key file that is missing or holds a private key', async () => {
    const missing = join(dataDir, 'no-such-keys.jwks');
    await expect(
      startGateway({ config: config({ GATEWAY_AUTH_ISSUER: 'https://idp.example.org/', GATEWAY_AUTH_KEY_FILE: missing }), logger: silent, transport: events.transport, mode: 'infrastructure' }),
    ).rejects.toThrow(new RegExp(missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    const privateKey = join(dataDir, 'private.jwk');
    await writeFile(privateKey, JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'd', alg: 'EdDSA' }), { mode: 0o600 });
    await expect(
      startGateway({ config: config({ GATEWAY_AUTH_ISSUER: 'https://idp.example.org/', GATEWAY_AUTH_KEY_FILE: privateKey }), logger: silent, transport: events.transport, mode: 'infrastructure' }),
    ).rejects.toThrow(/private|secret/i);
  });
});
