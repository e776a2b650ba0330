import { systemClock, type Clock } from '@jamey/core';
import { jwtVerify } from 'jose';
import { AuthError } from './errors.js';
import { translateVerifyError } from './jose-errors.js';
import type { VerificationKeys } from './keys.js';
import { DevelopmentKeyError, type RuntimeMode } from './mode.js';
import { scopesFromClaims, type Scope } from './scopes.js';

/** The default largest token accepted, in bytes: 8 KiB. */
export const DEFAULT_MAX_TOKEN_BYTES = 8 * 1024;

/** An authenticated end user, from a verified token. */
export interface Principal {
  /** The `sub` claim. */
  readonly subject: string;
  /** The `iss` claim. */
  readonly issuer: string;
  /** The Jamey scopes granted; unknown scopes in the token are left out. */
  readonly scopes: ReadonlySet<Scope>;
  /** When the token expires, ms since the epoch. */
  readonly expiresAt: number;
  /** The `client_id` (RFC 9068) or `azp` claim, when present. */
  readonly clientId?: string;
}

/** Options of {@link createUserTokenVerifier}. */
export interface UserTokenVerifierOptions {
  /** The runtime mode; development keys (HS256, `jamey-dev-` kids) are refused outside `embedded`. */
  readonly mode: RuntimeMode;
  /** The accepted `iss` value(s). */
  readonly issuer: string | readonly string[];
  /** The accepted `aud` value(s): the token must name at least one. */
  readonly audience: string | readonly string[];
  /** Where the verification keys come from. */
  readonly keys: VerificationKeys;
  /** Tolerance for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  readonly clockToleranceSec?: number;
  /** The largest token accepted, in bytes, checked before any parsing. Default 8192. */
  readonly maxTokenBytes?: number;
  /** The time tokens are checked against. Default the system clock. */
  readonly clock?: Clock;
}

/** Verifies end-user JWTs. */
export interface UserTokenVerifier {
  /**
   * Verifies a compact JWT and returns who it is.
   * @throws {AuthError} (401) with the exact reason; `DEPENDENCY_UNAVAILABLE` when the key set
   *   cannot be loaded.
   */
  verify(token: string): Promise<Principal>;
  /** {@link extractBearerToken} then {@link verify}. */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

/**
 * Creates a verifier of end-user tokens. Signatures are checked against `keys`, with each key
 * pinned to its algorithm, so `alg: none` and HS256-with-the-public-key are refused before any
 * key is looked up. `iss`, `aud`, `exp` and `sub` are required; `exp`, `nbf` and `iat` are
 * checked against `clock` with `clockToleranceSec` of slack.
 */
export function createUserTokenVerifier(options: UserTokenVerifierOptions): UserTokenVerifier {
  const clock = options.clock ?? systemClock;
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const clockTolerance = options.clockToleranceSec ?? 30;
  const issuer = [options.issuer].flat();
  const audience = [options.audience].flat();
  if (issuer.length === 0 || issuer.some((value) => value.length === 0)) throw new Error('the user token verifier needs an issuer');
  if (audience.length === 0 || audience.some((value) => value.length === 0)) throw new Error('the user token verifier needs an audience');

  const verify = async (token: string): Promise<Principal> => {
    checkShape(token, maxTokenBytes);
    const keys = await options.keys.current().catch((error: unknown) => {
      throw translateVerifyError(error, 'user token keys');
    });
    if (keys.development && options.mode !== 'embedded') {
      // Caught at startup by assertNoDevKeysOutsideEmbedded; this guards a key set rotated later.
      throw new DevelopmentKeyError([`${options.keys.description} holds a development key`]);
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        algorithms: [...keys.algorithms],
        issuer,
        audience,
        clockTolerance,
        currentDate: new Date(clock.now()),
        requiredClaims: ['iss', 'aud', 'exp', 'sub'],
      }));
    } catch (error) {
      throw translateVerifyError(error, 'user token keys');
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new AuthError('invalid_claims');
    const clientId = typeof payload['client_id'] === 'string' ? payload['client_id'] : typeof payload['azp'] === 'string' ? payload['azp'] : undefined;
    return Object.freeze({
      subject: payload.sub,
      issuer: payload.iss as string,
      scopes: scopesFromClaims(payload),
      expiresAt: (payload.exp as number) * 1000,
      ...(clientId === undefined ? {} : { clientId }),
    });
  };

  return {
    verify,
    authenticate: (authorization) => {
      try {
        return verify(extractBearerToken(authorization));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme is
 * case-insensitive).
 * @throws {AuthError} `missing` when there is no header or another scheme, `malformed` when the
 *   bearer value is empty or not one token.
 */
export function extractBearerToken(authorization: string | undefined): string {
  if (authorization === undefined) throw new AuthError('missing');
  const match = /^\s*bearer(?:\s+(.*))?$/is.exec(authorization);
  if (match === null) throw new AuthError('missing');
  const token = (match[1] ?? '').trim();
  if (token.length === 0 || /\s/.test(token)) throw new AuthError('malformed');
  return token;
}

/** Size and shape checks done before any decoding. */
export function checkShape(token: string, maxTokenBytes: number): void {
  if (Buffer.byteLength(token, 'utf8') > maxTokenBytes) throw new AuthError('too_large');
  // Three base64url parts: header.payload.signature. Anything else (JWE, JSON, junk) is refused here.
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw new AuthError('malformed');
}
