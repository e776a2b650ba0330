import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock } from '@jamey/core';
import { callersOf, type GrpcServiceName, type ServiceName } from '@jamey/topology';
import { importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError, type AuthErrorReason } from './errors.js';
import { createKeySetKeys, createStaticKeys, KeyConfigError, type VerificationKeys } from './keys.js';
import { createFileSecretSource } from './secret.js';
import { createSigningKeySource, createStaticSigningKey, generateServiceKey, generateServiceKeyring, ownerOfKey, type ServiceKeyring } from './service-keys.js';
import { createServiceTokenMinter, createServiceTokenVerifier, SERVICE_TOKEN_TYPE } from './service-tokens.js';
import { payloadOf, seconds, withPayload } from './test-support/tokens.js';

describe('service tokens', () => {
  const clock = createManualClock();
  let ring: ServiceKeyring;
  let keys: VerificationKeys;
  const minter = async (self: ServiceName, options: { ttlSec?: number } = {}) =>
    createServiceTokenMinter({ self, signingKey: await createStaticSigningKey(ring.privateJwks[self], self), clock, ...options });
  const verifier = (self: GrpcServiceName) => createServiceTokenVerifier({ self, keys, clock });
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => ({ code: 'OK', reason: 'accepted' }),
      (error: unknown) => {
        expect(error).toBeInstanceOf(AuthError);
        return { code: (error as AuthError).code, reason: (error as AuthError).reason };
      },
    );
  /** Signs claims with `self`'s real key, as a buggy or malicious caller could. */
  const forge = async (self: ServiceName, payload: JWTPayload, header: Record<string, unknown> = {}) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: ring.privateJwks[self].kid, typ: SERVICE_TOKEN_TYPE, ...header })
      .sign((await importJWK(ring.privateJwks[self], 'EdDSA')) as CryptoKey);
  const now = () => seconds(clock.now());

  beforeAll(async () => {
    ring = await generateServiceKeyring();
    keys = await createStaticKeys(ring.publicJwks);
  });

  it('carry the caller, the callee and the end user (RFC 8693 act) from minter to verifier', async () => {
    const token = await (await minter('gateway')).mint('memory', 'alice');
    expect(payloadOf(token)).toEqual({ iss: 'gateway', sub: 'alice', act: { sub: 'gateway' }, aud: 'memory', iat: now(), exp: now() + 60 });
    await expect(verifier('memory').verify(token)).resolves.toEqual({ caller: 'gateway', userSubject: 'alice', expiresAt: (now() + 60) * 1000 });
  });

  it("carry no user for a service's own work", async () => {
    const token = await (await minter('consciousness')).mint('soul');
    expect(payloadOf(token)).toMatchObject({ iss: 'consciousness', sub: 'consciousness' });
    expect(payloadOf(token)).not.toHaveProperty('act');
    await expect(verifier('soul').verify(token)).resolves.toEqual({ caller: 'consciousness', expiresAt: (now() + 60) * 1000 });
  });

  it('let every edge of the call graph through, and nothing else (PERMISSION_DENIED)', async () => {
    const services = ['gateway', 'memory', 'consciousness', 'soul', 'audit', 'telemetry'] as const;
    for (const callee of services.filter((name) => name !== 'gateway') as GrpcServiceName[]) {
      for (const caller of services) {
        const outcome = await refusal(verifier(callee).verify(await (await minter(caller)).mint(callee, 'alice')));
        const allowed = callersOf(callee).includes(caller);
        expect(outcome, `${caller} -> ${callee}`).toEqual(allowed ? { code: 'OK', reason: 'accepted' } : { code: 'PERMISSION_DENIED', reason: 'caller_not_allowed' });
      }
    }
  });

  it('are cached and re-minted before they expire, so most calls do not sign', async () => {
    const mint = await minter('gateway');
    const first = await mint.mint('memory', 'alice');
    clock.advance(39_000);
    expect(await mint.mint('memory', 'alice')).toBe(first);
    expect(await mint.mint('memory', 'bob')).not.toBe(first);
    expect(await mint.mint('soul', 'alice')).not.toBe(first);
    clock.advance(1000); // 20 s left: renewed
    const renewed = await mint.mint('memory', 'alice');
    expect(renewed).not.toBe(first);
    expect(payloadOf(renewed).exp).toBe(now() + 60);
  });

  const attacks: [string, () => Promise<string | undefined>, GrpcServiceName, 'UNAUTHENTICATED' | 'PERMISSION_DENIED', AuthErrorReason][] = [
    ['no token', async () => undefined, 'memory', 'UNAUTHENTICATED', 'missing'],
    ['an empty token', async () => '', 'memory', 'UNAUTHENTICATED', 'missing'],
    ['a token for another audience', async () => (await minter('gateway')).mint('soul', 'alice'), 'memory', 'UNAUTHENTICATED', 'wrong_audience'],
    [
      'a token replayed across audiences (several aud)',
      () => forge('gateway', { iss: 'gateway', sub: 'gateway', aud: ['memory', 'soul'], iat: now(), exp: now() + 60 }),
      'memory',
      'UNAUTHENTICATED',
      'wrong_audience',
    ],
    [
      'an expired token',
      async () => {
        const token = await (await minter('gateway')).mint('memory', 'alice');
        clock.advance(71_000);
        return token;
      },
      'memory',
      'UNAUTHENTICATED',
      'expired',
    ],
    [
      'a token from an unknown caller (key not in the set)',
      async () => {
        const stranger = await generateServiceKey('gateway', 'stolen-laptop');
        return (await createServiceTokenMinter({ self: 'gateway', signingKey: await createStaticSigningKey(stranger.privateJwk, 'gateway'), clock })).mint('memory');
      },
      'memory',
      'UNAUTHENTICATED',
      'unknown_kid',
    ],
    ['a caller that is not a service', () => forge('gateway', { iss: 'mallory', sub: 'mallory', aud: 'memory', iat: now(), exp: now() + 60 }), 'memory', 'UNAUTHENTICATED', 'unknown_caller'],
    [
      "a service signing in another's name",
      () => forge('soul', { iss: 'gateway', sub: 'gateway', aud: 'memory', iat: now(), exp: now() + 60 }),
      'memory',
      'UNAUTHENTICATED',
      'bad_signature',
    ],
    ['a tampered payload', async () => withPayload(await (await minter('soul')).mint('memory'), { iss: 'gateway', sub: 'gateway', aud: 'memory', iat: now(), exp: now() + 60 }), 'memory', 'UNAUTHENTICATED', 'bad_signature'],
    ['a long-lived token', () => forge('gateway', { iss: 'gateway', sub: 'gateway', aud: 'memory', iat: now(), exp: now() + 3600 }), 'memory', 'UNAUTHENTICATED', 'invalid_claims'],
    ['a token without iat', () => forge('gateway', { iss: 'gateway', sub: 'gateway', aud: 'memory', exp: now() + 60 }), 'memory', 'UNAUTHENTICATED', 'invalid_claims'],
    ['a JWT that is not a service token (typ)', () => forge('gateway', { iss: 'gateway', sub: 'gateway', aud: 'memory', iat: now(), exp: now() + 60 }, { typ: 'JWT' }), 'memory', 'UNAUTHENTICATED', 'invalid_claims'],
    ['an act naming another service', () => forge('gateway', { iss: 'gateway', sub: 'alice', act: { sub: 'soul' }, aud: 'memory', iat: now(), exp: now() + 60 }), 'memory', 'UNAUTHENTICATED', 'invalid_claims'],
    ['a user subject without act', () => forge('gateway', { iss: 'gateway', sub: 'alice', aud: 'memory', iat: now(), exp: now() + 60 }), 'memory', 'UNAUTHENTICATED', 'invalid_claims'],
    ['alg: none', async () => `${Buffer.from('{"alg":"none","typ":"jamey-svc+jwt"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'gateway', sub: 'gateway', aud: 'memory', iat: now(), exp: now() + 60 })).toString('base64url')}.`, 'memory', 'UNAUTHENTICATED', 'alg_not_allowed'],
    ['a valid token from a caller off the allow-list', async () => (await minter('soul')).mint('memory', 'alice'), 'memory', 'PERMISSION_DENIED', 'caller_not_allowed'],
  ];

  it.each(attacks)('refuse %s', async (_name, makeToken, callee, code, reason) => {
    const start = clock.now();
    const token = await makeToken();
    expect(await refusal(verifier(callee).verify(token))).toEqual({ code, reason });
    clock.set(start);
  });
});

describe('service keys', () => {
  it('name their owner in the kid', () => {
    expect([ownerOfKey('gateway/k1'), ownerOfKey('gateway/'), ownerOfKey('mallory/k1'), ownerOfKey(undefined), ownerOfKey('gateway')]).toEqual([
      'gateway',
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('rotate without a restart: new signing key and new key set files are picked up, the previous key stays valid meanwhile', async () => {
    const clock = createManualClock();
    const dir = await mkdtemp(join(tmpdir(), 'jamey-svc-keys-'));
    try {
      const [k1, k2] = [await generateServiceKey('gateway', '2026-01'), await generateServiceKey('gateway', '2026-02')];
      const signingPath = join(dir, 'signing.jwk');
      const setPath = join(dir, 'service-keys.jwks');
      await writeFile(signingPath, JSON.stringify(k1.privateJwk), { mode: 0o600 });
      await writeFile(setPath, JSON.stringify({ keys: [k1.publicJwk] }));
      const errors: KeyConfigError[] = [];
      const minter = createServiceTokenMinter({
        self: 'gateway',
        clock,
        signingKey: createSigningKeySource({ service: 'gateway', source: createFileSecretSource(signingPath, { clock }), onError: (e) => errors.push(e) }),
      });
      const verifier = createServiceTokenVerifier({ self: 'memory', clock, keys: createKeySetKeys({ source: createFileSecretSource(setPath, { clock }) }) });
      const before = await minter.mint('memory', 'alice');
      await expect(verifier.verify(before)).resolves.toMatchObject({ caller: 'gateway' });

      // 1. every verifier learns the new public key; 2. the caller switches its private key.
      await writeFile(setPath, JSON.stringify({ keys: [k1.publicJwk, k2.publicJwk] }));
      await writeFile(signingPath, JSON.stringify(k2.privateJwk));
      clock.advance(1000);
      const after = await minter.mint('memory', 'alice');
      expect(after).not.toBe(before); // the cached token is dropped with the old key
      expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString())).toMatchObject({ kid: 'gateway/2026-02' });
      await expect(verifier.verify(before)).resolves.toMatchObject({ caller: 'gateway' });
      await expect(verifier.verify(after)).resolves.toMatchObject({ caller: 'gateway' });

      // 3. the old public key goes; tokens it signed are refused.
      await writeFile(setPath, JSON.stringify({ keys: [k2.publicJwk] }));
      clock.advance(1000);
      await expect(verifier.verify(before)).rejects.toMatchObject({ reason: 'unknown_kid' });
      await expect(verifier.verify(await minter.mint('memory', 'alice'))).resolves.toMatchObject({ caller: 'gateway' });

      // A signing key for another service, or a broken file, is refused and the current key kept.
      await writeFile(signingPath, JSON.stringify((await generateServiceKey('soul', 'x')).privateJwk));
      clock.advance(1000);
      await expect(verifier.verify(await minter.mint('memory', 'bob'))).resolves.toMatchObject({ caller: 'gateway' });
      expect(errors.map((e) => e.message)).toEqual([`file ${signingPath}: kid soul/x must be gateway/<key id>`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuse a public key or a foreign key as a signing key, without printing it', async () => {
    const pair = await generateServiceKey('gateway', 'k');
    await expect(createStaticSigningKey(pair.publicJwk, 'gateway')).rejects.toThrow(/not a private Ed25519 JWK/);
    const error = (await createStaticSigningKey(pair.privateJwk, 'soul').catch((caught: unknown) => caught)) as Error;
    expect(error.message).toBe('the soul signing key: kid gateway/k must be soul/<key id>');
    expect(error.message).not.toContain(pair.privateJwk.d as string);
    await expect(createStaticSigningKey({ ...pair.privateJwk, d: 'AAAA' } as JWK, 'gateway')).rejects.toThrow(/not a valid Ed25519 key/);
  });

  it('sign once for concurrent calls and keep at most maxCachedTokens, dropping the least recently used', async () => {
    const ring = await generateServiceKeyring(['gateway']);
    const clock = createManualClock();
    const onSigned = vi.fn();
    const mint = createServiceTokenMinter({
      self: 'gateway',
      signingKey: await createStaticSigningKey(ring.privateJwks.gateway, 'gateway'),
      clock,
      maxCachedTokens: 2,
      onSigned,
    });
    const tokens = await Promise.all(Array.from({ length: 5 }, () => mint.mint('memory', 'alice')));
    expect(new Set(tokens).size).toBe(1);
    expect(onSigned).toHaveBeenCalledTimes(1);
    const bob = await mint.mint('memory', 'bob');
    clock.advance(1000);
    expect(await mint.mint('memory', 'alice')).toBe(tokens[0]); // a hit: alice is now the most recent
    expect(await mint.mint('memory', 'bob')).toBe(bob); // a hit: bob is now the most recent
    await mint.mint('memory', 'carol'); // evicts alice
    expect(onSigned).toHaveBeenCalledTimes(3);
    expect(await mint.mint('memory', 'bob')).toBe(bob);
    const alice = await mint.mint('memory', 'alice');
    expect(alice).not.toBe(tokens[0]);
    expect(payloadOf(alice).iat).toBe(payloadOf(tokens[0]!).iat! + 1);
    expect(onSigned).toHaveBeenCalledTimes(4);
    expect(onSigned).toHaveBeenLastCalledWith('memory');
  });
});
