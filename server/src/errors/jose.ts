import { errors } from 'jose';

/** What was wrong with a token, from jose's error, in words every verifier maps to its own answer. */
export type JoseFailure =
  | { kind: 'expired' }
  | { kind: 'claim'; claim: string; reason: string }
  | { kind: 'signature' }
  | { kind: 'alg' }
  | { kind: 'malformed' };

/**
 * The one translation of jose's errors. Errors about the token itself become a failure; anything
 * else — a JWKS that timed out or answered garbage (a plain JOSEError or JWKSInvalid), a bug —
 * is null, so the caller can tell "this token is bad" (refuse it) from "we could not check"
 * (503, the sender retries).
 */
export function joseFailure(error: unknown): JoseFailure | null {
  if (error instanceof errors.JWTExpired) return { kind: 'expired' };
  if (error instanceof errors.JWTClaimValidationFailed) return { kind: 'claim', claim: error.claim, reason: error.reason };
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) return { kind: 'signature' };
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return { kind: 'alg' };
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JWKSMultipleMatchingKeys) {
    return { kind: 'malformed' };
  }
  return null;
}
