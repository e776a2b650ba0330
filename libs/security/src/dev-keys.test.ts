import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock } from '@jamey/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { devKeyPath, ensureDevSigningKey, mintDevToken } from './dev-keys.js';
import { createStaticKeys } from './keys.js';
import { assertNoDevKeysOutsideEmbedded, DEV_AUDIENCE, DEV_ISSUER, DevelopmentKeyError } from './mode.js';
import { createUserTokenVerifier } from './user-tokens.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'jamey-dev-key-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('the development key', () => {
  it('is generated once, private to its owner (0600 in a 0700 directory), and reused', async () => {
    const first = await ensureDevSigningKey(dataDir);
    expect(first.path).toBe(devKeyPath(dataDir));
    expect((await stat(first.path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'security'))).mode & 0o777).toBe(0o700);
    expect(first.kid).toMatch(/^jamey-dev-[A-Za-z0-9_-]{16}$/);
    expect(first.publicJwks.keys[0]).not.toHaveProperty('d');
    expect((await ensureDevSigningKey(dataDir)).kid).toBe(first.kid);
  });

  it('is the same key for processes racing to create it', async () => {
    const keys = await Promise.all(Array.from({ length: 6 }, () => ensureDevSigningKey(dataDir)));
    expect(new Set(keys.map((key) => key.kid)).size).toBe(1);
  });

  it('is refused when others can read it, or when the file is not a development key', async () => {
    const key = await ensureDevSigningKey(dataDir);
    await chmod(key.path, 0o644);
    await expect(ensureDevSigningKey(dataDir)).rejects.toThrow(`${key.path} is readable by other users (mode 644); run: chmod 600 ${key.path}`);
    const jwk = JSON.parse(await readFile(key.path, 'utf8')) as Record<string, unknown>;
    await writeFile(key.path, JSON.stringify({ ...jwk, kid: 'prod-key' }), { mode: 0o600 });
    await chmod(key.path, 0o600);
    await expect(ensureDevSigningKey(dataDir)).rejects.toThrow(/is not a Jamey development key/);
  });

  it('signs tokens the embedded gateway verifier accepts, and no other mode does', async () => {
    const clock = createManualClock();
    const key = await ensureDevSigningKey(dataDir);
    const token = await mintDevToken(key, { scopes: ['memory:read', 'admin'], subject: 'alice', ttlSec: 120, clock });
    const options = { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, keys: await createStaticKeys(key.publicJwks), clock };
    await expect(createUserTokenVerifier({ ...options, mode: 'embedded' }).verify(token)).resolves.toEqual({
      subject: 'alice',
      issuer: DEV_ISSUER,
      scopes: new Set(['memory:read', 'admin']),
      expiresAt: clock.now() + 120_000,
    });
    await expect(createUserTokenVerifier({ ...options, mode: 'infrastructure' }).verify(token)).rejects.toBeInstanceOf(DevelopmentKeyError);
  });
});

describe('assertNoDevKeysOutsideEmbedded', () => {
  const dev = { issuer: [DEV_ISSUER, 'https://idp/'], hs256Secret: 'anything', devKey: true };

  it('lets embedded mode use every development setting', () => {
    expect(() => assertNoDevKeysOutsideEmbedded('embedded', dev)).not.toThrow();
  });

  it('refuses each development setting in the other modes, listing them all at once', () => {
    for (const mode of ['infrastructure', 'kubernetes'] as const) {
      let error: unknown;
      try {
        assertNoDevKeysOutsideEmbedded(mode, dev);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DevelopmentKeyError);
      expect((error as DevelopmentKeyError).problems).toEqual([
        `an HS256 secret is configured (mode ${mode})`,
        `the embedded development key is configured (mode ${mode})`,
        `the development issuer ${DEV_ISSUER} is accepted (mode ${mode})`,
      ]);
      expect(() => assertNoDevKeysOutsideEmbedded(mode, { issuer: 'https://idp/', devKey: false })).not.toThrow();
    }
    expect(() => assertNoDevKeysOutsideEmbedded('production' as 'embedded', {})).toThrow(/unknown runtime mode production/);
  });
});
