import { inspect } from 'node:util';
import { createManualClock, isJameyError } from '@jamey/core';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError, bearerChallenge, type AuthErrorReason } from './errors.js';
import { createHs256Keys, createKeySetKeys, createStaticKeys, type VerificationKeys } from './keys.js';
import { DevelopmentKeyError } from './mode.js';
import { requireScopes } from './scopes.js';
import { createStaticSecretSource } from './secret.js';
import { createTestKey, jwksOf, seconds, signWith, unsecuredToken, withPayload, type TestKey } from './test-support/tokens.js';
import { createUserTokenVerifier, extractBearerToken, type UserTokenVerifierOptions } from './user-tokens.js';

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'jamey-api';

/** What the verifier threw, checked to be an AuthError. */
async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe('user token verification: the JWT attack suite', () => {
  const clock = createManualClock();
  let signer: TestKey;
  let other: TestKey;
  let keys: VerificationKeys;
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'alice',
    scope: 'memory:read soul:read openid',
    iat: seconds(clock.now()),
    exp: seconds(clock.now()) + 600,
    ...extra,
  });
  const verifier = (options: Partial<UserTokenVerifierOptions> = {}) =>
    createUserTokenVerifier({ mode: 'kubernetes', issuer: ISSUER, audience: AUDIENCE, keys, clock, ...options });

  beforeAll(async () => {
    signer = await createTestKey('ES256', 'idp-2026-01');
    other = await createTestKey('ES256', 'attacker');
    keys = await createStaticKeys(jwksOf(signer, await createTestKey('RS256', 'idp-rsa')));
  });

  it('accepts a well-formed token and returns the principal with its Jamey scopes only', async () => {
    const principal = await verifier().authenticate(`Bearer ${await signWith(signer, claims({ client_id: 'cli' }))}`);
    expect(principal).toEqual({
      subject: 'alice',
      issuer: ISSUER,
      scopes: new Set(['memory:read', 'soul:read']),
      expiresAt: (seconds(clock.now()) + 600) * 1000,
      clientId: 'cli',
    });
  });

  const cases: [string, () => Promise<string>, AuthErrorReason][] = [
    ['alg: none', async () => unsecuredToken(claims()), 'alg_not_allowed'],
    ['alg: none written as "None"', async () => unsecuredToken(claims(), { alg: 'None', kid: 'idp-2026-01' }), 'alg_not_allowed'],
    [
      'HS256 signed with the public key (key confusion)',
      async () =>
        new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: signer.kid }).sign(new TextEncoder().encode(signer.publicPem)),
      'alg_not_allowed',
    ],
    ['an RS256 header naming the ES256 key', async () => signWith(await createTestKey('RS256', 'x'), claims(), { kid: signer.kid }), 'unknown_kid'],
    ['an expired token', async () => signWith(signer, claims({ exp: seconds(clock.now()) - 31 })), 'expired'],
    ['a token whose nbf is in the future', async () => signWith(signer, claims({ nbf: seconds(clock.now()) + 31 })), 'not_yet_valid'],
    ['the wrong iss', async () => signWith(signer, claims({ iss: 'https://evil.example.test/' })), 'wrong_issuer'],
    ['the wrong aud', async () => signWith(signer, claims({ aud: 'another-api' })), 'wrong_audience'],
    ['a tampered payload', async () => withPayload(await signWith(signer, claims()), claims({ scope: 'admin' })), 'bad_signature'],
    ['a token signed by a key not in the set but naming its kid', async () => signWith(other, claims(), { kid: signer.kid }), 'bad_signature'],
    ['a kid not in the JWKS', async () => signWith(other, claims()), 'unknown_kid'],
    ['a truncated token (signature cut in half)', async () => truncate(await signWith(signer, claims()), 43), 'bad_signature'],
    ['a truncated token (signature gone)', async () => (await signWith(signer, claims())).replace(/\.[^.]*$/, '.'), 'bad_signature'],
    ['a truncated token (two parts)', async () => (await signWith(signer, claims())).replace(/\.[^.]*$/, ''), 'malformed'],
    ['a signature one byte too long', async () => `${await signWith(signer, claims())}AA`, 'bad_signature'],
    ['a signature that does not decode (length 1 mod 4)', async () => `${await signWith(signer, claims())}AAA`, 'malformed'],
    ['an oversized token', async () => signWith(signer, claims({ padding: 'x'.repeat(8192) })), 'too_large'],
    ['a token without exp', async () => signWith(signer, claims({ exp: undefined })), 'invalid_claims'],
    ['a token without sub', async () => signWith(signer, claims({ sub: undefined })), 'invalid_claims'],
    ['a scope claim that is not a string', async () => signWith(signer, claims({ scope: 7 })), 'invalid_claims'],
    ['a JWE-shaped token', async () => 'a.b.c.d.e', 'malformed'],
    ['garbage', async () => 'not a token', 'malformed'],
  ];

  it.each(cases)('refuses %s with 401 and its exact reason', async (_name, makeToken, reason) => {
    const token = await makeToken();
    const error = await refusal(verifier().verify(token));
    expect(error.reason).toBe(reason);
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.httpStatus).toBe(401);
    expect(bearerChallenge(error, 'jamey')).toBe(`Bearer realm="jamey", error="invalid_token", error_description="${error.message}"`);
    // Nothing of the token reaches the error, whichever way it is printed.
    for (const part of token.split('.').filter((piece) => piece.length > 8)) {
      expect(`${error.message} ${JSON.stringify(error)} ${inspect(error)}`).not.toContain(part);
    }
  });

  it('accepts exp and nbf within the 30 s tolerance, and honours a configured tolerance', async () => {
    const late = await signWith(signer, claims({ exp: seconds(clock.now()) - 29 }));
    const early = await signWith(signer, claims({ nbf: seconds(clock.now()) + 29 }));
    await expect(verifier().verify(late)).resolves.toMatchObject({ subject: 'alice' });
    await expect(verifier().verify(early)).resolves.toMatchObject({ subject: 'alice' });
    expect((await refusal(verifier({ clockToleranceSec: 5 }).verify(late))).reason).toBe('expired');
  });

  it('follows the injected clock: a token expires when the clock passes exp', async () => {
    const start = clock.now();
    const token = await signWith(signer, claims({ exp: seconds(start) + 60 }));
    await expect(verifier().verify(token)).resolves.toBeDefined();
    clock.advance(91_000);
    expect((await refusal(verifier().verify(token))).reason).toBe('expired');
    clock.set(start);
  });

  it('refuses an oversized token before asking for any key', async () => {
    const current = vi.fn(() => keys.current());
    const error = await refusal(verifier({ keys: { description: 'spy', current } }).verify('a'.repeat(8193)));
    expect(error.reason).toBe('too_large');
    expect(current).not.toHaveBeenCalled();
    expect((await refusal(verifier({ maxTokenBytes: 100 }).verify(await signWith(signer, claims())))).reason).toBe('too_large');
  });

  it('accepts any of several issuers and audiences when configured', async () => {
    const token = await signWith(signer, claims({ iss: 'https://second.example.test/', aud: ['other', AUDIENCE] }));
    await expect(verifier({ issuer: [ISSUER, 'https://second.example.test/'] }).verify(token)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('answers a missing scope with 403 insufficient_scope naming the missing scopes', async () => {
    const principal = await verifier().verify(await signWith(signer, claims()));
    expect(() => requireScopes(principal, ['memory:read'])).not.toThrow();
    let error: unknown;
    try {
      requireScopes(principal, ['memory:read', 'memory:write', 'admin']);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AuthError);
    const refused = error as AuthError;
    expect([refused.reason, refused.code, refused.httpStatus, refused.missingScopes]).toEqual([
      'insufficient_scope',
      'PERMISSION_DENIED',
      403,
      ['memory:write', 'admin'],
    ]);
    expect(bearerChallenge(refused, 'jamey')).toBe(
      'Bearer realm="jamey", error="insufficient_scope", error_description="The token lacks a required scope", scope="memory:write admin"',
    );
  });
});

describe('the Authorization header', () => {
  it('takes the token of a Bearer header, whatever the scheme case', () => {
    expect(extractBearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(extractBearerToken('bearer   abc.def.ghi ')).toBe('abc.def.ghi');
  });

  it.each([
    [undefined, 'missing'],
    ['Basic dXNlcjpwYXNz', 'missing'],
    ['Bearer', 'malformed'],
    ['Bearer ', 'malformed'],
    ['Bearer a.b.c d.e.f', 'malformed'],
  ] as const)('%j is refused as %s', (header, reason) => {
    expect(() => extractBearerToken(header)).toThrow(expect.objectContaining({ reason }));
  });

  it('challenges a request without a token with the realm only (RFC 6750 §3.1)', async () => {
    const verifier = createUserTokenVerifier({
      mode: 'kubernetes',
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: await createStaticKeys(jwksOf(await createTestKey('EdDSA', 'k'))),
    });
    const error = await refusal(verifier.authenticate(undefined));
    expect([error.reason, error.httpStatus, bearerChallenge(error, 'jamey "api"')]).toEqual(['missing', 401, 'Bearer realm="jamey api"']);
  });
});

describe.each(['RS256', 'ES256', 'EdDSA'] as const)('keys pinned to %s', (alg) => {
  it('accepts a token from a PEM public key and refuses every other algorithm', async () => {
    const clock = createManualClock();
    const key = await createTestKey(alg, 'ignored-for-pem');
    const verifier = createUserTokenVerifier({
      mode: 'infrastructure',
      issuer: ISSUER,
      audience: AUDIENCE,
      clock,
      keys: createKeySetKeys({ source: createStaticSecretSource(key.publicPem, 'test pem'), algorithm: alg }),
    });
    const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'bob', exp: seconds(clock.now()) + 60 };
    await expect(verifier.verify(await signWith(key, payload))).resolves.toMatchObject({ subject: 'bob', scopes: new Set() });
    for (const otherAlg of (['RS256', 'ES256', 'EdDSA'] as const).filter((candidate) => candidate !== alg)) {
      const impostor = await createTestKey(otherAlg, 'ignored-for-pem');
      expect((await refusal(verifier.verify(await signWith(impostor, payload)))).reason).toBe('alg_not_allowed');
    }
  });
});

describe('development keys', () => {
  const secret = createStaticSecretSource('a development secret of at least 32 bytes', 'test secret');
  const hsToken = (clockMs: number) =>
    new SignJWT({ scope: 'memory:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('dev')
      .setExpirationTime(seconds(clockMs) + 60)
      .sign(new TextEncoder().encode('a development secret of at least 32 bytes'));

  it('accepts HS256 in embedded mode only', async () => {
    const clock = createManualClock();
    const options = { issuer: ISSUER, audience: AUDIENCE, keys: createHs256Keys(secret), clock };
    const token = await hsToken(clock.now());
    await expect(createUserTokenVerifier({ ...options, mode: 'embedded' }).verify(token)).resolves.toMatchObject({ subject: 'dev' });
    await expect(createUserTokenVerifier({ ...options, mode: 'kubernetes' }).verify(token)).rejects.toBeInstanceOf(DevelopmentKeyError);
  });

  it('refuses an HS256 secret shorter than 32 bytes without printing it', async () => {
    const verifier = createUserTokenVerifier({
      mode: 'embedded',
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: createHs256Keys(createStaticSecretSource('short-secret', 'test secret')),
    });
    const error = await verifier.verify(await hsToken(Date.now())).catch((caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(Error);
    expect(isJameyError(error)).toBe(false);
    expect((error as Error).message).toContain('shorter than 32 bytes');
    expect((error as Error).message).not.toContain('short-secret');
  });

  it('refuses a key set holding a jamey-dev- key outside embedded mode', async () => {
    const devKey = await createTestKey('EdDSA', 'jamey-dev-0123456789abcdef');
    const options = { issuer: ISSUER, audience: AUDIENCE, keys: await createStaticKeys(jwksOf(devKey)) };
    const token = await signWith(devKey, { iss: ISSUER, aud: AUDIENCE, sub: 'dev', exp: seconds(Date.now()) + 60 });
    await expect(createUserTokenVerifier({ ...options, mode: 'embedded' }).verify(token)).resolves.toMatchObject({ subject: 'dev' });
    await expect(createUserTokenVerifier({ ...options, mode: 'infrastructure' }).verify(token)).rejects.toBeInstanceOf(DevelopmentKeyError);
  });
});

function truncate(token: string, characters: number): string {
  return token.slice(0, token.length - characters);
}
