/**
 * User tokens for gateway tests: one Ed25519 key per test process, a verifier that trusts it,
 * and tokens minted with `jose` exactly as an identity provider would.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '@jamey/core';
import { createStaticKeys, createUserTokenVerifier, SCOPE_NAMES, type Scope, type UserTokenVerifier } from '@jamey/security';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWTPayload } from 'jose';

/** The issuer and audience the test verifier accepts. */
export const TEST_ISSUER = 'https://idp.test.jamey.io/';
export const TEST_AUDIENCE = 'jamey-api';
export const TEST_KEY_ID = 'gateway-test-1';

/** The test signing key: the private half signs, the JWKS verifies. */
export interface TestSigningKey {
  readonly privateKey: CryptoKey;
  readonly jwks: JSONWebKeySet;
}

let signingKey: Promise<TestSigningKey> | undefined;

/** The process's test key, generated on first use. */
export function testSigningKey(): Promise<TestSigningKey> {
  signingKey ??= (async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    return { privateKey, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: TEST_KEY_ID, alg: 'EdDSA', use: 'sig' }] } };
  })();
  return signingKey;
}

/** What {@link mintTestToken} puts in a token. */
export interface TestTokenOptions {
  /** Default: every scope. */
  readonly scopes?: readonly Scope[];
  /** Default `test-user`. */
  readonly subject?: string;
  /** Default one hour. */
  readonly ttlSec?: number;
  /** Added to (or overriding) the standard claims. */
  readonly claims?: JWTPayload;
  /** The time the token is issued at. Default the system clock. */
  readonly clock?: Clock;
}

/** A token from the test key, valid for {@link createTestVerifier}'s verifier. */
export async function mintTestToken(options: TestTokenOptions = {}): Promise<string> {
  const key = await testSigningKey();
  const now = Math.floor((options.clock ?? systemClock).now() / 1000);
  return new SignJWT({
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    sub: options.subject ?? 'test-user',
    iat: now,
    exp: now + (options.ttlSec ?? 3600),
    scope: (options.scopes ?? SCOPE_NAMES).join(' '),
    ...options.claims,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: TEST_KEY_ID, typ: 'at+jwt' })
    .sign(key.privateKey);
}

/** `Authorization` headers carrying a test token. */
export async function bearer(options: TestTokenOptions = {}): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await mintTestToken(options)}` };
}

/**
 * A verifier that trusts the test key, usable at once: the key is generated on the first call.
 * Mode `infrastructure`, as in production.
 */
export function createTestVerifier(clock: Clock = systemClock): UserTokenVerifier {
  const verifier = testSigningKey().then(async (key) =>
    createUserTokenVerifier({
      mode: 'infrastructure',
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      keys: await createStaticKeys(key.jwks, 'the test key'),
      clock,
    }),
  );
  return {
    verify: async (token) => (await verifier).verify(token),
    authenticate: async (header) => (await verifier).authenticate(header),
  };
}

/**
 * The `GATEWAY_AUTH_*` variables of a gateway that trusts the test key, read from a JWKS file
 * (written to a new temporary folder), as `startGateway` tests and the real processes use it.
 */
export async function testAuthEnv(): Promise<Record<string, string>> {
  const file = join(await mkdtemp(join(tmpdir(), 'jamey-gateway-auth-')), 'user-token-keys.jwks');
  await writeFile(file, JSON.stringify((await testSigningKey()).jwks), { mode: 0o600 });
  return { GATEWAY_AUTH_ISSUER: TEST_ISSUER, GATEWAY_AUTH_AUDIENCE: TEST_AUDIENCE, GATEWAY_AUTH_KEY_FILE: file };
}
