import { createHash } from 'node:crypto';
import type { Clock } from '@jamey/core';
import { extractBearerToken, type Principal, type UserTokenVerifier } from '@jamey/security';

/** Options of {@link cacheVerifiedTokens}. */
export interface TokenCacheOptions {
  readonly clock: Clock;
  /** How long a verified token is trusted without checking it again, ms. Default 30 000. */
  readonly ttlMs?: number;
  /** Most tokens kept; the least recently used goes first. Default 10 000. */
  readonly maxEntries?: number;
}

/**
 * Remembers tokens that verified, so a client that sends the same token on every request costs
 * one signature check per `ttlMs`, not one per request (WebCrypto's verify runs on the libuv
 * thread pool, which a loaded process shares with everything else).
 *
 * Only successes are kept, never past the token's own `exp`, and by the SHA-256 of the token,
 * not the token. The price: a key removed from the key set keeps its already-seen tokens working
 * for up to `ttlMs` (the JWKS itself is cached for 10 minutes anyway), and, during a key-set
 * outage, so do they.
 */
export function cacheVerifiedTokens(verifier: UserTokenVerifier, options: TokenCacheOptions): UserTokenVerifier {
  const ttlMs = options.ttlMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 10_000;
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recently used.
  const entries = new Map<string, { principal: Principal; until: number }>();

  const verify = async (token: string): Promise<Principal> => {
    const key = createHash('sha256').update(token).digest('base64url');
    const now = options.clock.now();
    const hit = entries.get(key);
    if (hit !== undefined) {
      entries.delete(key);
      if (hit.until > now) {
        entries.set(key, hit);
        return hit.principal;
      }
    }
    const principal = await verifier.verify(token);
    entries.set(key, { principal, until: Math.min(now + ttlMs, principal.expiresAt) });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    return principal;
  };

  return {
    verify,
    // The header is parsed as the verifier parses it; only the signature check is cached.
    authenticate: async (authorization) => verify(extractBearerToken(authorization)),
  };
}
