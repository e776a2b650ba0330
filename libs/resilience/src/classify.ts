import { ERROR_CODES, JameyError, type ErrorCode } from '@jamey/core';
import { BrokenCircuitError } from './errors.js';

/**
 * What kind of failure an error is. Everything but `permanent` is worth retrying (for an
 * idempotent call, within the deadline) and counts against a circuit breaker.
 * - `transient`: the dependency may answer next time (UNAVAILABLE, ABORTED, a reset connection,
 *   a serialization failure, a failover).
 * - `timeout`: it did not answer in time (DEADLINE_EXCEEDED, ETIMEDOUT, statement timeout).
 * - `rate-limited`: it asked us to slow down (RESOURCE_EXHAUSTED, too many connections).
 * - `permanent`: asking again gives the same answer (invalid argument, not found, a bug), and
 *   cancellations by the caller.
 */
export type ErrorCategory = 'transient' | 'permanent' | 'timeout' | 'rate-limited';

/** gRPC status codes, by number (grpc-js's `status` enum without depending on it). */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_ABORTED = 10;
const GRPC_UNAVAILABLE = 14;

/** Classifies a numeric gRPC status code (ARCHITECTURE.md: four transient codes). */
export function classifyGrpcCode(code: number): ErrorCategory {
  switch (code) {
    case GRPC_UNAVAILABLE:
    case GRPC_ABORTED:
      return 'transient';
    case GRPC_DEADLINE_EXCEEDED:
      return 'timeout';
    case GRPC_RESOURCE_EXHAUSTED:
      return 'rate-limited';
    default:
      return 'permanent';
  }
}

// Node, undici and ioredis socket errors.
const NETWORK_CODES: Readonly<Record<string, ErrorCategory>> = {
  ECONNREFUSED: 'transient',
  ECONNRESET: 'transient',
  ECONNABORTED: 'transient',
  EPIPE: 'transient',
  EHOSTUNREACH: 'transient',
  EHOSTDOWN: 'transient',
  ENETUNREACH: 'transient',
  ENETDOWN: 'transient',
  // DNS: in Kubernetes a name is briefly missing while a Service's endpoints roll.
  ENOTFOUND: 'transient',
  EAI_AGAIN: 'transient',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  UND_ERR_SOCKET: 'transient',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
};

// Postgres SQLSTATE codes worth another try; class 08 (connection exception) is handled whole.
const SQLSTATE_CODES: Readonly<Record<string, ErrorCategory>> = {
  '40001': 'transient', // serialization_failure
  '40P01': 'transient', // deadlock_detected
  '57P01': 'transient', // admin_shutdown (failover, restart)
  '57P02': 'transient', // crash_shutdown
  '57P03': 'transient', // cannot_connect_now (starting up)
  '25P04': 'transient', // idle_in_transaction_session_timeout: the session was closed
  '57014': 'timeout', // query_canceled (statement_timeout)
  '55P03': 'timeout', // lock_not_available (lock_timeout)
  '53300': 'rate-limited', // too_many_connections
};
const SQLSTATE = /^[0-9A-Z]{5}$/;

// Redis replies that mean "not now" (ioredis `ReplyError` messages start with the code).
const REDIS_TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'READONLY'];
const IOREDIS_TRANSIENT_MESSAGES = ['Connection is closed.', "Stream isn't writeable"];

const MAX_CAUSE_DEPTH = 4;

/**
 * Classifies any thrown value by its duck-typed shape, so this library needs none of the drivers:
 * 1. our own errors and `JameyError`s, by their code's gRPC status;
 * 2. gRPC errors (a numeric `code` 0–16);
 * 3. Node/undici socket errors (`code` like ECONNREFUSED, ETIMEDOUT);
 * 4. Postgres errors (a SQLSTATE `code` like 40001, 57P01, 08006);
 * 5. kafkajs errors (`name` KafkaJS…, `retriable`);
 * 6. ioredis errors (`ReplyError` LOADING/BUSY/…, `MaxRetriesPerRequestError`, closed connection);
 * 7. `AbortError` (a cancellation: permanent) and DOM `TimeoutError` (AbortSignal.timeout);
 * then, when nothing matched, the error's `cause` (a few levels deep). Anything else is permanent.
 */
export function classifyError(error: unknown): ErrorCategory {
  let current = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH; depth++) {
    const category = classifyOne(current);
    if (category !== undefined) return category;
    if (typeof current !== 'object' || current === null || !('cause' in current)) break;
    current = current.cause;
  }
  return 'permanent';
}

/** True unless the error is {@link ErrorCategory permanent}. */
export function isTransient(error: unknown): boolean {
  return classifyError(error) !== 'permanent';
}

/** True for an `AbortError`: the caller cancelled, which is neither a success nor a failure. */
export function isCancellation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/**
 * The wait a failure asked for, in milliseconds, if any: a {@link BrokenCircuitError}'s
 * `retryAfterMs`, or a `JameyError`'s `details.retryAfterMs` (gRPC retry pushback).
 */
export function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof BrokenCircuitError) return error.retryAfterMs;
  if (error instanceof JameyError) return error.details.retryAfterMs;
  return undefined;
}

function classifyOne(error: unknown): ErrorCategory | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const shape = error as { code?: unknown; name?: unknown; retriable?: unknown; message?: unknown; type?: unknown };
  const { code, name } = shape;

  if (error instanceof JameyError || (name === 'JameyError' && typeof code === 'string' && code in ERROR_CODES)) {
    // By the code's gRPC status, so a JameyError classifies the same before and after the wire
    // (CONFLICT travels as ABORTED, which ARCHITECTURE.md calls transient).
    return classifyGrpcCode(ERROR_CODES[code as ErrorCode].grpc);
  }
  // Before the numeric check: kafkajs protocol errors carry Kafka's own numeric codes.
  if (typeof name === 'string' && name.startsWith('KafkaJS')) return classifyKafka(name, shape);
  // DOMExceptions carry legacy numeric codes too (AbortError is 20, NotFoundError 8).
  const grpcLike = typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16;
  if (grpcLike && !(error instanceof DOMException)) return classifyGrpcCode(code);
  if (typeof code === 'string') {
    const network = NETWORK_CODES[code];
    if (network !== undefined) return network;
    if (SQLSTATE.test(code)) return SQLSTATE_CODES[code] ?? (code.startsWith('08') ? 'transient' : 'permanent');
  }
  if (name === 'AbortError') return 'permanent';
  if (name === 'TimeoutError') return 'timeout';
  if (name === 'MaxRetriesPerRequestError') return 'transient';
  if (typeof shape.message === 'string') {
    const message = shape.message;
    if (name === 'ReplyError' && REDIS_TRANSIENT_REPLIES.some((reply) => message.startsWith(reply))) return 'transient';
    if (IOREDIS_TRANSIENT_MESSAGES.some((prefix) => message.startsWith(prefix))) return 'transient';
  }
  return undefined;
}

function classifyKafka(name: string, shape: { retriable?: unknown; type?: unknown }): ErrorCategory {
  if (name === 'KafkaJSRequestTimeoutError') return 'timeout';
  if (shape.type === 'THROTTLING_QUOTA_EXCEEDED') return 'rate-limited';
  if (shape.type === 'REQUEST_TIMED_OUT') return 'timeout';
  // kafkajs gave up after its own retries; the broker may still come back.
  if (name === 'KafkaJSNumberOfRetriesExceeded' || name === 'KafkaJSConnectionError') return 'transient';
  return shape.retriable === true ? 'transient' : 'permanent';
}
