import { TOKEN_TYPES, type TokenType } from '@gatehouse/shared';
import { decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import type { Clock } from '../context.js';
import { randomId } from '../crypto/index.js';
import { AppError, joseFailure } from '../errors/index.js';
import { signCompact } from './jws.js';
import type { Keyring } from './keyring.js';
import { VerifiedTokenCache } from './verified-cache.js';

/** Claims every Gatehouse JWT carries, whatever its type. */
export interface TokenClaims {
  type: TokenType;
  sub: string;
  jti: string;
  /** The user's token version when minted (wire claim `tv`); a bump kills every older token. */
  tokenVersion: number;
  iat: number;
  exp: number;
  sid?: string;
  scope?: string[];
  clientId?: string;
  jkt?: string;
}

export interface MintInput {
  sub: string;
  tokenVersion: number;
  ttlSeconds: number;
  sid?: string;
  scope?: string[];
  clientId?: string;
  jkt?: string;
}

/** Tokens larger than this are refused before any parsing (docs/security-tests.md J16). */
const MAX_TOKEN_BYTES = 8192;
const SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const KID = /^[A-Za-z0-9_-]{1,64}$/;
/** Allowed clock skew for `iat` in the future, in seconds. */
const SKEW = 30;

/**
 * Mints and verifies Gatehouse's own JWTs. Verification is one pipeline for every protected
 * route: size cap, shape, header (alg allowlist, typ of the expected token type, kid in the
 * ring, no embedded or remote keys), then jose's signature and claim checks with required
 * exp/iat/jti/sub, exactly one trusted audience, and iat not in the future. Revocation is
 * checked by the caller (RevocationState) on every request, cached or not.
 */
export class TokenIssuer {
  private readonly cache = new VerifiedTokenCache<{ claims: TokenClaims; kid: string }>();

  constructor(
    private readonly keyring: Keyring,
    private readonly issuer: string,
    private readonly clock: Clock,
    /** Told each token type minted (metrics). */
    private readonly onIssued: (type: TokenType) => void = () => undefined,
  ) {}

  async mint(type: TokenType, input: MintInput): Promise<{ token: string; claims: TokenClaims }> {
    const signing = this.keyring.signingKey();
    const { typ, audience } = TOKEN_TYPES[type];
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const claims: TokenClaims = {
      type,
      sub: input.sub,
      jti: randomId(),
      tokenVersion: input.tokenVersion,
      iat,
      exp: iat + input.ttlSeconds,
    };
    const payload: JWTPayload = { tv: input.tokenVersion };
    if (input.sid) payload.sid = claims.sid = input.sid;
    if (input.scope) {
      claims.scope = input.scope;
      payload.scope = input.scope.join(' ');
    }
    if (input.clientId) payload.client_id = claims.clientId = input.clientId;
    if (input.jkt) {
      claims.jkt = input.jkt;
      payload.cnf = { jkt: input.jkt };
    }
    // Claims in the order jose's SignJWT wrote them; signed with node:crypto (jws.ts).
    const token = signCompact(
      { alg: signing.alg, typ, kid: signing.kid },
      { ...payload, iss: this.issuer, aud: audience, sub: input.sub, jti: claims.jti, iat, exp: claims.exp },
      signing,
    );
    this.onIssued(type);
    return { token, claims };
  }

  /**
   * The claims of a token verified before and still valid, without a promise: undefined when it
   * was not (then `verify`). Throws like `verify` for a cached token of another type or of a key
   * pruned since. The bearer check and the API take a repeated token this way, one async frame
   * fewer (docs/benchmarks.md, "What each change bought").
   */
  verifyCached(token: string, type: TokenType, nowMs = this.clock.now().getTime()): TokenClaims | undefined {
    if (token.length > MAX_TOKEN_BYTES) throw new AppError('TOKEN_INVALID');
    // A cached token is the very string verified before (verified-cache.ts), so its shape was
    // checked then; only a miss pays the pattern's walk over the token.
    const cached = this.cache.get(token, nowMs);
    if (!cached) return undefined;
    // A key pruned since the token was first verified takes its tokens with it (J4).
    if (cached.claims.type !== type || !this.keyring.verificationKey(cached.kid)) throw new AppError('TOKEN_INVALID');
    return cached.claims;
  }

  /** Verifies signature and claims for the expected type; throws a 401 AppError on any failure. */
  async verify(token: string, type: TokenType): Promise<TokenClaims> {
    const nowMs = this.clock.now().getTime();
    const cached = this.verifyCached(token, type, nowMs);
    if (cached) return cached;
    if (!SHAPE.test(token)) throw new AppError('TOKEN_INVALID');
    // We sign JSON.stringify output only: a header or payload that is not exactly that (duplicate
    // keys, which parsers resolve differently, odd spacing or escapes) was not made here (J15).
    const [headerPart = '', payloadPart = ''] = token.split('.');
    if (!isCanonicalJson(headerPart) || !isCanonicalJson(payloadPart)) throw new AppError('TOKEN_INVALID');
    const { typ, audience } = TOKEN_TYPES[type];
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      throw new AppError('TOKEN_INVALID', { cause: error });
    }
    if ('jwk' in header || 'jku' in header || 'x5u' in header || 'x5c' in header) throw new AppError('TOKEN_INVALID');
    if (typeof header.kid !== 'string' || !KID.test(header.kid) || header.typ !== typ) throw new AppError('TOKEN_INVALID');
    const key = this.keyring.verificationKey(header.kid);
    if (!key || header.alg !== key.alg) throw new AppError('TOKEN_INVALID');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        issuer: this.issuer,
        audience,
        typ,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'tv'],
        currentDate: new Date(nowMs),
      }));
    } catch (error) {
      if (joseFailure(error)?.kind === 'expired') throw new AppError('TOKEN_EXPIRED', { cause: error });
      // Any other jose failure, including a TypeError on odd input, is a 401 — never a 500.
      throw new AppError('TOKEN_INVALID', { cause: error });
    }
    const claims = toClaims(type, payload, audience, nowMs);
    this.cache.set(token, { claims, kid: header.kid }, claims.exp * 1000);
    return claims;
  }
}

function isCanonicalJson(segment: string): boolean {
  try {
    const text = Buffer.from(segment, 'base64url').toString('utf8');
    return JSON.stringify(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

function toClaims(type: TokenType, payload: JWTPayload, audience: string, nowMs: number): TokenClaims {
  const { sub, jti, iat, exp, tv, sid, scope, client_id: clientId, cnf } = payload as JWTPayload & Record<string, unknown>;
  // An audience array with any entry besides ours is refused (docs/security-tests.md J8).
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (audiences.length !== 1 || audiences[0] !== audience) throw new AppError('TOKEN_INVALID');
  if (typeof sub !== 'string' || typeof jti !== 'string' || typeof iat !== 'number' || typeof exp !== 'number')
    throw new AppError('TOKEN_INVALID');
  if (!Number.isInteger(tv) || iat > nowMs / 1000 + SKEW) throw new AppError('TOKEN_INVALID');
  const claims: TokenClaims = { type, sub, jti, iat, exp, tokenVersion: tv as number };
  if (sid !== undefined) {
    if (typeof sid !== 'string') throw new AppError('TOKEN_INVALID');
    claims.sid = sid;
  }
  if (scope !== undefined) {
    if (typeof scope !== 'string') throw new AppError('TOKEN_INVALID');
    claims.scope = scope.split(' ').filter(Boolean);
  }
  if (clientId !== undefined) {
    if (typeof clientId !== 'string') throw new AppError('TOKEN_INVALID');
    claims.clientId = clientId;
  }
  if (cnf !== undefined) {
    const jkt = (cnf as { jkt?: unknown } | null)?.jkt;
    if (typeof jkt !== 'string') throw new AppError('TOKEN_INVALID');
    claims.jkt = jkt;
  }
  return claims;
}
