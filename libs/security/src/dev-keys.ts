import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '@jamey/core';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { DEV_KEY_ID_PREFIX } from './keys.js';
import { DEV_AUDIENCE, DEV_ISSUER } from './mode.js';
import type { Scope } from './scopes.js';

/** The embedded host's development signing key (Ed25519). */
export interface DevSigningKey {
  /** `jamey-dev-` and the start of the key's RFC 7638 thumbprint. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** The public half, for the embedded gateway's verifier. */
  readonly publicJwks: JSONWebKeySet;
  /** The file holding the private key. */
  readonly path: string;
}

/** Where the development key lives under the data directory. */
export function devKeyPath(dataDir: string): string {
  return join(dataDir, 'security', 'dev-token-key.json');
}

/**
 * Loads the development key from `<dataDir>/security/dev-token-key.json`, creating it on first
 * use (mode 0600, in a 0700 directory). Two processes racing to create it end up with the same
 * key: the file appears atomically (a hard link of a complete temporary file) and the loser
 * reads the winner's.
 * @throws {Error} when the file is readable by group or others, or is not a development key.
 */
export async function ensureDevSigningKey(dataDir: string): Promise<DevSigningKey> {
  const path = devKeyPath(dataDir);
  await mkdir(join(dataDir, 'security'), { recursive: true, mode: 0o700 });
  try {
    return await loadDevKey(path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = DEV_KEY_ID_PREFIX + (await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x! })).slice(0, 16);
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...jwk, kid, alg: 'EdDSA', use: 'sig' }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await chmod(temporary, 0o600);
    await link(temporary, path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  return loadDevKey(path);
}

async function loadDevKey(path: string): Promise<DevSigningKey> {
  const info = await stat(path);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new Error(`${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`);
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(path, 'utf8')) as JWK;
  } catch {
    throw new Error(`${path} is not a JSON key; delete it to have a new development key generated`);
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string' || typeof jwk.x !== 'string' || !jwk.kid?.startsWith(DEV_KEY_ID_PREFIX)) {
    throw new Error(`${path} is not a Jamey development key; delete it to have a new one generated`);
  }
  const privateKey = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
  const publicJwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwk.kid, alg: 'EdDSA', use: 'sig' };
  return Object.freeze({ kid: jwk.kid, privateKey, publicJwks: { keys: [publicJwk] }, path });
}

/** What a development token says. */
export interface DevTokenClaims {
  /** Granted scopes. */
  readonly scopes: readonly Scope[];
  /** The user. Default `developer`. */
  readonly subject?: string;
  /** Lifetime in seconds. Default 3600. */
  readonly ttlSec?: number;
  /** Default {@link DEV_AUDIENCE}. */
  readonly audience?: string;
  /** Default the system clock. */
  readonly clock?: Clock;
}

/** Signs a development token (`iss` {@link DEV_ISSUER}) with the development key. */
export async function mintDevToken(key: DevSigningKey, claims: DevTokenClaims): Promise<string> {
  const now = Math.floor((claims.clock ?? systemClock).now() / 1000);
  return new SignJWT({ scope: claims.scopes.join(' ') })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setSubject(claims.subject ?? 'developer')
    .setAudience(claims.audience ?? DEV_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.ttlSec ?? 3600))
    .sign(key.privateKey);
}
