/**
 * Every error code Jamey returns, in one place. The names match `jamey.common.v1.ErrorReason`
 * without its prefix. Each edge translates them once: gRPC servers with `toGrpcStatus`, the
 * gateway with its Fastify error handler.
 */
export const ERROR_CODES = {
  INVALID_ARGUMENT: { grpc: 3, http: 400, title: 'Invalid argument' },
  NOT_FOUND: { grpc: 5, http: 404, title: 'Not found' },
  CONFLICT: { grpc: 10, http: 409, title: 'Conflict' },
  DEPENDENCY_UNAVAILABLE: { grpc: 14, http: 503, title: 'Dependency unavailable' },
  DEADLINE_EXCEEDED: { grpc: 4, http: 504, title: 'Deadline exceeded' },
  RATE_LIMITED: { grpc: 8, http: 429, title: 'Rate limited' },
  UNAUTHENTICATED: { grpc: 16, http: 401, title: 'Unauthenticated' },
  PERMISSION_DENIED: { grpc: 7, http: 403, title: 'Permission denied' },
  INTERNAL: { grpc: 2, http: 500, title: 'Internal error' },
} as const satisfies Record<string, { grpc: number; http: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The ErrorInfo domain Jamey uses. */
export const ERROR_DOMAIN = 'jamey.io';

/** Structured context an error carries to the edge (ErrorInfo metadata, problem+json members). */
export interface ErrorDetails {
  /** The request field that failed validation, as a dotted path. */
  readonly field?: string;
  /** The dependency that is unavailable. */
  readonly dependency?: string;
  /** The resource kind that was not found. */
  readonly resource?: string;
  /** When the caller may retry, in milliseconds. */
  readonly retryAfterMs?: number;
}

/** A typed, expected error. Anything else reaching an edge is an unknown error. */
export class JameyError extends Error {
  override readonly name = 'JameyError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/** True when `value` is a {@link JameyError}. */
export function isJameyError(value: unknown): value is JameyError {
  return value instanceof JameyError;
}

/** A request field failed validation. */
export function invalidArgument(field: string, message: string): JameyError {
  return new JameyError('INVALID_ARGUMENT', message, { field });
}

/** The resource `resource` with id `id` does not exist. */
export function notFound(resource: string, id: string): JameyError {
  return new JameyError('NOT_FOUND', `${resource} ${id} was not found`, { resource });
}

/** The dependency named `dependency` could not be reached. */
export function dependencyUnavailable(dependency: string, cause?: unknown, retryAfterMs?: number): JameyError {
  return new JameyError(
    'DEPENDENCY_UNAVAILABLE',
    `${dependency} is unavailable`,
    retryAfterMs === undefined ? { dependency } : { dependency, retryAfterMs },
    { cause },
  );
}

/** Finds the error code name for a numeric gRPC status, if Jamey uses it. */
export function errorCodeForGrpc(grpcCode: number): ErrorCode | undefined {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).find((code) => ERROR_CODES[code].grpc === grpcCode);
}
