import type { Scope, TokenType } from '@gatehouse/shared';
import type { TokenClaims, TokenIssuer } from './jwt.js';
import type { OnceKey, RevocationState } from './revocation.js';

/** Who a request acts for, once its credential has been verified and found unrevoked. */
export interface Principal {
  type: TokenType;
  userId: string;
  /** The session (browser, API token or paired extension) the credential belongs to. */
  sessionId: string | null;
  /** Scopes the credential carries; a browser session acts with the full rights of its user. */
  scopes: readonly Scope[] | 'all';
  claims: TokenClaims;
}

/**
 * The one door for credentials: signature and claims (TokenIssuer, cached for repeated tokens)
 * and then, on every request, the revocation state — one Redis round trip, no MongoDB.
 */
export class Authenticator {
  constructor(
    private readonly issuer: TokenIssuer,
    private readonly revocation: RevocationState,
  ) {}

  /**
   * `bind` checks what binds the token to this request (a DPoP proof) once the token itself is
   * verified, and may name a key to claim once in the same revocation round trip (the proof's jti).
   */
  async authenticate(token: string, type: TokenType, bind?: (claims: TokenClaims) => Promise<OnceKey>): Promise<Principal> {
    const claims = this.issuer.verifyCached(token, type) ?? (await this.issuer.verify(token, type));
    const once = bind ? await bind(claims) : undefined;
    await this.revocation.check({ userId: claims.sub, jti: claims.jti, tokenVersion: claims.tokenVersion, sid: claims.sid, once });
    return {
      type,
      userId: claims.sub,
      sessionId: claims.sid ?? null,
      scopes: type === 'session' ? 'all' : ((claims.scope ?? []) as Scope[]),
      claims,
    };
  }
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes === 'all' || principal.scopes.includes(scope);
}
