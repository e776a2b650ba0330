import { createManualClock, type ManualClock } from '@jamey/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthError } from './errors.js';
import { createJwksUrlKeys, KeyConfigError } from './keys.js';
import { createTestKey, jwksOf, seconds, signWith, startJwksServer, type JwksServer, type TestKey } from './test-support/tokens.js';
import { createUserTokenVerifier, type UserTokenVerifier } from './user-tokens.js';

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'jamey-api';
const START = Date.UTC(2026, 0, 1);

// jose times its JWKS cache with Date.now(), so the tests move the Date clock (only Date: the
// HTTP server and fetch keep real timers) together with the verifier's injected clock.
describe('keys from a JWKS URL served over real HTTP', () => {
  let server: JwksServer;
  let clock: ManualClock;
  let first: TestKey;
  let second: TestKey;
  let verifier: UserTokenVerifier;
  const advance = (ms: number) => {
    clock.advance(ms);
    vi.setSystemTime(clock.now());
  };
  const token = (key: TestKey) =>
    signWith(key, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', scope: 'memory:read', exp: seconds(clock.now()) + 3600 });
  const reasonOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof AuthError ? error.reason : `${(error as Error).name}: ${(error as { code?: string }).code}`),
    );

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    clock = createManualClock(START);
    vi.setSystemTime(START);
    first = await createTestKey('RS256', 'rsa-2026-01');
    second = await createTestKey('ES256', 'ec-2026-02');
    server = await startJwksServer(jwksOf(first));
    verifier = createUserTokenVerifier({
      mode: 'kubernetes',
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      keys: createJwksUrlKeys({ url: server.url, cacheMaxAgeMs: 600_000, cooldownMs: 30_000 }),
    });
  });

  afterEach(async () => {
    vi.useRealTimers();
    await server.close();
  });

  it('fetches once and serves later verifications from the cache', async () => {
    for (let i = 0; i < 5; i += 1) await expect(verifier.verify(await token(first))).resolves.toMatchObject({ subject: 'alice' });
    expect(server.fetches).toBe(1);
  });

  it('accepts a newly published kid after one refetch, and refetches at most once per cooldown for unknown kids', async () => {
    await verifier.verify(await token(first));
    const stranger = await createTestKey('ES256', 'never-published');
    // Past the cooldown an unknown kid triggers one refetch, then is refused.
    advance(31_000);
    expect(await reasonOf(verifier.verify(await token(stranger)))).toBe('unknown_kid');
    expect(server.fetches).toBe(2);
    // Within the cooldown, unknown kids are refused without hammering the provider.
    server.publish(jwksOf(first, second));
    expect(await reasonOf(verifier.verify(await token(second)))).toBe('unknown_kid');
    expect(await reasonOf(verifier.verify(await token(stranger)))).toBe('unknown_kid');
    expect(server.fetches).toBe(2);
    // Once the cooldown has passed, the new kid triggers a refetch and is accepted.
    advance(31_000);
    expect(await reasonOf(verifier.verify(await token(second)))).toBe('accepted');
    expect(server.fetches).toBe(3);
    expect(await reasonOf(verifier.verify(await token(first)))).toBe('accepted');
    expect(server.fetches).toBe(3);
  });

  it('refuses a removed key once the cache has expired, and not before', async () => {
    await verifier.verify(await token(first));
    server.publish(jwksOf(second));
    advance(599_000);
    expect(await reasonOf(verifier.verify(await token(first)))).toBe('accepted');
    expect(server.fetches).toBe(1);
    advance(2000);
    expect(await reasonOf(verifier.verify(await token(first)))).toBe('unknown_kid');
    expect(await reasonOf(verifier.verify(await token(second)))).toBe('accepted');
    expect(server.fetches).toBe(2);
  });

  it('answers DEPENDENCY_UNAVAILABLE, not 401, when the key set cannot be fetched', async () => {
    server.failWith(500);
    const error = await verifier.verify(await token(first)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'user token keys' } });
    expect(error).not.toBeInstanceOf(AuthError);
    server.failWith(undefined);
    await expect(verifier.verify(await token(first))).resolves.toMatchObject({ subject: 'alice' });
  });

  it('keeps using the last fetched key set while the provider is down, for staleIfErrorMs after that fetch', async () => {
    const stale: unknown[] = [];
    const tolerant = createUserTokenVerifier({
      mode: 'kubernetes',
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      keys: createJwksUrlKeys({ url: server.url, cacheMaxAgeMs: 600_000, staleIfErrorMs: 3_600_000, onStale: (error) => stale.push(error) }),
    });
    expect(await reasonOf(tolerant.verify(await token(first)))).toBe('accepted');
    server.failWith(503);
    // Past the cache's age the refetch fails; the key set fetched at START still answers.
    advance(601_000);
    expect(await reasonOf(tolerant.verify(await token(first)))).toBe('accepted');
    expect(stale).toHaveLength(1);
    // A kid it never held is still refused as unknown, not accepted and not a 503.
    const stranger = await createTestKey('ES256', 'never-published');
    expect(await reasonOf(tolerant.verify(await token(stranger)))).toBe('unknown_kid');
    // An hour after the last successful fetch, stale keys are no longer trusted.
    advance(3_000_000);
    const error = await tolerant.verify(await token(first)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    // Once the provider answers again, a fresh fetch resumes normal service.
    server.failWith(undefined);
    expect(await reasonOf(tolerant.verify(await token(first)))).toBe('accepted');
  });

  it('serves nothing stale when stale-if-error is off', async () => {
    const strict = createUserTokenVerifier({
      mode: 'kubernetes',
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      keys: createJwksUrlKeys({ url: server.url, cacheMaxAgeMs: 600_000, staleIfErrorMs: 0 }),
    });
    expect(await reasonOf(strict.verify(await token(first)))).toBe('accepted');
    await server.close();
    advance(601_000);
    const error = await strict.verify(await token(first)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    server = await startJwksServer(jwksOf(first));
  });

  it('answers DEPENDENCY_UNAVAILABLE when the provider is not listening', async () => {
    await server.close();
    const error = await verifier.verify(await token(first)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    server = await startJwksServer(jwksOf(first));
  });

  it('refuses a JWKS URL that is not https unless it is on loopback', () => {
    expect(() => createJwksUrlKeys({ url: 'http://idp.example.test/jwks.json' })).toThrow(KeyConfigError);
    expect(() => createJwksUrlKeys({ url: 'http://localhost:1/jwks.json' })).not.toThrow();
    expect(() => createJwksUrlKeys({ url: 'https://idp.example.test/jwks.json', algorithms: ['HS256' as 'RS256'] })).toThrow(/not accepted/);
  });
});
