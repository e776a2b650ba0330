import { ERROR_CODES, JameyError } from '@jamey/core';

/**
 * Why a caller was refused. Every reason but the last two means "we do not know who you are"
 * (401 / UNAUTHENTICATED); `insufficient_scope` and `caller_not_allowed` mean "we know, and the
 * answer is no" (403 / PERMISSION_DENIED).
 */
export const AUTH_ERROR_REASONS = {
  missing: 'No token was presented',
  malformed: 'The token is malformed',
  too_large: 'The token is too large',
  alg_not_allowed: 'The token is signed with an algorithm that is not accepted',
  unknown_kid: 'The token is signed with an unknown key',
  bad_signature: 'The token signature is invalid',
  expired: 'The token has expired',
  not_yet_valid: 'The token is not valid yet',
  wrong_issuer: 'The token was issued by an untrusted issuer',
  wrong_audience: 'The token is meant for another audience',
  invalid_claims: 'The token claims are invalid',
  unknown_caller: 'The calling service is not known',
  insufficient_scope: 'The token lacks a required scope',
  caller_not_allowed: 'The calling service may not call this service',
} as const;

export type AuthErrorReason = keyof typeof AUTH_ERROR_REASONS;

const FORBIDDEN: ReadonlySet<AuthErrorReason> = new Set(['insufficient_scope', 'caller_not_allowed']);

/**
 * A refused token or caller. Its `code` is `UNAUTHENTICATED` (401) or `PERMISSION_DENIED` (403),
 * so the gateway's error handler and `toGrpcStatus` translate it like any other {@link JameyError}.
 *
 * The message is a fixed sentence per reason: it never contains the token, its claims or key
 * material, so the error is safe to log and to return.
 */
export class AuthError extends JameyError {
  readonly reason: AuthErrorReason;
  /** The scopes that were missing (`insufficient_scope` only), in the order they were asked for. */
  readonly missingScopes: readonly string[];

  constructor(reason: AuthErrorReason, missingScopes: readonly string[] = []) {
    super(
      FORBIDDEN.has(reason) ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED',
      missingScopes.length > 0 ? `${AUTH_ERROR_REASONS[reason]}: ${missingScopes.join(' ')}` : AUTH_ERROR_REASONS[reason],
    );
    this.reason = reason;
    this.missingScopes = Object.freeze([...missingScopes]);
  }

  /** 401 or 403. */
  get httpStatus(): 401 | 403 {
    return ERROR_CODES[this.code].http as 401 | 403;
  }
}

/** True when `value` is an {@link AuthError}. */
export function isAuthError(value: unknown): value is AuthError {
  return value instanceof AuthError;
}

/**
 * The RFC 6750 §3 `WWW-Authenticate` value for a refused request.
 *
 * - no token (`missing`): `Bearer realm="…"` without an error code, as §3.1 asks;
 * - any other 401: `error="invalid_token"` with a fixed description;
 * - `insufficient_scope`: `error="insufficient_scope"` and `scope="…"` listing the missing scopes.
 *
 * `realm` is the protection space, for example `jamey`. Characters RFC 6750 does not allow in a
 * quoted value (`"`, `\` and controls) are dropped.
 */
export function bearerChallenge(error: AuthError, realm: string): string {
  const parts = [`realm="${quotable(realm)}"`];
  if (error.reason === 'insufficient_scope') {
    parts.push('error="insufficient_scope"', `error_description="${AUTH_ERROR_REASONS.insufficient_scope}"`);
    parts.push(`scope="${quotable(error.missingScopes.join(' '))}"`);
  } else if (error.reason !== 'missing') {
    parts.push('error="invalid_token"', `error_description="${AUTH_ERROR_REASONS[error.reason]}"`);
  }
  return `Bearer ${parts.join(', ')}`;
}

// RFC 6750 §3: attribute values are %x20-21 / %x23-5B / %x5D-7E.
function quotable(value: string): string {
  return value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}
