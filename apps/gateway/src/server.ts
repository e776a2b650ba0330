import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Clock } from '@jamey/core';
import type { UserTokenVerifier } from '@jamey/security';
import type { Logger, Registry } from '@jamey/telemetry';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { registerAccessLog, type AccessLogOptions } from './access-log.js';
import { createAllowedMethods } from './allowed-methods.js';
import { API_PREFIX } from './api-prefix.js';
import { registerAuth, SECURITY_SCHEME } from './auth.js';
import type { GatewayClients } from './clients.js';
import { registerTraceResponse } from './trace-response.js';
import { registerDownstreamContext } from './downstream.js';
import { registerHttpMetrics } from './metrics.js';
import { handleFrameworkError, writeClientErrorProblem, registerProblemHandlers } from './problem.js';
import { registerRateLimit, type RateLimitSettings } from './rate-limit/register.js';
import { auditRoutes } from './routes/audit.js';
import { consciousnessRoutes } from './routes/consciousness.js';
import { entityRoutes } from './routes/entities.js';
import { memoryRoutes } from './routes/memories.js';
import { systemRoutes } from './routes/system.js';
import type { DegradationJson } from './schemas/system.js';
import { ProblemSchema } from './schemas/problem.js';
import { createValidatorCompiler } from './validation.js';

/** What {@link buildGateway} is built from. */
export interface GatewayDeps {
  readonly clients: GatewayClients;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Each request's budget for its downstream calls, from arrival, in ms. */
  readonly downstreamTimeoutMs: number;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimitBytes: number;
  /** `info.version` of the OpenAPI document. */
  readonly version: string;
  /** When given, HTTP request metrics are recorded here. */
  readonly metrics?: Registry;
  /** `/v1/system/degradation`: each downstream's level and breaker state. Default: none known. */
  readonly degradation?: () => DegradationJson;
  /** When given, `GET /status` redirects browsers to this URL: the telemetry status page. */
  readonly statusPageUrl?: string;
  /** Per-client rate limit of every route but the exempt ones. Default: none (tests). */
  readonly rateLimit?: RateLimitSettings;
  /** Verifies the bearer token of every `/v1` request (`createUserAuth`). */
  readonly auth: UserTokenVerifier;
  /** Origins browsers may call the API from; `*` for any. Default none (no CORS headers). */
  readonly corsOrigins?: readonly string[];
  /** Fastify's `trustProxy`: whose `X-Forwarded-For` decides `request.ip`. Default false. */
  readonly trustProxy?: boolean | number | readonly string[];
  /**
   * Writes a `gateway.request_completed` access record per `/v1` request through the outbox
   * before its response is sent. Default: none (tests of other concerns).
   */
  readonly accessLog?: AccessLogOptions;
}

export { API_PREFIX };

/** Headers a browser may send cross-origin, and read back, when CORS is on. */
const CORS_ALLOWED_HEADERS = ['authorization', 'content-type', 'traceparent', 'tracestate', 'x-jamey-canary'];
const CORS_EXPOSED_HEADERS = ['location', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'www-authenticate', 'traceresponse'];

/**
 * The CSP of every response but the docs UI: the API serves JSON only, so nothing may load,
 * frame or submit anything. (`/docs` sets its own, from @fastify/swagger-ui's script hashes.)
 */
const API_CSP = { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] };

/**
 * Longest path parameter the router accepts. Entity ids may have 128 characters, above
 * Fastify's default of 100; anything longer than this is rejected as a 400 problem.
 */
const MAX_PARAM_LENGTH = 512;

/** Fastify's `trustProxy` from the config: a hop count becomes the function Fastify itself would build. */
function trustProxyOption(setting: GatewayDeps['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  if (typeof setting === 'object') return [...setting];
  return setting ?? false;
}

/** The gateway's Fastify instance type. */
export type GatewayInstance = ReturnType<typeof buildGateway>;

/**
 * Builds the public HTTP/JSON API over the downstream services. The instance never listens:
 * `startGateway` does, tests use `inject()`.
 */
export function buildGateway(deps: GatewayDeps) {
  const allowedMethods = createAllowedMethods({ maxParamLength: MAX_PARAM_LENGTH });
  const app = Fastify({
    // Fastify's logger type is a structural subset of pino's; the instance is the service's pino logger.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: writeClientErrorProblem,
    // Fastify's closing fast path writes its own non-problem body. Requests that still arrive
    // while closing are served instead: the clients stay open until the server has drained.
    return503OnClosing: false,
    // Off unless configured: otherwise any client could pick its own `request.ip` (and rate-limit key).
    trustProxy: trustProxyOption(deps.trustProxy),
  });

  app.setValidatorCompiler(createValidatorCompiler());
  // Bodies are JSON only: anything else is 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRoute', (route) => allowedMethods.add(route.method, route.url));
  registerProblemHandlers(app, { allowedMethods });
  registerDownstreamContext(app, { clock: deps.clock, timeoutMs: deps.downstreamTimeoutMs });
  registerTraceResponse(app);
  if (deps.accessLog) registerAccessLog(app, deps.accessLog);
  if (deps.metrics) registerHttpMetrics(app, deps.metrics);
  app.register(helmet, { contentSecurityPolicy: { useDefaults: false, directives: API_CSP } });
  const corsOrigins = deps.corsOrigins ?? [];
  if (corsOrigins.length > 0) {
    // Before authentication: preflight requests carry no token, and CORS answers them itself.
    app.register(cors, {
      origin: corsOrigins.includes('*') ? '*' : [...corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: CORS_ALLOWED_HEADERS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      maxAge: 600,
    });
  }
  // After the downstream context (it adds the user subject to it), before the rate limit (which
  // keys on the subject) and before any route (it checks that each declares its scopes).
  registerAuth(app, { verifier: deps.auth });
  // Before any route, so every route is limited (or marked exempt).
  if (deps.rateLimit) registerRateLimit(app, deps.rateLimit);
  app.addSchema(ProblemSchema);

  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Jamey API',
        version: deps.version,
        description:
          'The public API of Jamey. Errors are RFC 9457 problem details; see docs/errors.md. ' +
          'The status page (health, alerts and charts) is linked at GET /status.',
      },
      tags: [
        { name: 'memories', description: 'Store and recall memories.' },
        { name: 'consciousness', description: 'Perceptions and the global workspace.' },
        { name: 'entities', description: 'Entities, interactions and trust.' },
        { name: 'audit', description: 'The tamper-evident audit log.' },
        { name: 'system', description: 'System health.' },
      ],
      components: {
        securitySchemes: {
          [SECURITY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              'A JWT from the identity provider (in embedded mode: `npm run -s token -- --scopes …`). Each operation lists the scopes it needs; see docs/security.md.',
          },
        },
      },
    },
    // Shared schemas keep their `$id` as their component name, so the document says `Problem`.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  app.register(swaggerUi, {
    routePrefix: '/docs',
    // The docs page's own CSP (its inline script and style hashes) replaces the API's. Without
    // upgrade-insecure-requests, which would break the page on the plain-http embedded gateway.
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  const statusPageUrl = deps.statusPageUrl;
  if (statusPageUrl !== undefined) {
    // A link for browsers, not part of the JSON API: the page itself is served by telemetry.
    app.get('/status', { schema: { hide: true } }, async (_request, reply) => reply.redirect(statusPageUrl, 302));
  }

  app.register(memoryRoutes, { prefix: API_PREFIX, memory: deps.clients.memory });
  app.register(consciousnessRoutes, { prefix: API_PREFIX, consciousness: deps.clients.consciousness });
  app.register(entityRoutes, { prefix: API_PREFIX, soul: deps.clients.soul });
  app.register(auditRoutes, { prefix: API_PREFIX, audit: deps.clients.audit });
  app.register(systemRoutes, {
    prefix: API_PREFIX,
    telemetry: deps.clients.telemetry,
    degradation: deps.degradation ?? (() => ({ dependencies: [] })),
  });
  return app;
}

