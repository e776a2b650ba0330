import { mkdtemp, rename, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createManualClock } from '@jamey/core';
import { exportPKCS8 } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError } from './errors.js';
import { createKeySetKeys, KeyConfigError } from './keys.js';
import { createFileSecretSource, createStaticSecretSource, Secret, secretSourceFromEnv, SecretUnavailableError } from './secret.js';
import { createTestKey, jwksOf, seconds, signWith, type TestKey } from './test-support/tokens.js';
import { createUserTokenVerifier } from './user-tokens.js';

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'jamey-api';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jamey-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('keys from a local file, rotated without a restart', () => {
  const clock = createManualClock();
  const token = (key: TestKey) => signWith(key, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', exp: seconds(clock.now()) + 600 });
  const outcome = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof AuthError ? error.reason : String(error)),
    );

  it('picks up a rotated JWKS file after the refresh interval: current and previous keys, then the old one dropped', async () => {
    const path = join(dir, 'jwks.json');
    const [old, next] = [await createTestKey('EdDSA', 'k-old'), await createTestKey('EdDSA', 'k-new')];
    await writeFile(path, JSON.stringify(jwksOf(old)));
    const errors: KeyConfigError[] = [];
    const verifier = createUserTokenVerifier({
      mode: 'kubernetes',
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      keys: createKeySetKeys({ source: createFileSecretSource(path, { clock, refreshMs: 1000 }), onError: (error) => errors.push(error) }),
    });
    expect(await outcome(verifier.verify(await token(old)))).toBe('accepted');
    expect(await outcome(verifier.verify(await token(next)))).toBe('unknown_kid');

    // Step 1 of a rotation: publish the new key beside the old one.
    await writeFile(path, JSON.stringify(jwksOf(old, next)));
    expect(await outcome(verifier.verify(await token(next)))).toBe('unknown_kid'); // not re-read yet
    clock.advance(1000);
    expect(await outcome(verifier.verify(await token(next)))).toBe('accepted');
    expect(await outcome(verifier.verify(await token(old)))).toBe('accepted');

    // Step 3: drop the old key.
    await writeFile(path, JSON.stringify(jwksOf(next)));
    clock.advance(1000);
    expect(await outcome(verifier.verify(await token(old)))).toBe('unknown_kid');
    expect(await outcome(verifier.verify(await token(next)))).toBe('accepted');

    // A broken or missing file keeps the last good keys in force and is reported.
    await writeFile(path, '{"keys": [');
    clock.advance(1000);
    expect(await outcome(verifier.verify(await token(next)))).toBe('accepted');
    expect(errors.map((error) => error.message)).toEqual([`file ${path}: neither PEM nor JSON`]);
    await rm(path);
    clock.advance(1000);
    expect(await outcome(verifier.verify(await token(next)))).toBe('accepted');
  });

  it('follows a Kubernetes-style symlink swap of the mounted Secret', async () => {
    const [old, next] = [await createTestKey('RS256', 'a'), await createTestKey('RS256', 'b')];
    await mkdir(join(dir, 'v1'));
    await mkdir(join(dir, 'v2'));
    await writeFile(join(dir, 'v1', 'key.pem'), old.publicPem);
    await writeFile(join(dir, 'v2', 'key.pem'), next.publicPem);
    await symlink('v1', join(dir, '..data'));
    await symlink('..data/key.pem', join(dir, 'key.pem'));
    const verifier = createUserTokenVerifier({
      mode: 'kubernetes',
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      keys: createKeySetKeys({ source: createFileSecretSource(join(dir, 'key.pem'), { clock }), algorithm: 'RS256' }),
    });
    expect(await outcome(verifier.verify(await token(old)))).toBe('accepted');
    // The kubelet's atomic writer: a new ..data link renamed over the old one.
    await symlink('v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    clock.advance(1000);
    // A PEM holds one key: the new key replaces the old one (use a JWKS to overlap them).
    expect(await outcome(verifier.verify(await token(next)))).toBe('accepted');
    expect(await outcome(verifier.verify(await token(old)))).toBe('bad_signature');
  });

  it('fails at first use when the file is missing, naming the path only', async () => {
    const keys = createKeySetKeys({ source: createFileSecretSource(join(dir, 'absent.json'), { clock }) });
    await expect(keys.current()).rejects.toThrow(new SecretUnavailableError(`cannot read the secret from file ${join(dir, 'absent.json')}: ENOENT`));
  });
});

describe('key set validation', () => {
  const parse = (text: string, algorithm?: 'RS256' | 'ES256' | 'EdDSA') =>
    createKeySetKeys({ source: createStaticSecretSource(text, 'test keys'), ...(algorithm ? { algorithm } : {}) }).current();

  it('refuses private keys, secret keys, keys without alg, unaccepted algs and ambiguous sets, without printing key material', async () => {
    const key = await createTestKey('ES256', 'k1');
    const privatePem = await exportPKCS8(key.privateKey);
    const { kty, crv, x, y } = key.publicJwk;
    const cases: [string, RegExp][] = [
      [privatePem, /holds a private key/],
      [JSON.stringify({ keys: [{ ...key.publicJwk, d: 'secret-d' }] }), /private or secret key/],
      [JSON.stringify({ kty: 'oct', k: 'c2VjcmV0', alg: 'HS256' }), /private or secret key/],
      [JSON.stringify({ kty, crv, x, y }), /has no alg/],
      [JSON.stringify({ ...key.publicJwk, alg: 'PS256' }), /has alg PS256; accepted: RS256, ES256, EdDSA/],
      [JSON.stringify({ ...key.publicJwk, alg: 'RS256' }), /not a valid RS256 key/],
      [JSON.stringify({ ...key.publicJwk, use: 'enc' }), /not a signing key/],
      [JSON.stringify({ keys: [key.publicJwk, { ...key.publicJwk }] }), /kid k1 appears twice/],
      [JSON.stringify({ keys: [key.publicJwk, { ...key.publicJwk, kid: undefined }] }), /needs a kid/],
      [JSON.stringify({ keys: [] }), /at least one key/],
      [key.publicPem, /needs a configured algorithm/],
      [`${key.publicPem}\n${key.publicPem}`, /several PEM blocks/],
      ['not a key', /neither PEM nor JSON/],
    ];
    for (const [text, expected] of cases) {
      const error = (await parse(text).catch((caught: unknown) => caught)) as Error;
      expect(error, text.slice(0, 60)).toBeInstanceOf(KeyConfigError);
      expect(error.message).toMatch(expected);
      expect(error.message).not.toMatch(/secret-d|MIG|c2VjcmV0/);
    }
    // A JWK without alg takes the configured one.
    await expect(parse(JSON.stringify({ kty, crv, x, y }), 'ES256')).resolves.toMatchObject({ algorithms: ['ES256'] });
  });
});

describe('secrets', () => {
  it('never print their value', () => {
    const secret = new Secret('hunter2-hunter2');
    const printed = [String(secret), `${secret}`, JSON.stringify({ secret }), inspect(secret), inspect({ nested: { secret } })].join(' ');
    expect(printed).not.toContain('hunter2');
    expect(secret.reveal()).toBe('hunter2-hunter2');
  });

  it('come from <NAME>_FILE (rotatable) or <NAME>, never both', async () => {
    const path = join(dir, 'token-key');
    await writeFile(path, 'from-file\n');
    expect(await secretSourceFromEnv({ KEY_FILE: path }, 'KEY')!.read().then((s) => s.reveal())).toBe('from-file');
    expect(await secretSourceFromEnv({ KEY: 'from-env' }, 'KEY')!.read().then((s) => s.reveal())).toBe('from-env');
    expect(secretSourceFromEnv({ KEY: '  ' }, 'KEY')).toBeUndefined();
    expect(() => secretSourceFromEnv({ KEY: 'a', KEY_FILE: path }, 'KEY')).toThrow(/either KEY or KEY_FILE/);
  });

  it('re-read a file only once per refresh interval, sharing one read between concurrent callers', async () => {
    const clock = createManualClock();
    const path = join(dir, 'secret');
    await writeFile(path, 'one');
    const source = createFileSecretSource(path, { clock, refreshMs: 5000 });
    const [a, b] = await Promise.all([source.read(), source.read()]);
    expect(a).toBe(b);
    await writeFile(path, 'two');
    clock.advance(4999);
    expect((await source.read()).reveal()).toBe('one');
    clock.advance(1);
    expect((await source.read()).reveal()).toBe('two');
  });

  it('refuse an empty file', async () => {
    const path = join(dir, 'empty');
    await writeFile(path, '\n');
    await expect(createFileSecretSource(path).read()).rejects.toThrow(/the file is empty/);
  });
});
