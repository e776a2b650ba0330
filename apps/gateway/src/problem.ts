import { ERROR_CODES, isJameyError, type ErrorCode, type JameyError } from '@jamey/core';
import { bearerChallenge, isAuthError } from '@jamey/security';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { AllowedMethods } from './allowed-methods.js';
import { fieldOfDownstream, fieldOfViolation, locationOf, messageOfViolation, type DeclaredFields, type SchemaViolation } from './fields.js';
import { PROBLEM_MEDIA_TYPE, type Problem } from './schemas/problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Where fields named by a downstream INVALID_ARGUMENT live in this route's HTTP shape, when
     * their lowerCamelCase name is not a declared field (for example `{ entityId: 'path.id' }`).
     */
    fieldAliases?: Readonly<Record<string, string>>;
  }
}

/**
 * Problems only the HTTP edge produces. They never cross gRPC, so they are not error reasons
 * in `ERROR_CODES`; everything a service can return is.
 */
export const HTTP_ONLY_PROBLEMS = {
  METHOD_NOT_ALLOWED: { http: 405, title: 'Method not allowed' },
  PAYLOAD_TOO_LARGE: { http: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, title: 'Unsupported media type' },
  TOO_MANY_REQUESTS: { http: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { http: 431, title: 'Request header fields too large' },
} as const satisfies Record<string, { http: number; title: string }>;

/** Every `code` a problem can carry. */
export type ProblemCode = ErrorCode | keyof typeof HTTP_ONLY_PROBLEMS;

/** Status and title of every problem code: the service error codes plus the HTTP-only ones. */
export const PROBLEM_CODES: Readonly<Record<ProblemCode, { readonly http: number; readonly title: string }>> = Object.freeze({
  ...ERROR_CODES,
  ...HTTP_ONLY_PROBLEMS,
});

/** The problem `type` URI of a code: `https://jamey.io/problems/<kebab-case code>`. */
export function problemType(code: ProblemCode): string {
  return `https://jamey.io/problems/${code.toLowerCase().replaceAll('_', '-')}`;
}

/** What an error response says, before the standard members are filled in. */
export interface ProblemInit {
  readonly code: ProblemCode;
  readonly detail: string;
  readonly field?: string;
  readonly errors?: Problem['errors'];
  readonly dependency?: string;
  readonly resource?: string;
  /** Sets `Retry-After`, in whole seconds. */
  readonly retryAfterSeconds?: number;
  /** Sets `Allow`. */
  readonly allow?: readonly string[];
  /** Sets `WWW-Authenticate` (RFC 6750 §3). */
  readonly challenge?: string;
}

/** A client went over the gateway's rate limit (built by @fastify/rate-limit's `errorResponseBuilder`). */
export class RateLimitExceededError extends Error {
  constructor(
    /** Requests allowed per window. */
    readonly limit: number,
    /** Until the window ends, in ms. */
    readonly retryAfterMs: number,
  ) {
    super(`rate limit of ${limit} requests exceeded`);
    this.name = 'RateLimitExceededError';
  }
}

/** The `realm` of every `WWW-Authenticate` challenge. */
export const AUTH_REALM = 'jamey';

const GENERIC_DETAIL = 'An unexpected error occurred. It has been logged.';
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** Sends an RFC 9457 problem. The one place error responses are written. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, init: ProblemInit): FastifyReply {
  const { http, title } = PROBLEM_CODES[init.code];
  const body: Problem = {
    type: problemType(init.code),
    title,
    status: http,
    detail: init.detail,
    instance: request.url.split('?')[0] ?? request.url,
    code: init.code,
    ...(init.field === undefined ? {} : { field: init.field }),
    ...(init.errors === undefined ? {} : { errors: init.errors }),
    ...(init.dependency === undefined ? {} : { dependency: init.dependency }),
    ...(init.resource === undefined ? {} : { resource: init.resource }),
  };
  if (init.retryAfterSeconds !== undefined) reply.header('retry-after', String(init.retryAfterSeconds));
  if (init.allow !== undefined) reply.header('allow', init.allow.join(', '));
  if (init.challenge !== undefined) reply.header('www-authenticate', init.challenge);
  return reply.code(http).type(PROBLEM_MEDIA_TYPE).send(body);
}

function propertiesOf(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties ? Object.keys(properties) : [];
}

function declaredFields(schema: FastifySchema | undefined): DeclaredFields {
  return { path: propertiesOf(schema?.params), query: propertiesOf(schema?.querystring), body: propertiesOf(schema?.body) };
}

function fromValidation(error: FastifyError): ProblemInit {
  const violations = (error.validation ?? []) as SchemaViolation[];
  const errors = violations.map((violation) => ({
    field: fieldOfViolation(error.validationContext, violation),
    message: messageOfViolation(violation),
  }));
  const first = errors[0];
  return {
    code: 'INVALID_ARGUMENT',
    detail: first ? `${first.field} ${first.message}` : `the request ${locationOf(error.validationContext)} is invalid`,
    field: first?.field,
    errors,
  };
}

/** Errors Fastify raises for a bad request before any handler runs. */
function fromFastifyClientError(error: FastifyError, request: FastifyRequest): ProblemInit {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'PAYLOAD_TOO_LARGE', detail: `the request body exceeds ${request.routeOptions.bodyLimit ?? 'the limit of'} bytes` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'the request body must be application/json' };
    case 'FST_ERR_NOT_FOUND':
      return { code: 'NOT_FOUND', detail: `no route ${request.method} ${request.url.split('?')[0]}` };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'INVALID_ARGUMENT', detail: error.message, field: 'body', errors: [{ field: 'body', message: error.message }] };
    default:
      // Any other client error Fastify raises (a bad URL, a path parameter over the router's
      // length limit, …) is bad input; its messages are written for callers.
      return { code: 'INVALID_ARGUMENT', detail: error.message };
  }
}

function fromJameyError(error: JameyError, request: FastifyRequest): ProblemInit {
  const { details } = error;
  switch (error.code) {
    case 'INTERNAL':
      return { code: 'INTERNAL', detail: GENERIC_DETAIL };
    case 'INVALID_ARGUMENT': {
      if (details.field === undefined) return { code: error.code, detail: error.message };
      const field = fieldOfDownstream(details.field, declaredFields(request.routeOptions.schema), request.routeOptions.config.fieldAliases);
      return { code: error.code, detail: error.message, field, errors: [{ field, message: error.message }] };
    }
    case 'DEPENDENCY_UNAVAILABLE':
    case 'RATE_LIMITED': {
      const retryAfterMs = details.retryAfterMs;
      const retryAfterSeconds =
        typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs > 0
          ? Math.ceil(retryAfterMs / 1000)
          : DEFAULT_RETRY_AFTER_SECONDS;
      return { code: error.code, detail: error.message, dependency: details.dependency, retryAfterSeconds };
    }
    case 'DEADLINE_EXCEEDED':
      return { code: error.code, detail: error.message, dependency: details.dependency };
    case 'NOT_FOUND':
      return { code: error.code, detail: error.message, resource: details.resource };
    default:
      return { code: error.code, detail: error.message };
  }
}

function isFastifyClientError(error: unknown): error is FastifyError {
  const candidate = error as Partial<FastifyError> | null;
  return (
    typeof candidate?.code === 'string' &&
    candidate.code.startsWith('FST_') &&
    typeof candidate.statusCode === 'number' &&
    candidate.statusCode >= 400 &&
    candidate.statusCode < 500
  );
}

/**
 * Translates any error into a problem and logs it: unknown errors and internal ones in full at
 * error level (their messages never reach the caller), downstream outages at warn, bad input
 * at info.
 */
function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let init: ProblemInit;
  if (error instanceof RateLimitExceededError) {
    const retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    init = {
      code: 'TOO_MANY_REQUESTS',
      detail: `This client made more than ${error.limit} requests in the current window; retry after ${retryAfterSeconds} s.`,
      retryAfterSeconds,
    };
    // Debug, not info: a client hammering the API must not flood the logs too.
    request.log.debug({ code: init.code, limit: error.limit }, init.detail);
  } else if (isAuthError(error)) {
    // The message is a fixed sentence (plus the missing scopes), never the token: safe to return and log.
    init = { code: error.code, detail: error.message, challenge: bearerChallenge(error, AUTH_REALM) };
    request.log.info({ code: error.code, reason: error.reason, subject: request.principal?.subject }, error.message);
  } else if (isJameyError(error)) {
    init = fromJameyError(error, request);
    const status = PROBLEM_CODES[init.code].http;
    if (error.code === 'INTERNAL') request.log.error({ err: error }, 'internal error');
    else if (status >= 500) request.log.warn({ err: error, code: error.code }, error.message);
    else request.log.info({ code: error.code, field: init.field }, error.message);
  } else if ((error as Partial<FastifyError> | null)?.validation) {
    init = fromValidation(error as FastifyError);
    request.log.info({ code: init.code, field: init.field }, init.detail);
  } else if (isFastifyClientError(error)) {
    init = fromFastifyClientError(error, request);
    request.log.info({ code: init.code, fastifyCode: error.code }, init.detail);
  } else {
    request.log.error({ err: error }, 'unhandled error');
    init = { code: 'INTERNAL', detail: GENERIC_DETAIL };
  }
  return sendProblem(request, reply, init);
}

/**
 * Fastify's `frameworkErrors` option: errors raised while routing (a malformed URL, a path
 * parameter over the length limit) get the same problem responses.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  handleError(error, request, reply);
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refuses before Fastify sees it
 * (headers, URL included, over Node's 16 KiB limit; a malformed request line) still gets a
 * problem+json answer, 431 or 400, and the connection is closed. The path is unknown, so
 * `instance` is empty.
 */
export function writeClientErrorProblem(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: ProblemCode = error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'INVALID_ARGUMENT';
  const { http, title } = PROBLEM_CODES[code];
  const detail = code === 'HEADERS_TOO_LARGE' ? 'The request line and headers are larger than 16 KiB.' : 'The request is not valid HTTP.';
  const body = JSON.stringify({ type: problemType(code), title, status: http, detail, instance: '', code } satisfies Problem);
  socket.end(
    `HTTP/1.1 ${http} ${title}\r\nContent-Type: ${PROBLEM_MEDIA_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Options for {@link registerProblemHandlers}. */
export interface ProblemHandlerOptions {
  /** Answers 405 for a known path with the wrong method. */
  readonly allowedMethods: AllowedMethods;
}

/**
 * Installs the gateway's one error handler and its not-found handler on the root instance.
 * Every error response is `application/problem+json` (RFC 9457); see docs/errors.md.
 */
export function registerProblemHandlers(app: FastifyInstance, options: ProblemHandlerOptions): void {
  const notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split('?')[0] ?? request.url;
    const allow = options.allowedMethods.allowed(path);
    if (allow.length > 0) {
      return sendProblem(request, reply, {
        code: 'METHOD_NOT_ALLOWED',
        detail: `${request.method} is not allowed on ${path}; use ${allow.join(', ')}`,
        allow,
      });
    }
    return sendProblem(request, reply, { code: 'NOT_FOUND', detail: `no route ${request.method} ${path}` });
  };
  app.setErrorHandler((error, request, reply) =>
    // A request no route matched can still fail on its body first (a QUERY without a
    // Content-Type, say): the answer is still that the method or path does not exist.
    request.is404 && isFastifyClientError(error) ? notFound(request, reply) : handleError(error, request, reply),
  );
  app.setNotFoundHandler(notFound);
}
