import { TOKEN_TYPES } from '@gatehouse/shared';
import { errors, jwtVerify, SignJWT } from 'jose';
import { deriveKey, randomId } from '../crypto/index.js';
import { AppError } from '../errors/index.js';

/** The claims of a browser session token, as carried in the session cookie. */
export interface SessionClaims {
  sub: string;
  sid: string;
  jti: string;
  tv: number;
  exp: number;
}

const { typ, audience } = TOKEN_TYPES.session;
const MAX_TOKEN_LENGTH = 4096;

/**
 * Mints and verifies the browser session token: a JWT with its own `typ` and audience, bound
 * to a session record by `sid` and to the user's tokenVersion by `tv`. Signed with a key
 * derived from the master key; the keyring of issue #4 replaces that key without changing the
 * claims.
 */
export class SessionTokens {
  private readonly key: Uint8Array;

  constructor(
    masterKey: Buffer,
    private readonly issuer: string,
  ) {
    this.key = deriveKey(masterKey, 'session-token');
  }

  mint(input: { userId: string; sessionId: string; tokenVersion: number; expiresAt: Date; now: Date }): Promise<string> {
    return new SignJWT({ sid: input.sessionId, tv: input.tokenVersion })
      .setProtectedHeader({ alg: 'HS256', typ })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setSubject(input.userId)
      .setJti(randomId())
      .setIssuedAt(Math.floor(input.now.getTime() / 1000))
      .setExpirationTime(Math.floor(input.expiresAt.getTime() / 1000))
      .sign(this.key);
  }

  async verify(token: string, now: Date): Promise<SessionClaims> {
    if (token.length > MAX_TOKEN_LENGTH) throw new AppError('TOKEN_INVALID');
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: this.issuer,
        audience,
        typ,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'sid', 'tv'],
        currentDate: now,
      });
      const { sub, sid, jti, tv, exp } = payload;
      if (typeof sid !== 'string' || typeof tv !== 'number' || !sub || !jti || !exp) {
        throw new AppError('TOKEN_INVALID');
      }
      return { sub, sid, jti, tv, exp };
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof errors.JWTExpired) throw new AppError('TOKEN_EXPIRED', { cause: error });
      // Whatever jose throws (bad signature, malformed, a TypeError on odd input) is a 401.
      throw new AppError('TOKEN_INVALID', { cause: error });
    }
  }
}
