import { TOKEN_TYPES, type TokenType, tokenRequestSchema } from '@gatehouse/shared';
import Router from '@koa/router';
import { AppError } from '../errors/index.js';
import { type AppState, oauthErrors, route } from '../http/index.js';
import type { Authenticator, Principal } from './authenticator.js';
import type { Keyring } from './keyring.js';
import { authenticateResourceServer, type ResourceServer } from './resource-servers.js';
import type { RevocationState } from './revocation.js';

export interface TokenRouteDeps {
  keyring: Keyring;
  authenticator: Authenticator;
  revocation: RevocationState;
  resourceServers: readonly ResourceServer[];
  issuer: string;
  bodyLimit: number;
  /** Revokes the session behind an API token (RFC 7009 on an API token ends it for good). */
  revokeSession(sessionId: string, userId: string): Promise<unknown>;
  /** Revokes the pairing behind a paired client's refresh token (opaque, not a JWT). */
  revokeRefreshToken(token: string, clientId: string | undefined): Promise<unknown>;
}

/** Token types a resource server may introspect or a holder may revoke; never a browser session cookie. */
const BEARER_TYPES: TokenType[] = ['api', 'access'];

/** JWKS (RFC 7517), introspection (RFC 7662) and revocation (RFC 7009). */
export function tokenRoutes(deps: TokenRouteDeps) {
  const router = new Router<AppState>();
  const form = { schema: tokenRequestSchema, kind: 'form', limit: deps.bodyLimit } as const;

  route(router, { method: 'get', path: '/.well-known/jwks.json', summary: 'The public signing keys (RFC 7517).' }, (_input, ctx) => {
    ctx.set('Cache-Control', 'public, max-age=60');
    return deps.keyring.jwks();
  });

  route(
    router,
    {
      method: 'post',
      path: '/oauth/introspect',
      summary: 'Token introspection for resource servers (RFC 7662).',
      auth: { kind: 'resource-server' },
      body: form,
    },
    oauthErrors,
    authenticateResourceServer(deps.resourceServers),
    async ({ body: { token } }, ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const principal = await authenticateAny(deps.authenticator, token);
      return principal ? describe(principal, deps.issuer) : { active: false };
    },
  );

  route(
    router,
    { method: 'post', path: '/oauth/revoke', summary: 'Revoke a token (RFC 7009); 200 whatever the token.', body: form },
    oauthErrors,
    async ({ body: { token, client_id: clientId } }, ctx) => {
      // RFC 7009: the answer is 200 whether or not the token was valid, so it reveals nothing.
      const principal = token.includes('.') ? await authenticateAny(deps.authenticator, token) : null;
      if (!token.includes('.')) await deps.revokeRefreshToken(token, clientId);
      if (principal) {
        await deps.revocation.denyToken(principal.claims.jti, new Date(principal.claims.exp * 1000));
        if (principal.type === 'api' && principal.sessionId) await deps.revokeSession(principal.sessionId, principal.userId);
      }
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 200;
      return '';
    },
  );

  return router;
}

async function authenticateAny(authenticator: Authenticator, token: string): Promise<Principal | null> {
  for (const type of BEARER_TYPES) {
    try {
      return await authenticator.authenticate(token, type);
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
    }
  }
  return null;
}

function describe(principal: Principal, issuer: string) {
  const { claims } = principal;
  return {
    active: true,
    sub: claims.sub,
    scope: (claims.scope ?? []).join(' '),
    client_id: claims.clientId ?? 'gatehouse',
    token_type: principal.type === 'access' ? 'DPoP' : 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    iss: issuer,
    aud: TOKEN_TYPES[principal.type].audience,
    jti: claims.jti,
    ...(claims.sid ? { sid: claims.sid } : {}),
    ...(claims.jkt ? { cnf: { jkt: claims.jkt } } : {}),
  };
}
