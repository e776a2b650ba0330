import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ERROR_CODES, ERROR_DOMAIN, JameyError, errorCodeForGrpc, isJameyError, type ErrorCode } from '@jamey/core';
import { Any, rpcErrorDetails, rpcStatus } from '@jamey/proto';

const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';
const GENERIC_MESSAGE = 'internal error';

/** Something that can log an unexpected error in full. */
export interface ErrorLogger {
  error(object: object, message: string): void;
}

/**
 * Translates any error into the gRPC status a server returns. A {@link JameyError} keeps its
 * code and message and carries `google.rpc.ErrorInfo` with its stable reason; anything else
 * becomes UNKNOWN with a generic message and is logged in full, never leaked.
 */
export function toGrpcStatus(error: unknown, logger: ErrorLogger): Partial<StatusObject> {
  if (!isJameyError(error)) {
    logger.error({ err: error }, 'unhandled error in gRPC handler');
    return withDetails(GrpcStatus.UNKNOWN, GENERIC_MESSAGE, 'INTERNAL', {});
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(error.details)) {
    if (value !== undefined) metadata[key] = String(value);
  }
  if (error.code === 'INTERNAL') logger.error({ err: error }, 'internal error in gRPC handler');
  const message = error.code === 'INTERNAL' ? GENERIC_MESSAGE : error.message;
  return withDetails(ERROR_CODES[error.code].grpc, message, error.code, metadata);
}

function withDetails(code: number, message: string, reason: ErrorCode, info: Record<string, string>): Partial<StatusObject> {
  const errorInfo = rpcErrorDetails.ErrorInfo.encode({ reason, domain: ERROR_DOMAIN, metadata: info }).finish();
  const details = rpcStatus.Status.encode({
    code,
    message,
    details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: Buffer.from(errorInfo) }],
  }).finish();
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(details));
  return { code, details: message, metadata };
}

/** Reads google.rpc.ErrorInfo from a failed call's trailers, when present. */
export function readErrorInfo(error: Pick<ServiceError, 'metadata'>): rpcErrorDetails.ErrorInfo | undefined {
  const raw = error.metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!Buffer.isBuffer(raw)) return undefined;
  try {
    const decoded = rpcStatus.Status.decode(raw);
    const info = decoded.details.find((detail: Any) => detail.typeUrl === ERROR_INFO_TYPE_URL);
    return info ? rpcErrorDetails.ErrorInfo.decode(info.value) : undefined;
  } catch {
    return undefined;
  }
}

/** True for gRPC codes that are worth retrying (ARCHITECTURE.md: errors). */
export function isTransientGrpcCode(code: number): boolean {
  return (
    code === GrpcStatus.UNAVAILABLE ||
    code === GrpcStatus.DEADLINE_EXCEEDED ||
    code === GrpcStatus.RESOURCE_EXHAUSTED ||
    code === GrpcStatus.ABORTED
  );
}

/**
 * Translates a failed client call into a {@link JameyError}. `dependency` names the callee, so
 * an outage surfaces as DEPENDENCY_UNAVAILABLE naming it.
 */
export function fromGrpcError(error: ServiceError, dependency: string): JameyError {
  const info = readErrorInfo(error);
  const details: Record<string, string | number> = { ...(info?.metadata ?? {}) };
  if ('retryAfterMs' in details) details['retryAfterMs'] = Number(details['retryAfterMs']);
  switch (error.code) {
    case GrpcStatus.UNAVAILABLE:
      return new JameyError('DEPENDENCY_UNAVAILABLE', `${dependency} is unavailable`, { ...details, dependency }, { cause: error });
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new JameyError('DEADLINE_EXCEEDED', `${dependency} did not answer in time`, { dependency }, { cause: error });
    case GrpcStatus.CANCELLED:
      return new JameyError('DEADLINE_EXCEEDED', `call to ${dependency} was cancelled`, { dependency }, { cause: error });
  }
  const reason = info?.reason as ErrorCode | undefined;
  const code = reason && reason in ERROR_CODES ? reason : errorCodeForGrpc(error.code);
  if (code === undefined || code === 'INTERNAL') {
    return new JameyError('INTERNAL', `${dependency} failed`, { dependency }, { cause: error });
  }
  return new JameyError(code, error.details, details, { cause: error });
}
