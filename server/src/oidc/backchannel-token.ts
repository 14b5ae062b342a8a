import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { joseFailure } from '../errors/index.js';

/** The event a logout token must carry (OpenID Connect Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** How old a logout token's `iat` may be; its jti is remembered this long plus the tolerance. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 300;
export const LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;

export interface LogoutClaims {
  jti: string;
  sid: string | null;
  sub: string | null;
}

/** A logout token that must be refused with 400; `reason` is safe to audit (never the token). */
export class LogoutTokenRejected extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`logout token rejected: ${reason}`, options);
    this.name = 'LogoutTokenRejected';
  }
}

/**
 * Validates a logout token as §2.6 of the spec asks: signed by the provider (asymmetric algs
 * only, so neither `none` nor an HMAC keyed with something public passes), `iss` exactly the
 * provider's issuer, `aud` exactly our client id, `iat` present and recent, `typ` logout+jwt
 * when present, the back-channel logout event, no `nonce` (an ID token must never be usable as
 * a logout token), a `jti`, and `sid` or `sub`. Errors other than LogoutTokenRejected (a JWKS
 * that can't be fetched) mean the provider is unavailable, not that the token is bad.
 */
export async function verifyLogoutToken(
  token: string,
  expected: { issuer: string; clientId: string; keys: JWTVerifyGetKey; now: Date },
): Promise<LogoutClaims> {
  let payload: JWTPayload;
  let typ: string | undefined;
  try {
    ({
      payload,
      protectedHeader: { typ },
    } = await jwtVerify(token, expected.keys, {
      issuer: expected.issuer,
      audience: expected.clientId,
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'],
      requiredClaims: ['iat', 'jti'],
      maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
      clockTolerance: LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS,
      currentDate: expected.now,
    }));
  } catch (error) {
    throw translateJoseError(error);
  }
  // Explicit typing is only RECOMMENDED; several providers send `JWT`. What keeps an ID token
  // from passing as a logout token is the required event and the forbidden nonce below.
  const type = typ?.toLowerCase().replace(/^application\//, '');
  if (type !== undefined && type !== 'logout+jwt' && type !== 'jwt') throw new LogoutTokenRejected('typ');
  return checkLogoutClaims(payload, expected.clientId, expected.now);
}

/** The claims jose doesn't know about; also refuses an `aud` array naming anyone besides us. */
function checkLogoutClaims(payload: JWTPayload, clientId: string, now: Date): LogoutClaims {
  if (Array.isArray(payload.aud) && payload.aud.some((aud) => aud !== clientId)) throw new LogoutTokenRejected('aud');
  if (typeof payload.iat !== 'number' || payload.iat * 1000 > now.getTime() + LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS * 1000) {
    throw new LogoutTokenRejected('iat');
  }
  const events = payload.events as unknown;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) throw new LogoutTokenRejected('events');
  const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new LogoutTokenRejected('events');
  if ('nonce' in payload) throw new LogoutTokenRejected('nonce');
  const jti = boundedString(payload.jti);
  if (!jti) throw new LogoutTokenRejected('jti');
  const sid = payload.sid === undefined ? null : boundedString(payload.sid);
  const sub = payload.sub === undefined ? null : boundedString(payload.sub);
  if ((payload.sid !== undefined && !sid) || (payload.sub !== undefined && !sub)) throw new LogoutTokenRejected('subject');
  if (!sid && !sub) throw new LogoutTokenRejected('no_sid_or_sub');
  return { jti, sid, sub };
}

function boundedString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= 255 ? value : null;
}

/**
 * jose's errors about the token → a refusal with a stable reason. Anything else (the JWKS
 * timing out, answering non-200 or garbage — a plain JOSEError or JWKSInvalid) is about the
 * provider, left as it is for the caller to turn into 503 so that the provider retries.
 */
function translateJoseError(error: unknown): unknown {
  const failure = joseFailure(error);
  if (!failure) return error;
  return new LogoutTokenRejected(failure.kind === 'claim' ? claimReason(failure) : failure.kind, { cause: error });
}

function claimReason(failure: { claim: string; reason: string }): string {
  if (failure.claim === 'iat' && failure.reason === 'check_failed') return 'iat';
  return ['iss', 'aud', 'iat', 'jti', 'typ'].includes(failure.claim) ? failure.claim : 'claims';
}
