import { createLocalJWKSet, createRemoteJWKSet, errors, exportJWK, jwksCache, importJWK, importSPKI, importX509, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import { Secret, type SecretSource } from './secret.js';

/** The asymmetric algorithms user and service tokens may be signed with. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** Key ids starting with this mark development keys, which only embedded mode accepts. */
export const DEV_KEY_ID_PREFIX = 'jamey-dev-';

/** The keys a verifier uses right now. */
export interface KeyResolver {
  /** The algorithms accepted, each pinned to its keys: a token with any other `alg` is refused first. */
  readonly algorithms: readonly string[];
  /** Finds the key for a token's protected header. */
  readonly getKey: JWTVerifyGetKey;
  /** True when any key is a development key (HS256 or a `jamey-dev-` key id). */
  readonly development: boolean;
}

/** Where a verifier's keys come from; may change over time (rotation). */
export interface VerificationKeys {
  /** For messages and events, e.g. `JWKS https://idp/jwks.json`. Never key material. */
  readonly description: string;
  /** The keys in force now; a rotated file or key set is picked up here. */
  current(): Promise<KeyResolver>;
}

/** Raised when a key file or key set is unusable. Names the source and the problem, never key material. */
export class KeyConfigError extends Error {
  override readonly name = 'KeyConfigError';
}

/** Options of {@link createJwksUrlKeys}. */
export interface JwksUrlKeysOptions {
  /** The identity provider's JWKS URL. `https:` unless the host is loopback. */
  readonly url: string | URL;
  /** Algorithms accepted. Default RS256, ES256 and EdDSA. A JWK with `alg` is pinned to it. */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
  /** How long a fetched key set is used before it is fetched again, in ms. Default 600 000 (10 min). */
  readonly cacheMaxAgeMs?: number;
  /** An unknown `kid` triggers a refetch, at most once per this interval, in ms. Default 30 000. */
  readonly cooldownMs?: number;
  /** Timeout of one fetch, in ms. Default 5000. */
  readonly timeoutMs?: number;
  /**
   * When the provider cannot be reached (timeout, connection refused, a non-200 answer, an
   * unparsable key set), the last key set fetched stays in use for this long after that fetch,
   * in ms (stale-if-error). Default 43 200 000 (12 h); 0 turns it off.
   */
  readonly staleIfErrorMs?: number;
  /** Hears about each verification served from the stale key set, with the fetch error. */
  readonly onStale?: (error: unknown) => void;
}

/** True for errors that mean "the key set could not be fetched", as opposed to "no key matches". */
function isFetchFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return false;
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  // A non-200 answer is a plain JOSEError; connection failures are fetch's TypeError with a cause.
  if (error instanceof errors.JOSEError) return error.code === errors.JOSEError.code;
  return error instanceof TypeError && (error as { cause?: unknown }).cause !== undefined;
}

/**
 * Keys from a remote JWKS (jose's `createRemoteJWKSet`): fetched on first use, cached for
 * `cacheMaxAgeMs`, and refetched when a token names a `kid` the cache does not hold (once per
 * `cooldownMs`), so a key the provider adds is accepted and a key it removes is refused once
 * the cache expires. When a refetch fails, the last fetched key set stays in use for
 * `staleIfErrorMs` after that fetch (stale-if-error): an identity provider outage does not turn
 * every request into a 503 at once. jose times the cache with the system clock, not an injected one.
 */
export function createJwksUrlKeys(options: JwksUrlKeysOptions): VerificationKeys & { reload(): Promise<void> } {
  const url = new URL(options.url);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new KeyConfigError(`the JWKS URL must use https (got ${url.protocol}//${url.host})`);
  }
  const algorithms = checkAlgorithms(options.algorithms ?? ASYMMETRIC_ALGORITHMS);
  // jose records each successful fetch here: the key set and when (`uat`, by Date.now()).
  const fetched: { jwks?: JSONWebKeySet; uat?: number } = {};
  const remote = createRemoteJWKSet(url, {
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
    timeoutDuration: options.timeoutMs ?? 5000,
    [jwksCache]: fetched as Record<string, never>,
  });
  const staleIfErrorMs = options.staleIfErrorMs ?? 43_200_000;
  let stale: { uat: number; getKey: ReturnType<typeof createLocalJWKSet> } | undefined;
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      const { jwks, uat } = fetched;
      if (!isFetchFailure(error) || jwks === undefined || uat === undefined || Date.now() - uat > staleIfErrorMs) throw error;
      if (stale?.uat !== uat) stale = { uat, getKey: createLocalJWKSet(jwks) };
      options.onStale?.(error);
      return stale.getKey(header, token);
    }
  };
  const resolver: KeyResolver = Object.freeze({ algorithms, getKey, development: false });
  return {
    description: `JWKS ${url.origin}${url.pathname}`,
    current: () => Promise.resolve(resolver),
    reload: () => remote.reload(),
  };
}

/** Options of {@link createKeySetKeys}. */
export interface KeySetKeysOptions {
  /** The file (or variable) holding a PEM public key or certificate, a JWK, or a JWKS. */
  readonly source: SecretSource;
  /** The algorithm of a PEM key, and of JWKs without `alg`. JWKs with `alg` keep their own. */
  readonly algorithm?: AsymmetricAlgorithm;
  /** Algorithms accepted at all. Default RS256, ES256 and EdDSA. */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
  /** Hears about a changed key set that could not be used; the previous one stays in force. */
  readonly onError?: (error: KeyConfigError) => void;
}

/**
 * Public keys from a file or variable: a PEM `PUBLIC KEY` or `CERTIFICATE` (one key, any `kid`
 * matches), a JWK, or a JWKS (several keys, each with its own `kid`: the current and the
 * previous key during a rotation). The source is re-read on its own schedule (a file: at most
 * once a second) and re-parsed when its content changes, so rotation needs no restart. A
 * broken new version is reported and the previous keys stay in force.
 *
 * Private or secret keys are refused, and every key is pinned to one algorithm.
 */
export function createKeySetKeys(options: KeySetKeysOptions): VerificationKeys {
  const allowed = checkAlgorithms(options.algorithms ?? ASYMMETRIC_ALGORITHMS);
  if (options.algorithm !== undefined && !allowed.includes(options.algorithm)) {
    throw new KeyConfigError(`algorithm ${options.algorithm} is not among the accepted ones (${allowed.join(', ')})`);
  }
  let parsedFrom: Secret | undefined;
  let resolver: KeyResolver | undefined;
  let pending: Promise<KeyResolver> | undefined;

  const refresh = async (secret: Secret): Promise<KeyResolver> => {
    try {
      const jwks = await parseKeySet(secret.reveal(), options.source.description, allowed, options.algorithm);
      resolver = resolverFor(jwks);
    } catch (error) {
      const problem = error instanceof KeyConfigError ? error : new KeyConfigError(`${options.source.description}: unusable key`);
      if (resolver === undefined) throw problem;
      options.onError?.(problem);
    }
    parsedFrom = secret;
    return resolver;
  };

  return {
    description: options.source.description,
    current: async () => {
      const secret = await options.source.read();
      if (resolver !== undefined && parsedFrom !== undefined && secret.equals(parsedFrom)) return resolver;
      pending ??= refresh(secret).finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}

/** A fixed JWKS of public keys, e.g. the embedded development key or keys generated in memory. */
export function createStaticKeys(jwks: JSONWebKeySet, description = 'static key set'): Promise<VerificationKeys> {
  return parseKeySet(JSON.stringify(jwks), description, ASYMMETRIC_ALGORITHMS, undefined).then((parsed) => {
    const resolver = resolverFor(parsed);
    return { description, current: () => Promise.resolve(resolver) };
  });
}

/**
 * HS256 with a shared secret: for development only. The user token verifier refuses it
 * unless the mode is embedded. The secret must be at least 32 bytes.
 */
export function createHs256Keys(source: SecretSource): VerificationKeys {
  return {
    description: `HS256 secret from ${source.description}`,
    current: async () => {
      const bytes = new TextEncoder().encode((await source.read()).reveal());
      if (bytes.length < 32) throw new KeyConfigError(`the HS256 secret from ${source.description} is shorter than 32 bytes`);
      return { algorithms: ['HS256'], getKey: () => bytes, development: true };
    },
  };
}

function resolverFor(jwks: JSONWebKeySet): KeyResolver {
  const local = createLocalJWKSet(jwks);
  // One key without a kid (a PEM file) answers whatever kid the token names.
  const anyKid = jwks.keys.length === 1 && jwks.keys[0]?.kid === undefined;
  const getKey: JWTVerifyGetKey = (header, token) => local(anyKid ? { ...header, kid: undefined } : header, token);
  return Object.freeze({
    algorithms: [...new Set(jwks.keys.map((jwk) => jwk.alg as string))],
    getKey,
    development: jwks.keys.some((jwk) => jwk.kid?.startsWith(DEV_KEY_ID_PREFIX) === true),
  });
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const;

/**
 * Parses a key set, checks every key and returns a JWKS whose every key has an `alg`.
 * @throws {KeyConfigError} naming the problem and the key's position or kid, never its material.
 */
export async function parseKeySet(
  text: string,
  description: string,
  allowed: readonly string[],
  algorithm: AsymmetricAlgorithm | undefined,
): Promise<JSONWebKeySet> {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return { keys: [await pemToJwk(trimmed, description, algorithm)] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new KeyConfigError(`${description}: neither PEM nor JSON`);
  }
  const record = parsed as { keys?: unknown; kty?: unknown } | null;
  const keys = Array.isArray(record?.keys) ? record.keys : typeof record?.kty === 'string' ? [record] : undefined;
  if (keys === undefined || keys.length === 0) throw new KeyConfigError(`${description}: expected a JWK or a JWKS with at least one key`);
  const kids = new Set<string>();
  const checked: JWK[] = [];
  for (const [index, raw] of keys.entries()) {
    const jwk = raw as JWK;
    const name = typeof jwk?.kid === 'string' ? `key ${jwk.kid}` : `key #${index}`;
    if (jwk === null || typeof jwk !== 'object' || typeof jwk.kty !== 'string') throw new KeyConfigError(`${description}: ${name} is not a JWK`);
    if (jwk.kty === 'oct' || PRIVATE_MEMBERS.some((member) => member in jwk)) {
      throw new KeyConfigError(`${description}: ${name} is a private or secret key; give only public keys`);
    }
    if (jwk.use !== undefined && jwk.use !== 'sig') throw new KeyConfigError(`${description}: ${name} is not a signing key (use ${jwk.use})`);
    const alg = jwk.alg ?? algorithm;
    if (alg === undefined) throw new KeyConfigError(`${description}: ${name} has no alg; add one or configure the algorithm`);
    if (!allowed.includes(alg)) throw new KeyConfigError(`${description}: ${name} has alg ${alg}; accepted: ${allowed.join(', ')}`);
    if (keys.length > 1) {
      if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) throw new KeyConfigError(`${description}: ${name} needs a kid in a set of several keys`);
      if (kids.has(jwk.kid)) throw new KeyConfigError(`${description}: kid ${jwk.kid} appears twice`);
      kids.add(jwk.kid);
    }
    try {
      await importJWK({ ...jwk, alg }, alg);
    } catch {
      throw new KeyConfigError(`${description}: ${name} is not a valid ${alg} key`);
    }
    checked.push({ ...jwk, alg });
  }
  return { keys: checked };
}

async function pemToJwk(pem: string, description: string, algorithm: AsymmetricAlgorithm | undefined): Promise<JWK> {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new KeyConfigError(`${description}: holds a private key; give the public key`);
  }
  if ((pem.match(/-----BEGIN /g) ?? []).length > 1) {
    throw new KeyConfigError(`${description}: holds several PEM blocks; use a JWKS to hold several keys`);
  }
  if (algorithm === undefined) throw new KeyConfigError(`${description}: a PEM key needs a configured algorithm`);
  try {
    const key = pem.startsWith('-----BEGIN CERTIFICATE-----')
      ? await importX509(pem, algorithm, { extractable: true })
      : await importSPKI(pem, algorithm, { extractable: true });
    return { ...(await exportJWK(key)), alg: algorithm };
  } catch {
    throw new KeyConfigError(`${description}: not a valid ${algorithm} public key`);
  }
}

function checkAlgorithms(algorithms: readonly string[]): readonly AsymmetricAlgorithm[] {
  if (algorithms.length === 0) throw new KeyConfigError('at least one algorithm must be accepted');
  for (const alg of algorithms) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new KeyConfigError(`algorithm ${alg} is not accepted; use ${ASYMMETRIC_ALGORITHMS.join(', ')}`);
    }
  }
  return Object.freeze([...algorithms]) as readonly AsymmetricAlgorithm[];
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
