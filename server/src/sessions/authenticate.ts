import type { Scope } from '@gatehouse/shared';
import { AppError } from '../errors/index.js';
import {
  type AppContext,
  type CsrfTokens,
  clearHostCookie,
  IMPERSONATION_COOKIE,
  rawHeaderValues,
  readCookie,
  requireSameOrigin,
  SESSION_COOKIE,
  type Step,
  setHostCookie,
} from '../http/index.js';
import { type Authenticator, type DpopVerifier, hasScope, type Principal } from '../tokens/index.js';
import type { User, UserStore } from '../users/index.js';
import type { ImpersonatedView, SessionService } from './service.js';

declare module '../http/state.js' {
  interface AppState {
    /** Who the request acts for, once a credential was verified. */
    principal?: Principal;
    /** Set during an admin's support view: the banner every page shows (docs/impersonation.md). */
    impersonation?: ImpersonatedView['banner'];
    /** The principal's user record, on routes that need more than the ids. */
    user?: User;
  }
}

/**
 * Authenticates the session cookie, re-issuing it when it is due (sliding idle expiry). With an
 * impersonation cookie of this session's admin, the request is viewed as that person instead,
 * read-only: every unsafe method is refused here, the one door of every cookie request, so no
 * route can change anything in a support view (docs/impersonation.md).
 */
async function authenticateCookie(ctx: AppContext, sessions: SessionService, token: string): Promise<void> {
  const { principal, refreshed } = await sessions.authenticate(token);
  ctx.state.principal = principal;
  if (refreshed) setHostCookie(ctx, SESSION_COOKIE, refreshed.token, refreshed.maxAgeSeconds);
  const impersonation = readCookie(ctx, IMPERSONATION_COOKIE);
  if (!impersonation || !sessions.impersonation) return;
  const view = await sessions.impersonation.resolve(impersonation, principal);
  if (!view) {
    clearHostCookie(ctx, IMPERSONATION_COOKIE);
    return;
  }
  ctx.state.impersonation = view.banner;
  if (!['GET', 'HEAD'].includes(ctx.method)) throw new AppError('IMPERSONATION_READ_ONLY');
  ctx.state.principal = view.principal;
}

/** Requires a valid browser session cookie (pages and page forms). */
export function requireSession(sessions: SessionService): Step {
  return async (ctx, next) => {
    const token = readCookie(ctx, SESSION_COOKIE);
    if (!token) throw new AppError('UNAUTHENTICATED');
    await authenticateCookie(ctx, sessions, token);
    await next();
  };
}

/** Like requireSession, but a missing or dead cookie just means "signed out". */
export function optionalSession(sessions: SessionService): Step {
  return async (ctx, next) => {
    const token = readCookie(ctx, SESSION_COOKIE);
    if (token) {
      try {
        await authenticateCookie(ctx, sessions, token);
      } catch (error) {
        if (!(error instanceof AppError) || error.status >= 500) throw error;
      }
    }
    await next();
  };
}

export interface CredentialDeps {
  sessions: SessionService;
  authenticator: Authenticator;
  csrf: CsrfTokens;
  dpop: DpopVerifier;
  publicOrigin: string;
}

/**
 * The authentication step of JSON API routes. A bearer credential (`Authorization: Bearer`
 * with an API token) is used when present and is never subject to the origin check; otherwise,
 * when `cookie` is allowed, the session cookie — and then every unsafe request must come from
 * our origin and carry the session's CSRF token (docs/security-tests.md C1–C6, C11). Credentials in the
 * query string are never read. Exactly one Authorization header is accepted (J17).
 */
export function requireCredential(deps: CredentialDeps, options: { scope: Scope; cookie: boolean }): Step {
  const sameOrigin = requireSameOrigin(deps.publicOrigin);
  const csrf = deps.csrf.require();
  return async (ctx, next) => {
    const authorization = readAuthorization(ctx);
    const dpop = authorization === null ? null : /^DPoP ([A-Za-z0-9._-]+)$/i.exec(authorization);
    if (dpop?.[1]) {
      ctx.state.principal = await authenticateDpop(ctx, deps, dpop[1]);
    } else if (authorization !== null) {
      // A DPoP-bound access token sent as Bearer fails here: it is not an API token (P11).
      const match = /^Bearer ([A-Za-z0-9._-]+)$/i.exec(authorization);
      if (!match?.[1]) throw unauthenticated('TOKEN_INVALID');
      ctx.state.principal = await deps.authenticator.authenticate(match[1], 'api').catch((error: unknown) => {
        throw withChallenge(error);
      });
    } else {
      const cookie = options.cookie ? readCookie(ctx, SESSION_COOKIE) : null;
      if (!cookie) throw unauthenticated('UNAUTHENTICATED');
      await authenticateCookie(ctx, deps.sessions, cookie);
      await sameOrigin(ctx, async () => undefined);
      await csrf(ctx, async () => undefined);
    }
    const principal = ctx.state.principal;
    if (!principal || !hasScope(principal, options.scope))
      throw new AppError('INSUFFICIENT_SCOPE', {
        headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${options.scope}"` },
      });
    await next();
  };
}

/**
 * A paired client's request (RFC 9449 §7): its access token, then a proof over this method and
 * URL, carrying the token's hash (`ath`), signed by the key the token is bound to (`cnf.jkt`).
 */
async function authenticateDpop(ctx: AppContext, deps: CredentialDeps, token: string): Promise<Principal> {
  const challenge = (error: string) => ({ headers: { 'WWW-Authenticate': `DPoP algs="ES256", error="${error}"` } });
  const proof = {
    proofs: rawHeaderValues(ctx, 'dpop'),
    htm: ctx.method,
    htu: `${deps.publicOrigin}${ctx.path}`,
    accessToken: token,
    requireNonce: false,
  };
  try {
    return await deps.authenticator.authenticate(token, 'access', async (claims) => {
      const { jkt, replayKey } = await deps.dpop.verifyProof(proof);
      if (jkt !== claims.jkt) throw new AppError('DPOP_PROOF_INVALID', { cause: new Error('proof by another key') });
      return replayKey;
    });
  } catch (error) {
    if (error instanceof AppError && error.code === 'DPOP_PROOF_INVALID')
      throw new AppError('TOKEN_INVALID', { cause: error, ...challenge('invalid_dpop_proof') });
    if (error instanceof AppError && error.status === 401) throw new AppError(error.code, { cause: error, ...challenge('invalid_token') });
    throw error;
  }
}

/** The Authorization header, or null; two of them (which Node would silently merge or drop) are refused. */
function readAuthorization(ctx: AppContext): string | null {
  const values = rawHeaderValues(ctx, 'authorization');
  if (values.length > 1) throw unauthenticated('TOKEN_INVALID');
  return values.length === 1 ? ctx.get('authorization') : null;
}

function unauthenticated(code: 'TOKEN_INVALID' | 'UNAUTHENTICATED'): AppError {
  return new AppError(code, { headers: { 'WWW-Authenticate': code === 'UNAUTHENTICATED' ? 'Bearer' : 'Bearer error="invalid_token"' } });
}

function withChallenge(error: unknown): unknown {
  if (error instanceof AppError && error.status === 401) {
    return new AppError(error.code, { cause: error.cause, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
  }
  return error;
}

/**
 * Puts the principal's user record on the request, for routes declared with `user: true`. A
 * credential whose account no longer exists is TOKEN_INVALID (docs/security-tests.md J13).
 */
export function loadUser(users: UserStore): Step {
  return async (ctx, next) => {
    const user = ctx.state.principal && (await users.findById(ctx.state.principal.userId));
    if (!user) throw new AppError('TOKEN_INVALID');
    ctx.state.user = user;
    await next();
  };
}
