import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { RedisClient } from '@jamey/cache';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimitExceededError } from '../problem.js';
import { createRateLimitStore } from './store.js';

/** The gateway's rate limit: at most `max` requests per `windowMs` per client (fixed windows). */
export interface RateLimitSettings {
  /** Requests a client may make per window (`JAMEY_RATE_LIMIT_MAX`). */
  readonly max: number;
  /** The window, in ms (`JAMEY_RATE_LIMIT_WINDOW_MS`). */
  readonly windowMs: number;
  /** Counters shared by every replica. Absent: per process (embedded mode). */
  readonly redis?: RedisClient | undefined;
  /** Prefix of the Redis keys. Default `jamey:ratelimit:`. */
  readonly keyPrefix?: string;
}

/**
 * Paths no limit applies to: the API's own health and degradation views, the status page link,
 * and the documentation.
 * (`/healthz`, `/readyz` and `/metrics` are on the admin server, which has no limit at all.)
 */
export const RATE_LIMIT_EXEMPT = Object.freeze({
  exact: ['/openapi.json', '/status', '/v1/system/health', '/v1/system/degradation'],
  prefixes: ['/docs'],
});

function isExempt(url: string): boolean {
  return RATE_LIMIT_EXEMPT.exact.includes(url) || RATE_LIMIT_EXEMPT.prefixes.some((prefix) => url === prefix || url.startsWith(`${prefix}/`));
}

/**
 * Who a request counts against: its authenticated subject (`sub:<issuer> <subject>`), so a
 * user's limit holds whichever address and replica they come through, or, without a valid
 * token, its client address (`ip:<address>`, IPv6 by its /64; behind a proxy only with
 * `GATEWAY_TRUST_PROXY`). Runs after authentication (see `registerAuth`).
 */
export function rateLimitKey(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal !== undefined) return `sub:${principal.issuer} ${principal.subject}`;
  return `ip:${normalizeIP(request.ip)}`;
}

/**
 * Limits every route registered after it, with @fastify/rate-limit: `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset` on every limited response (draft-ietf-httpapi-
 * ratelimit-headers), and past the limit a 429 problem (`too-many-requests`) with `Retry-After`.
 * A route may set its own limit with `config: { rateLimit: { max, timeWindow } }`, counted
 * separately; the routes in {@link RATE_LIMIT_EXEMPT} have none.
 */
export function registerRateLimit(app: FastifyInstance, settings: RateLimitSettings): void {
  // Before the plugin's own onRoute hook (hooks run in the order they are added).
  app.addHook('onRoute', (route) => {
    if (isExempt(route.url)) route.config = { ...route.config, rateLimit: false };
  });
  app.register(rateLimit, {
    max: settings.max,
    timeWindow: settings.windowMs,
    keyGenerator: rateLimitKey,
    store: createRateLimitStore({ redis: settings.redis, ...(settings.keyPrefix === undefined ? {} : { keyPrefix: settings.keyPrefix }) }),
    enableDraftSpec: true,
    errorResponseBuilder: (_request, context) => new RateLimitExceededError(context.max, context.ttl),
  });
}
