import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDevSigningKey, mintDevToken } from './dev-keys.js';
import { KeyConfigError } from './keys.js';
import { DEV_AUDIENCE, DEV_ISSUER, DevelopmentKeyError } from './mode.js';
import { createFileSecretSource, createStaticSecretSource } from './secret.js';
import { generateServiceKey, generateServiceKeyring } from './service-keys.js';
import { createServiceAuth, createUserAuth } from './setup.js';
import { createTestKey, seconds, signWith } from './test-support/tokens.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jamey-setup-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createUserAuth', () => {
  it('refuses development keys outside embedded mode, before touching any key', async () => {
    await expect(createUserAuth({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, devKey: true }, { mode: 'kubernetes', dataDir: dir })).rejects.toBeInstanceOf(
      DevelopmentKeyError,
    );
    await expect(
      createUserAuth({ issuer: 'https://idp/', audience: 'a', hs256Secret: createStaticSecretSource('x'.repeat(32), 'test') }, { mode: 'infrastructure' }),
    ).rejects.toBeInstanceOf(DevelopmentKeyError);
  });

  it('needs exactly one key source', async () => {
    await expect(createUserAuth({ issuer: 'https://idp/', audience: 'a' }, { mode: 'kubernetes' })).rejects.toThrow(/exactly one key source .*got none/);
    await expect(
      createUserAuth({ issuer: 'https://idp/', audience: 'a', jwksUrl: 'https://idp/jwks', keyFile: '/k' }, { mode: 'kubernetes' }),
    ).rejects.toThrow(/got a JWKS URL, a key file/);
  });

  it('fails at startup on a broken key file, and works with a good one', async () => {
    const path = join(dir, 'jwks.json');
    await writeFile(path, '{"keys": []}');
    await expect(createUserAuth({ issuer: 'https://idp/', audience: 'a', keyFile: path }, { mode: 'kubernetes' })).rejects.toBeInstanceOf(KeyConfigError);
    const key = await createTestKey('ES256', 'k1');
    await writeFile(path, JSON.stringify({ keys: [key.publicJwk] }));
    const verifier = await createUserAuth({ issuer: 'https://idp/', audience: 'a', keyFile: path }, { mode: 'kubernetes' });
    const token = await signWith(key, { iss: 'https://idp/', aud: 'a', sub: 'alice', exp: seconds(Date.now()) + 60 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('in embedded mode, verifies tokens from the development key (what npm run token prints)', async () => {
    const verifier = await createUserAuth({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, devKey: true }, { mode: 'embedded', dataDir: dir });
    const token = await mintDevToken(await ensureDevSigningKey(dir), { scopes: ['soul:read'] });
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'developer', scopes: new Set(['soul:read']) });
  });
});

describe('createServiceAuth', () => {
  it('wires a caller and a callee from an in-memory keyring (embedded mode)', async () => {
    const keyring = await generateServiceKeyring();
    const gateway = await createServiceAuth('gateway', { keyring });
    const memory = await createServiceAuth('memory', { keyring });
    expect(gateway.verifier).toBeUndefined();
    await expect(memory.verifier!.verify(await gateway.minter.mint('memory', 'alice'))).resolves.toMatchObject({ caller: 'gateway', userSubject: 'alice' });
  });

  it('reads mounted key files and fails at startup when one is unusable', async () => {
    const pair = await generateServiceKey('consciousness', '2026-01');
    const signing = join(dir, 'signing.jwk');
    const publicKeys = join(dir, 'public.jwks');
    await writeFile(signing, JSON.stringify(pair.privateJwk));
    await writeFile(publicKeys, JSON.stringify({ keys: [pair.publicJwk] }));
    const files = { signingKey: createFileSecretSource(signing), publicKeys: createFileSecretSource(publicKeys) };
    const consciousness = await createServiceAuth('consciousness', files);
    const memory = await createServiceAuth('memory', { ...files, signingKey: createStaticSecretSource(JSON.stringify((await generateServiceKey('memory', 'k')).privateJwk), 'test') });
    await expect(memory.verifier!.verify(await consciousness.minter.mint('memory'))).resolves.toMatchObject({ caller: 'consciousness' });
    await expect(createServiceAuth('soul', files)).rejects.toThrow(/must be soul\/<key id>/);
    await writeFile(publicKeys, pair.publicJwk.x!);
    await expect(createServiceAuth('consciousness', { signingKey: files.signingKey, publicKeys: createFileSecretSource(publicKeys) })).rejects.toThrow(/neither PEM nor JSON/);
  });
});
