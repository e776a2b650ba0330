import { systemClock, type Clock } from '@jamey/core';
import { callersOf, SERVICE_NAMES, type GrpcServiceName, type ServiceName } from '@jamey/topology';
import { jwtVerify, SignJWT } from 'jose';
import { AuthError } from './errors.js';
import { translateVerifyError } from './jose-errors.js';
import type { VerificationKeys } from './keys.js';
import { ownerOfKey, SERVICE_TOKEN_ALGORITHM, type ServiceSigningKey, type SigningKeySource } from './service-keys.js';
import { checkShape, DEFAULT_MAX_TOKEN_BYTES } from './user-tokens.js';

/** The JOSE `typ` of service tokens (RFC 8725 §3.11), so no other JWT passes for one. */
export const SERVICE_TOKEN_TYPE = 'jamey-svc+jwt';

/** The gRPC metadata key service tokens travel in (not `authorization`, which a mesh may claim for user JWTs). */
export const SERVICE_TOKEN_METADATA_KEY = 'x-jamey-service-token';

/** Options of {@link createServiceTokenMinter}. */
export interface ServiceTokenMinterOptions {
  /** The calling service: the token's `iss`. */
  readonly self: ServiceName;
  readonly signingKey: SigningKeySource;
  /** Token lifetime in seconds. Default 60. */
  readonly ttlSec?: number;
  /** A cached token is replaced when it has less than this left, in seconds. Default 20. */
  readonly renewBeforeSec?: number;
  /** Tokens kept per (callee, user) pair; the least recently used goes first. Default 1024. */
  readonly maxCachedTokens?: number;
  readonly clock?: Clock;
  /** Hears about each token actually signed (not cache hits), e.g. for a metric. */
  readonly onSigned?: (callee: GrpcServiceName) => void;
}

/** Mints service tokens for outgoing calls. */
export interface ServiceTokenMinter {
  /**
   * A token for a call to `callee` on behalf of `userSubject` (absent for the service's own
   * work). Reuses a cached token until `renewBeforeSec` before it expires, or until the
   * signing key rotates, so most calls do not sign.
   */
  mint(callee: GrpcServiceName, userSubject?: string): Promise<string>;
}

/**
 * Creates a minter of service tokens. A token says, following RFC 8693 §4.1 (`act`):
 * - `iss`: the calling service; `aud`: the callee, one value only;
 * - on behalf of a user: `sub` is the user's subject and `act: { sub: <caller> }` names the
 *   service acting for them;
 * - for the service's own work: `sub` is the caller itself and there is no `act`;
 * - `iat`/`exp`: a lifetime of `ttlSec` (60 s); header `typ` {@link SERVICE_TOKEN_TYPE},
 *   `alg` EdDSA, `kid` `<caller>/<key id>`.
 */
export function createServiceTokenMinter(options: ServiceTokenMinterOptions): ServiceTokenMinter {
  const clock = options.clock ?? systemClock;
  const ttlSec = options.ttlSec ?? 60;
  const renewBeforeSec = options.renewBeforeSec ?? 20;
  const maxCached = options.maxCachedTokens ?? 1024;
  if (!Number.isInteger(ttlSec) || ttlSec <= 0) throw new Error('ttlSec must be a positive whole number of seconds');
  if (renewBeforeSec < 0 || renewBeforeSec >= ttlSec) throw new Error('renewBeforeSec must be at least 0 and below ttlSec');
  const cache = new Map<string, { token: string; kid: string; renewAtMs: number }>();
  const inFlight = new Map<string, Promise<string>>();

  const sign = async (key: ServiceSigningKey, callee: GrpcServiceName, userSubject: string | undefined, cacheKey: string): Promise<string> => {
    const now = Math.floor(clock.now() / 1000);
    const claims = userSubject === undefined ? {} : { act: { sub: options.self } };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SERVICE_TOKEN_ALGORITHM, kid: key.kid, typ: SERVICE_TOKEN_TYPE })
      .setIssuer(options.self)
      .setSubject(userSubject ?? options.self)
      .setAudience(callee)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSec)
      .sign(key.key);
    cache.delete(cacheKey);
    cache.set(cacheKey, { token, kid: key.kid, renewAtMs: (now + ttlSec - renewBeforeSec) * 1000 });
    if (cache.size > maxCached) cache.delete(cache.keys().next().value!);
    options.onSigned?.(callee);
    return token;
  };

  return {
    mint: async (callee, userSubject) => {
      if (userSubject !== undefined && (userSubject.length === 0 || userSubject.length > 1024)) {
        throw new Error('a user subject must hold 1 to 1024 characters');
      }
      const key = await options.signingKey.current();
      const cacheKey = `${callee}\u0000${userSubject ?? ''}`;
      const cached = cache.get(cacheKey);
      if (cached !== undefined && cached.kid === key.kid && clock.now() < cached.renewAtMs) {
        cache.delete(cacheKey);
        cache.set(cacheKey, cached);
        return cached.token;
      }
      // Concurrent calls for the same pair share one signature.
      const flightKey = `${cacheKey}\u0000${key.kid}`;
      let pending = inFlight.get(flightKey);
      if (pending === undefined) {
        pending = sign(key, callee, userSubject, cacheKey).finally(() => inFlight.delete(flightKey));
        inFlight.set(flightKey, pending);
      }
      return pending;
    },
  };
}

/** Who is calling, from a verified service token. */
export interface ServiceCaller {
  /** The calling service. */
  readonly caller: ServiceName;
  /** The end user the call is made for; undefined for a service's own work. */
  readonly userSubject?: string;
  /** When the token expires, ms since the epoch. */
  readonly expiresAt: number;
}

/** Options of {@link createServiceTokenVerifier}. */
export interface ServiceTokenVerifierOptions {
  /** The service verifying: tokens must name it as their only audience. */
  readonly self: GrpcServiceName;
  /** The public keys of every service (a JWKS; current and previous keys during rotation). */
  readonly keys: VerificationKeys;
  /** Who may call; default the callers of `self` in the topology's call graph. */
  readonly allowedCallers?: readonly ServiceName[];
  /** Tolerance for `exp`, `nbf` and `iat`, in seconds. Default 10. */
  readonly clockToleranceSec?: number;
  /** Tokens living longer than this (`exp - iat`) are refused, in seconds. Default 300. */
  readonly maxLifetimeSec?: number;
  /** Default 8192 bytes. */
  readonly maxTokenBytes?: number;
  readonly clock?: Clock;
}

/** Verifies incoming service tokens. */
export interface ServiceTokenVerifier {
  /**
   * Verifies `token` (undefined when the call carried none).
   * @throws {AuthError} `UNAUTHENTICATED` for a missing or invalid token or an unknown caller,
   *   `PERMISSION_DENIED` (`caller_not_allowed`) for a valid caller not on the allow-list.
   */
  verify(token: string | undefined): Promise<ServiceCaller>;
}

/** Creates the verifier a service's gRPC server interceptor calls before any handler. */
export function createServiceTokenVerifier(options: ServiceTokenVerifierOptions): ServiceTokenVerifier {
  const clock = options.clock ?? systemClock;
  const allowed = new Set<string>(options.allowedCallers ?? callersOf(options.self));
  const maxLifetimeSec = options.maxLifetimeSec ?? 300;
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const dependency = 'service token keys';

  return {
    verify: async (token) => {
      if (token === undefined || token.length === 0) throw new AuthError('missing');
      checkShape(token, maxTokenBytes);
      let verified;
      try {
        const keys = await options.keys.current();
        verified = await jwtVerify(token, keys.getKey, {
          algorithms: [SERVICE_TOKEN_ALGORITHM],
          audience: options.self,
          typ: SERVICE_TOKEN_TYPE,
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
          clockTolerance: options.clockToleranceSec ?? 10,
          currentDate: new Date(clock.now()),
        });
      } catch (error) {
        throw translateVerifyError(error, dependency);
      }
      const { payload, protectedHeader } = verified;
      // Exactly one audience: a token for several services could be replayed to each of them.
      if (payload.aud !== options.self && !(Array.isArray(payload.aud) && payload.aud.length === 1)) throw new AuthError('wrong_audience');
      const caller = payload.iss as string;
      if (!(SERVICE_NAMES as readonly string[]).includes(caller)) throw new AuthError('unknown_caller');
      // Signed with a key that belongs to another service: a forged identity.
      if (ownerOfKey(protectedHeader.kid) !== caller) throw new AuthError('bad_signature');
      if ((payload.exp as number) - (payload.iat as number) > maxLifetimeSec) throw new AuthError('invalid_claims');
      const act = payload['act'] as { sub?: unknown } | undefined;
      let userSubject: string | undefined;
      if (act === undefined) {
        if (payload.sub !== caller) throw new AuthError('invalid_claims');
      } else {
        if (typeof act !== 'object' || act === null || act.sub !== caller) throw new AuthError('invalid_claims');
        userSubject = payload.sub as string;
      }
      if (!allowed.has(caller)) throw new AuthError('caller_not_allowed');
      return Object.freeze({ caller: caller as ServiceName, expiresAt: (payload.exp as number) * 1000, ...(userSubject === undefined ? {} : { userSubject }) });
    },
  };
}
