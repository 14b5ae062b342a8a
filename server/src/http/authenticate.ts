import type { Scope } from '@gatehouse/shared';
import { AppError } from '../errors/index.js';
import type { SessionService } from '../sessions/index.js';
import { type Authenticator, hasScope } from '../tokens/index.js';
import { readCookie, SESSION_COOKIE, setHostCookie } from './cookies.js';
import type { CsrfTokens } from './csrf.js';
import { requireSameOrigin } from './origin.js';
import type { AppContext, Step } from './state.js';

/** Authenticates the session cookie, re-issuing it when it is due (sliding idle expiry). */
async function authenticateCookie(ctx: AppContext, sessions: SessionService, token: string): Promise<void> {
  const { principal, refreshed } = await sessions.authenticate(token);
  ctx.state.principal = principal;
  if (refreshed) setHostCookie(ctx, SESSION_COOKIE, refreshed.token, refreshed.maxAgeSeconds);
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
  publicOrigin: string;
}

/**
 * The authentication step of JSON API routes. A bearer credential (`Authorization: Bearer`
 * with an API token) is used when present and is never subject to the origin check; otherwise,
 * when `cookie` is allowed, the session cookie — and then every unsafe request must come from
 * our origin and carry the session's CSRF token (SECURITY.md C1–C6, C11). Credentials in the
 * query string are never read. Exactly one Authorization header is accepted (J17).
 */
export function requireCredential(deps: CredentialDeps, options: { scope: Scope; cookie: boolean }): Step {
  const sameOrigin = requireSameOrigin(deps.publicOrigin);
  const csrf = deps.csrf.require();
  return async (ctx, next) => {
    const authorization = readAuthorization(ctx);
    if (authorization !== null) {
      const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization);
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

/** The Authorization header, or null; two of them (which Node would silently merge or drop) are refused. */
function readAuthorization(ctx: AppContext): string | null {
  let count = 0;
  const raw = ctx.req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === 'authorization') count++;
  if (count > 1) throw unauthenticated('TOKEN_INVALID');
  return count === 1 ? ctx.get('authorization') : null;
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
