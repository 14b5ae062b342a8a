import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { joseFailure } from '../errors/index.js';

/** How old a SET's `iat` may be; its jti is remembered this long plus twice the tolerance. */
export const SET_MAX_AGE_SECONDS = 600;
export const SET_CLOCK_TOLERANCE_SECONDS = 30;

/** The `err` codes of RFC 8935 §2.4 that a refusal answers with. */
export type SetErrorCode = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience' | 'authentication_failed';

/** A SET that must be refused with 400; `reason` is safe to audit (never the token). */
export class SetRejected extends Error {
  /** 400, or 415 for a body that is not `application/secevent+jwt`. */
  readonly status: 400 | 415;

  constructor(
    readonly err: SetErrorCode,
    readonly reason: string,
    options?: { cause?: unknown; status?: 415 },
  ) {
    super(`security event token rejected: ${reason}`, options);
    this.name = 'SetRejected';
    this.status = options?.status ?? 400;
  }
}

export interface VerifiedSet {
  jti: string;
  /** The one event of the SET: its type URI and its payload. */
  eventType: string;
  event: Record<string, unknown>;
  payload: JWTPayload;
}

/**
 * Validates a Security Event Token (RFC 8417) as the OpenID Shared Signals Framework asks:
 * signed by the transmitter (asymmetric algs only), `typ` secevent+jwt, `iss` exactly the
 * transmitter's, `aud` ours and nobody else's, `iat` recent and not in the future, a `jti`, and
 * an `events` object holding exactly one event whose payload is an object. No `exp` is required
 * (RFC 8417 has none), but one that is present is honoured. A SET must never be usable as an
 * ID or logout token and vice versa: the `typ` and the forbidden `nonce` keep them apart.
 * Errors other than SetRejected (a JWKS that can't be fetched) mean the transmitter is
 * unavailable, not that the token is bad.
 */
export async function verifySecurityEventToken(
  token: string,
  expected: { issuer: string; audience: string; keys: JWTVerifyGetKey; now: Date },
): Promise<VerifiedSet> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, expected.keys, {
      issuer: expected.issuer,
      audience: expected.audience,
      typ: 'secevent+jwt',
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'],
      requiredClaims: ['iat', 'jti'],
      maxTokenAge: SET_MAX_AGE_SECONDS,
      clockTolerance: SET_CLOCK_TOLERANCE_SECONDS,
      currentDate: expected.now,
    }));
  } catch (error) {
    throw translateJoseError(error);
  }
  if (Array.isArray(payload.aud) && payload.aud.some((aud) => aud !== expected.audience)) {
    throw new SetRejected('invalid_audience', 'aud');
  }
  if (typeof payload.iat !== 'number' || payload.iat * 1000 > expected.now.getTime() + SET_CLOCK_TOLERANCE_SECONDS * 1000) {
    throw new SetRejected('invalid_request', 'iat');
  }
  if ('nonce' in payload) throw new SetRejected('invalid_request', 'nonce');
  const jti = typeof payload.jti === 'string' && payload.jti.length > 0 && payload.jti.length <= 255 ? payload.jti : null;
  if (!jti) throw new SetRejected('invalid_request', 'jti');
  const events = payload.events as unknown;
  if (!isObject(events)) throw new SetRejected('invalid_request', 'events');
  const entries = Object.entries(events);
  const [first] = entries;
  if (entries.length !== 1 || !first || !isObject(first[1])) throw new SetRejected('invalid_request', 'events');
  return { jti, eventType: first[0], event: first[1], payload };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** jose's errors about the token (errors/jose.ts) → a refusal with an RFC 8935 code; anything else is left as is. */
function translateJoseError(error: unknown): unknown {
  const failure = joseFailure(error);
  if (!failure) return error;
  switch (failure.kind) {
    case 'expired':
      return new SetRejected('invalid_request', 'expired', { cause: error });
    case 'claim': {
      if (failure.claim === 'iss') return new SetRejected('invalid_issuer', 'iss', { cause: error });
      if (failure.claim === 'aud') return new SetRejected('invalid_audience', 'aud', { cause: error });
      const claim = ['iat', 'jti', 'typ'].includes(failure.claim) ? failure.claim : 'claims';
      return new SetRejected('invalid_request', claim, { cause: error });
    }
    case 'signature':
      return new SetRejected('invalid_key', 'signature', { cause: error });
    case 'alg':
      return new SetRejected('invalid_key', 'alg', { cause: error });
    case 'malformed':
      return new SetRejected('invalid_request', 'malformed', { cause: error });
  }
}
