import { dependencyUnavailable, type JameyError } from '@jamey/core';
import { errors } from 'jose';
import { AuthError } from './errors.js';

/**
 * Translates what `jwtVerify` threw into Jamey's typed errors. The jose error is not kept as a
 * cause: some carry the token's payload, which must never reach a log.
 *
 * A key set that cannot be fetched is not the caller's fault: it becomes
 * `DEPENDENCY_UNAVAILABLE` (503), naming `dependency`. Anything unrecognised is returned as it is.
 */
export function translateVerifyError(error: unknown, dependency: string): JameyError | unknown {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new AuthError('expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'check_failed') {
      if (error.claim === 'nbf') return new AuthError('not_yet_valid');
      if (error.claim === 'iss') return new AuthError('wrong_issuer');
      if (error.claim === 'aud') return new AuthError('wrong_audience');
    }
    return new AuthError('invalid_claims');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new AuthError('alg_not_allowed');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthError('bad_signature');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError('unknown_kid');
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return new AuthError('malformed');
  // An "alg" jose does not implement at all, or a "crit" header it cannot honour.
  if (error instanceof errors.JOSENotSupported) return new AuthError('alg_not_allowed');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error instanceof errors.JOSEError) {
    return dependencyUnavailable(dependency);
  }
  // fetch failures (connection refused, DNS) while loading a remote key set.
  if (error instanceof TypeError && (error as { cause?: unknown }).cause !== undefined) {
    return dependencyUnavailable(dependency);
  }
  // Anything else is a bug: it stays as it is, so the edge answers 500 and logs it in full.
  return error;
}
