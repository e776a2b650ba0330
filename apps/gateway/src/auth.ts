import { dependencyUnavailable } from '@jamey/core';
import { AuthError, DevelopmentKeyError, requireScopes, type Principal, type Scope, type UserTokenVerifier } from '@jamey/security';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API_PREFIX } from './api-prefix.js';
import { problemResponses } from './schemas/problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The scopes a token needs for this route, all of them (docs/security.md, "Scopes"). Every
     * route under `/v1` must declare them; `[]` means any valid token. Routes outside `/v1`
     * (health, docs, the OpenAPI document, `/status`) are public and declare none.
     */
    scopes?: readonly Scope[];
  }
  interface FastifyRequest {
    /** Who made the request, from its verified bearer token; undefined on public routes. */
    principal: Principal | undefined;
  }
}

/** The OpenAPI security scheme every `/v1` operation names. */
export const SECURITY_SCHEME = 'bearerAuth';

/** What an authentication attempt left behind, until the scopes are checked. */
const failures = new WeakMap<FastifyRequest, unknown>();

/** True for paths under the API prefix: these always need a token, even when no route matches. */
export function isApiPath(url: string): boolean {
  const path = url.split('?')[0] ?? url;
  return path === API_PREFIX || path.startsWith(`${API_PREFIX}/`);
}

/**
 * Whether a request must carry a token: it matched a route that declares scopes (whatever
 * spelling of the path the router accepted, percent-encoded or not), or its path is under
 * `/v1` (so unknown API paths answer 401 before 404).
 */
function needsToken(request: FastifyRequest): boolean {
  return request.routeOptions.config?.scopes !== undefined || isApiPath(request.url);
}

/** A route registered under `/v1` without `config.scopes`: refused at startup, so none is served unprotected. */
export class UndeclaredScopesError extends Error {
  constructor(method: string, url: string) {
    super(`${method} ${url} declares no scopes: every ${API_PREFIX} route needs config.scopes (use [] for any valid token)`);
    this.name = 'UndeclaredScopesError';
  }
}

/** Options for {@link registerAuth}. */
export interface AuthOptions {
  /** Verifies bearer tokens (`createUserAuth`). */
  readonly verifier: UserTokenVerifier;
}

/**
 * Authenticates and authorizes every `/v1` request, in two steps:
 *
 * 1. `onRequest` verifies the bearer token and puts the {@link Principal} on the request (and
 *    its subject on every downstream call). A failure is kept, not thrown yet, so the rate
 *    limit, a route-level `onRequest` hook that runs next, still counts the attempt against
 *    the client address: guessing tokens is limited like anything else.
 * 2. `preParsing` throws the kept failure, or checks the route's `config.scopes`, before any
 *    body is read.
 *
 * Refusals are {@link AuthError}s: the error handler answers 401/403 problem+json with a
 * `WWW-Authenticate` challenge. A key set that cannot be loaded is 503.
 *
 * Also refuses, at registration, any `/v1` route without `config.scopes`, and lists each
 * route's scopes in the OpenAPI document as the `security` of its operation. Must be called
 * after {@link registerDownstreamContext} and before the routes.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route) => {
    if (!isApiPath(route.url)) return;
    const scopes = route.config?.scopes;
    if (!Array.isArray(scopes)) throw new UndeclaredScopesError([route.method].flat().join(','), route.url);
    // The OpenAPI document: the scopes as the operation's requirement, with the refusals it can answer.
    const schema = (route.schema ??= {}) as { security?: unknown; response?: Record<string, unknown> };
    schema.security = [{ [SECURITY_SCHEME]: [...scopes] }];
    if (schema.response) schema.response = { ...schema.response, ...problemResponses(401, 403) };
  });

  app.addHook('onRequest', async (request) => {
    if (!needsToken(request)) return;
    try {
      const principal = await options.verifier.authenticate(request.headers.authorization);
      request.principal = principal;
      request.downstream = { ...request.downstream, userSubject: principal.subject };
    } catch (error) {
      failures.set(request, error);
    }
  });

  app.addHook('preParsing', async (request) => {
    if (!needsToken(request)) return;
    if (failures.has(request)) throw authFailure(failures.get(request), request);
    if (request.principal === undefined) throw new AuthError('missing');
    // A request that matched no route (404/405) has no scopes to check: a valid token is enough.
    const scopes = request.routeOptions.config.scopes;
    if (scopes !== undefined) requireScopes(request.principal, scopes);
  });
}

/**
 * What a failed authentication is answered with. `AuthError`s and other typed errors (the key
 * set is unreachable: 503) stand; a development key rotated into a production key set is an
 * operator's mistake, not the caller's: 503 as well, logged in full.
 */
function authFailure(error: unknown, request: FastifyRequest): unknown {
  if (error instanceof DevelopmentKeyError) {
    request.log.error({ err: error }, 'the user token key set holds a development key; refusing every token');
    return dependencyUnavailable('user token keys');
  }
  return error;
}
