import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { ERROR_CODES, isJameyError } from '@jamey/core';
import type { ErrorLogger } from './status.js';

/** One finished unary call, as a server or client saw it. */
export interface RpcCallRecord {
  /** Full method path, for example `/jamey.memory.v1.MemoryService/GetMemory`. */
  readonly method: string;
  /** gRPC status name: `OK`, `NOT_FOUND`, `UNAVAILABLE`, `DEADLINE_EXCEEDED`, … */
  readonly code: string;
  /** From the call's start to its status, in ms. */
  readonly durationMs: number;
}

/** One finished outgoing call. */
export interface RpcClientCallRecord extends RpcCallRecord {
  /** The callee, as the client names it (for example `memory`). */
  readonly dependency: string;
}

/** Receives server call records. Must not throw; an error is logged and ignored. */
export type RpcCallObserver = (call: RpcCallRecord) => void;
/** Receives client call records. Must not throw; an error is logged and ignored. */
export type RpcClientCallObserver = (call: RpcClientCallRecord) => void;

/** `OK`, `CANCELLED`, … for a numeric gRPC status code; `UNKNOWN` for anything else. */
export function grpcStatusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string | undefined>)[code] ?? 'UNKNOWN';
}

function isServiceError(value: unknown): value is { code: number } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number' &&
    (value as { metadata?: unknown }).metadata instanceof Metadata;
}

/**
 * The status name a failed client call ends with: the wire status when the callee answered
 * one; the status of a Jamey error otherwise, so an open breaker counts as UNAVAILABLE, a
 * policy timeout as DEADLINE_EXCEEDED and a full bulkhead as RESOURCE_EXHAUSTED; CANCELLED
 * when the caller gave up.
 */
export function clientStatusName(error: unknown, callerSignal: AbortSignal | undefined): string {
  if (callerSignal?.aborted) return 'CANCELLED';
  if (isServiceError(error)) return grpcStatusName(error.code);
  if (isJameyError(error)) {
    return isServiceError(error.cause) ? grpcStatusName(error.cause.code) : grpcStatusName(ERROR_CODES[error.code].grpc);
  }
  return 'UNKNOWN';
}

/** Calls an observer, logging instead of failing the call if it throws. */
export function notifySafely<T>(observer: (record: T) => void, record: T, logger: ErrorLogger | undefined): void {
  try {
    observer(record);
  } catch (error) {
    logger?.error({ err: error }, 'rpc observer failed');
  }
}
