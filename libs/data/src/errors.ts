import { dependencyUnavailable, isJameyError } from '@jamey/core';

// Socket-level failures: the server cannot be reached or the connection broke.
const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

// SQLSTATEs that mean "the server is there but will not serve us right now".
// 08xxx connection_exception, 57P01-57P03 admin/crash shutdown and cannot_connect_now,
// 53300 too_many_connections.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

// node-postgres and PGlite report some connection failures only through their message.
const UNAVAILABLE_MESSAGE =
  /connection terminated|connection timeout|timeout exceeded when trying to connect|client has encountered a connection error|not queryable|pglite is closed|cannot use a pool after calling end/i;

/** True when `error` means Postgres could not be reached, as opposed to a failing statement. */
export function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (NETWORK_ERRNOS.has(code) || UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
    // A five-character SQLSTATE is a statement error, whatever its message says.
    if (/^[0-9A-Z]{5}$/.test(code)) return false;
  }
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

/**
 * Translates a driver error once, at this edge: connection failures become
 * `DEPENDENCY_UNAVAILABLE` (dependency `postgres`), everything else is returned unchanged so
 * callers can still read the SQLSTATE in `code`.
 */
export function translateDriverError(error: unknown): unknown {
  if (isJameyError(error)) return error;
  return isConnectionFailure(error) ? dependencyUnavailable('postgres', error) : error;
}
